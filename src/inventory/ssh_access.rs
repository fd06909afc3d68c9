//! The inventory's ssh fields that fit a site's own ssh habits: `ssh.host` (connect by a
//! name or an ssh config alias instead of the node's `address`), `ssh.config_file`
//! (`ssh -F`), and a non-root user's sudo password given by reference
//! (`ssh.become_password_env` / `ssh.become_password_file`). This file validates them
//! and resolves the sudo password; the transport uses them (`transport::privilege`).

use super::credentials::CredentialRef;
use super::{Inventory, SshSettings};
use crate::error::UsageError;
use anyhow::Result;
use secrecy::SecretString;

// Here rather than in mod.rs, which holds the types: mod.rs stays under 600 lines.
impl SshSettings {
    /// `self` with every unset field taken from `fallback`.
    pub fn merged_over(&self, fallback: &SshSettings) -> SshSettings {
        SshSettings {
            user: self.user.clone().or_else(|| fallback.user.clone()),
            port: self.port.or(fallback.port),
            host: self.host.clone().or_else(|| fallback.host.clone()),
            config_file: self
                .config_file
                .clone()
                .or_else(|| fallback.config_file.clone()),
            become_password_env: self
                .become_password_env
                .clone()
                .or_else(|| fallback.become_password_env.clone()),
            become_password_file: self
                .become_password_file
                .clone()
                .or_else(|| fallback.become_password_file.clone()),
            identity_file: self
                .identity_file
                .clone()
                .or_else(|| fallback.identity_file.clone()),
            known_hosts: self
                .known_hosts
                .clone()
                .or_else(|| fallback.known_hosts.clone()),
            host_key_check: self.host_key_check.or(fallback.host_key_check),
            connect_timeout_s: self.connect_timeout_s.or(fallback.connect_timeout_s),
            persist_s: self.persist_s.or(fallback.persist_s),
        }
    }
}

/// Every problem with the ssh fields this file owns, as (field, message). `top` is true
/// for the inventory-wide `ssh` section (where a `host` would send both nodes to one
/// machine).
pub(crate) fn check_ssh_access(field: &str, s: &SshSettings, top: bool) -> Vec<(String, String)> {
    let mut p = Vec::new();
    if let Some(h) = &s.host {
        if top {
            p.push((
                format!("{field}.host"),
                "the host ssh connects to is per node: set it as nodes[i].ssh.host".into(),
            ));
        } else if let Some(msg) = host_problem(h) {
            p.push((format!("{field}.host"), msg));
        }
    }
    if let Some(c) = &s.config_file {
        let text = c.to_string_lossy();
        if text.is_empty() {
            p.push((format!("{field}.config_file"), "must not be empty".into()));
        } else if text.chars().any(char::is_control) {
            p.push((
                format!("{field}.config_file"),
                format!("{text:?} contains a control character"),
            ));
        }
    }
    if let Some(e) = &s.become_password_env {
        if e.is_empty() || e.contains('=') || e.contains('\0') {
            p.push((
                format!("{field}.become_password_env"),
                format!("{e:?} is not an environment variable name"),
            ));
        }
    }
    if let Some(f) = &s.become_password_file {
        let path = f.rsplit_once('#').map_or(f.as_str(), |(path, _)| path);
        if path.is_empty() {
            p.push((
                format!("{field}.become_password_file"),
                "the path is empty".into(),
            ));
        }
    }
    if s.become_password_env.is_some() && s.become_password_file.is_some() {
        p.push((
            format!("{field}.become_password_file"),
            "become_password_env and become_password_file are both given; use exactly one".into(),
        ));
    }
    if s.user.as_deref() == Some("root")
        && (s.become_password_env.is_some() || s.become_password_file.is_some())
    {
        p.push((
            format!("{field}.user"),
            "root needs no sudo password: remove become_password_env/become_password_file, \
             or set the non-root user that uses it"
                .into(),
        ));
    }
    p
}

/// Why `h` cannot be the host ssh connects to, if it cannot: ssh reads a leading `-` as
/// an option, and spaces, `@` (a user) or control characters change what it means.
fn host_problem(h: &str) -> Option<String> {
    if h.is_empty() {
        return Some("must not be empty".into());
    }
    if h.starts_with('-') {
        return Some(format!(
            "{h:?} starts with `-`, which ssh would read as an option"
        ));
    }
    if h.len() > 253 {
        return Some(format!("{h:?} is longer than 253 characters"));
    }
    if let Some(c) = h
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "@'\"`$\\;|&<>()[]{}*?!#%,/".contains(*c))
    {
        return Some(format!(
            "{h:?} contains {}: give a host name, an ssh config `Host` alias or an IP address \
             (the user goes in `user`, the port in `port`)",
            if c.is_whitespace() || c.is_control() {
                "a space or control character".to_string()
            } else {
                format!("`{c}`")
            }
        ));
    }
    None
}

