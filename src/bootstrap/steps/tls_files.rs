//! Step `tls-files` (issue 19): the cluster's CA, the node's certificate and key in the
//! node's TLS directory (`os::tls`), owned by the server's user (key 0600), before
//! `server-config` names them in the option file. The first run also saves mhactl's own
//! CA and certificates on the control host (`tls.dir`). Compared by SHA-256, owner and
//! mode: the key is never read back nor shown.

use super::shared::Ctx;
use crate::engine::{Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::tls::{self as os_tls, CA_FILE, CERT_FILE, KEY_FILE, OWNER};
use crate::transport::RemoteCommand;
use anyhow::Result;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The `tls-files` step.
pub(super) struct TlsFiles(pub(super) Arc<Ctx>);

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Operation for TlsFiles {
    fn name(&self) -> &'static str {
        "tls-files"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let Some(pki) = self.0.pki()? else {
            return Ok(Plan::Noop(
                "TLS for replication is off (tls.enabled: false)".into(),
            ));
        };
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let dir = os_tls::tls_dir(&target);
        let state = facts::tls::tls_files(node, dir)?;
        let wanted = [
            (CA_FILE, pki.ca_pem.clone()),
            (CERT_FILE, pki.nodes[i].cert_pem.clone()),
            (KEY_FILE, pki.nodes[i].key_pem.expose_secret().to_string()),
        ];
        let dir_ok = state
            .get(".")
            .is_some_and(|d| d.owner == OWNER && d.mode == os_tls::DIR_MODE);
        let mut content_changed = Vec::new();
        let mut modes_ok = true;
        for (name, content) in &wanted {
            match state.get(*name) {
                Some(f) if f.sha256 == sha256_hex(content) => {
                    modes_ok &= f.owner == OWNER && f.mode == os_tls::file_mode(name);
                }
                _ => content_changed.push(*name),
            }
        }
        let unsaved = pki.unsaved_paths();
        if dir_ok && modes_ok && content_changed.is_empty() && unsaved.is_empty() {
            return Ok(Plan::Noop(format!(
                "{dir}: the cluster CA, {}'s certificate and key, owned by {OWNER}",
                node.name
            )));
        }
        let mut actions = Vec::new();
        let mut what = Vec::new();
        if !unsaved.is_empty() {
            let pki = pki.clone();
            what.push(format!("save on the control host: {}", unsaved.join(", ")));
            actions.push(Action::Custom(
                format!("save {} on the control host", unsaved.join(", ")),
                Box::new(move |_: &Cluster, _| pki.save()),
            ));
        }
        if dir_ok && modes_ok && content_changed.is_empty() {
            // Only the control host's files were missing (e.g. the peer's new certificate).
            return Ok(Plan::Change(Change {
                summary: what.join(", "),
                actions,
                diff: None,
            }));
        }
        actions.push(Action::Run(RemoteCommand::new(
            os_tls::prepare_dir_command(dir),
        )));
        for (name, content) in wanted {
            if content_changed.contains(&name) {
                actions.push(Action::WriteFile {
                    path: format!("{dir}/{name}").into(),
                    content,
                    // The key is never readable by anyone but its owner, not even briefly.
                    mode: if name == KEY_FILE { 0o600 } else { 0o644 },
                });
            }
        }
        actions.push(Action::Run(RemoteCommand::new(
            os_tls::secure_files_command(dir),
        )));
        if content_changed.is_empty() {
            what.push(format!("owner {OWNER} and modes of {dir}"));
        } else {
            what.push(format!(
                "write {} in {dir} (owner {OWNER})",
                content_changed.join(", ")
            ));
            // A server already using these files reads them again now (new certificates
            // take effect without a restart); one that does not yet gets them from
            // server-config.
            let cert_path = os_tls::tls_path(&target, CERT_FILE);
            let d = facts::dialect(node)?;
            if facts::variable(node, "ssl_cert")?.as_deref() == Some(cert_path.as_str()) {
                if let Some(sql) = d.reload_tls_sql() {
                    what.push(format!("{sql} (the server reads them again)"));
                    actions.push(Action::Sql(vec![sql]));
                }
            }
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: None,
        }))
    }
}
