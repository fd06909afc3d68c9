//! `mhactl rotate-certs` (issue 19): new node certificates from the cluster's own CA,
//! installed and loaded by the running servers (`FLUSH LOCAL SSL` / `ALTER INSTANCE RELOAD
//! TLS`): no restart, the VIP stays where it is, connected replicas keep their
//! connection and verify the new certificate at their next one (the CA is the same).
//!
//! The old certificate files on the control host are kept beside the new ones
//! (`<node>.pem.replaced-<unix time>`). A failed run is finished by running it (or
//! bootstrap) again: the new certificates are already saved.

use crate::error::UsageError;
use crate::global::GlobalArgs;
use crate::inventory::TlsSource;
use anyhow::{Context, Result};
use std::process::ExitCode;

/// `mhactl rotate-certs` flags.
#[derive(Debug, clap::Args)]
pub struct RotateCertsArgs {
    /// Inventory file (same as the global `-i`).
    pub inventory_file: Option<std::path::PathBuf>,
}

/// Run `mhactl rotate-certs`.
pub fn run(args: &RotateCertsArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let path = args
        .inventory_file
        .clone()
        .unwrap_or_else(|| global.inventory.clone());
    let inv = crate::session::load(&path)?;
    let dir =
        match inv.tls_source() {
            None => {
                return Err(UsageError(
                    "tls.enabled is false: there is no certificate to rotate".into(),
                )
                .into())
            }
            Some(TlsSource::Own { .. }) => return Err(UsageError(
                "the certificates come from your PKI (tls.ca_cert, tls.nodes): replace the files \
                 they name and run `mhactl bootstrap`, which installs them and has the servers \
                 load them without a restart"
                    .into(),
            )
            .into()),
            Some(TlsSource::Managed(dir)) => dir,
        };
    let secrets = crate::session::resolve_secrets(&inv)?;
    crate::bootstrap::run_steps(
        crate::bootstrap::StepsRun {
            command: "rotate-certs",
            dry_run: false,
            diffs: false,
            check: false,
            limit: None,
            reads_before: None,
        },
        inv,
        secrets,
        global,
        |cluster, inv| {
            preflight(cluster, inv)?;
            set_aside(inv, &dir)
        },
        crate::bootstrap::steps::certificate_rotation,
    )
}

/// Refused before anything changes unless both servers already run mhactl's certificate:
/// only then do they load new files online (otherwise bootstrap has a restart to do).
fn preflight(cluster: &crate::engine::Cluster, inv: &crate::inventory::Inventory) -> Result<()> {
    for node in &cluster.nodes {
        let (os, _) = crate::facts::os_target(node, inv.mysql.flavor)?;
        let want = crate::os::tls::tls_path(&os, crate::os::tls::CERT_FILE);
        let running = crate::facts::variable(node, "ssl_cert")?.unwrap_or_default();
        if running != want {
            anyhow::bail!(
                "{}: rotate-certs: the server runs with ssl_cert {running:?}, not {want}: the \
                 pair is not on mhactl's TLS yet; run `mhactl bootstrap` first (nothing was \
                 changed)",
                node.name
            );
        }
    }
    Ok(())
}

/// Moves the node certificates and keys in `dir` aside, so that the next load makes new
/// ones from the same CA.
fn set_aside(inv: &crate::inventory::Inventory, dir: &std::path::Path) -> Result<()> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    for n in &inv.nodes {
        for name in [format!("{}.pem", n.name), format!("{}-key.pem", n.name)] {
            let from = dir.join(&name);
            if from.exists() {
                let to = dir.join(format!("{name}.replaced-{stamp}"));
                std::fs::rename(&from, &to).with_context(|| {
                    format!("rotate-certs: cannot move {} aside", from.display())
                })?;
            }
        }
    }
    Ok(())
}