/// A node `address` that is not an IPv4 address (a host name, IPv6): say why it must be
/// one and where a name goes instead. The address is the peer's replication source, the
/// replication account's host, a firewall source and keepalived's `unicast_peer`, which
/// mhactl builds for IPv4 only; ssh alone may use a name (`nodes[i].ssh.host`).
pub(crate) fn node_address_hint(message: &str) -> String {
    let is_node_address = message.contains("nodes[") && message.contains("].address: invalid IPv4");
    if !is_node_address {
        return message.to_string();
    }
    format!(
        "{message}. A node's address is its IPv4 address: the peer replicates from it, the \
         replication account and the firewall allow it, keepalived's unicast_peer names it \
         (host names and IPv6 are not supported there). To have ssh connect by a host name, \
         an ssh config alias or an IPv6 address, set nodes[i].ssh.host"
    )
}

/// Where node `i`'s sudo password comes from, with the field it is written in.
fn become_source(inv: &Inventory, i: usize) -> Option<(CredentialRef, String)> {
    let node = &inv.nodes[i].ssh;
    let (s, prefix) = if node.become_password_env.is_some() || node.become_password_file.is_some() {
        (node, format!("nodes[{i}].ssh"))
    } else {
        (&inv.ssh, "ssh".to_string())
    };
    if let Some(e) = &s.become_password_env {
        return Some((
            CredentialRef::Env(e.clone()),
            format!("{prefix}.become_password_env"),
        ));
    }
    s.become_password_file.as_ref().map(|f| {
        (
            CredentialRef::parse_file(f),
            format!("{prefix}.become_password_file"),
        )
    })
}

/// Node `i`'s sudo password, when the inventory names a source for one (env or file;
/// never a prompt: sudo's own prompt is not shown). Errors are [`UsageError`]s naming
/// the field, never the value.
pub fn become_password(inv: &Inventory, i: usize) -> Result<Option<SecretString>> {
    let Some((source, field)) = become_source(inv, i) else {
        return Ok(None);
    };
    match source.resolve_field(&field, inv) {
        Ok(secret) => Ok(Some(secret)),
        Err(e) if e.downcast_ref::<UsageError>().is_some() => Err(e),
        Err(e) => Err(UsageError(format!("{field}: {e:#}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_must_be_one_word_ssh_cannot_misread() {
        for good in [
            "db1.example.com",
            "db1",
            "fe80::1",
            "2001:db8::11",
            "10.0.0.11",
        ] {
            assert!(host_problem(good).is_none(), "{good}");
        }
        for bad in ["", "-oProxyCommand=x", "a b", "root@db1", "db1;x", "a/b"] {
            assert!(host_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn a_host_name_or_ipv6_as_a_node_address_is_refused_saying_where_it_goes() {
        for address in ["db1.example.com", "\"fe80::2\""] {
            let text = format!(
                "cluster: t\nnodes:\n  - name: node-a\n    address: {address}\n  - name: node-b\n    \
                 address: 10.0.0.12\nvip: {{address: 10.0.0.100, interface: eth0, virtual_router_id: 51}}\n\
                 credentials: {{replication_password_env: X}}\n"
            );
            let err = format!(
                "{:#}",
                crate::inventory::parse(&text, "t.yaml").unwrap_err()
            );
            assert!(
                err.contains("nodes[0].address: invalid IPv4 address")
                    && err.contains("set nodes[i].ssh.host"),
                "{err}"
            );
        }
        assert_eq!(
            node_address_hint("vip.address: invalid IPv4"),
            "vip.address: invalid IPv4"
        );
    }

    #[test]
    fn the_shared_section_cannot_name_one_host_and_root_needs_no_password() {
        let s = SshSettings {
            host: Some("db1".into()),
            user: Some("root".into()),
            become_password_env: Some("X".into()),
            become_password_file: Some("f#k".into()),
            ..Default::default()
        };
        let fields: Vec<String> = check_ssh_access("ssh", &s, true)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            ["ssh.host", "ssh.become_password_file", "ssh.user"],
            "{fields:?}"
        );
        let node = SshSettings {
            host: Some("db1".into()),
            user: Some("deploy".into()),
            become_password_env: Some("SUDO_PW".into()),
            ..Default::default()
        };
        assert!(check_ssh_access("nodes[0].ssh", &node, false).is_empty());
    }
}
