//! Turning a failed SSH connection into a message a user can act on: always the node,
//! always ssh's own words (the `openssh` crate runs the master with its stderr
//! discarded and, when ssh fails before it writes its log, reports only a local
//! "No such file or directory"), and for host keys what to do about them.

use super::ssh::SshTarget;
use crate::inventory::HostKeyCheck;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Turn a failed connection into a message a user can act on.
pub(crate) fn connect_error(target: &SshTarget, err: openssh::Error) -> anyhow::Error {
    let text = format!("{err:#}");
    let detail = std::error::Error::source(&err)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut all = format!("{text} {detail}");
    // A local error (the log ssh never wrote, ssh not found) says nothing about why
    // ssh failed: ask ssh once more, this time keeping what it says.
    if all.contains("(os error") || detail.trim().is_empty() {
        match ssh_own_message(target) {
            Some(said) if !all.contains(&said) => all = format!("ssh: {said}"),
            _ => {}
        }
    }
    let known = target
        .ssh
        .known_hosts
        .as_deref()
        .map(Path::display)
        .map(|d| d.to_string())
        .unwrap_or_else(|| "~/.ssh/known_hosts".into());
    let host = target.ssh.host.to_string();
    // Where the inventory sets no port, ssh's own default (a `Port` in the ssh config
    // is not read here: the messages below would name [host]:22 for it).
    let port = target
        .ssh
        .port
        .unwrap_or(crate::inventory::DEFAULT_SSH_PORT);
    if all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || all.contains("Host key verification failed")
            && known_hosts_has(target.ssh.known_hosts.as_deref(), &host, port)
    {
        return anyhow::anyhow!("{}", changed_key_message(target, &known));
    }
    if all.contains("Host key verification failed") {
        return anyhow::anyhow!(
            "{}: the host key of {host} is unknown (checked against {known}); the host offers {}. \
             Compare it with the host's real key (on the host: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) \
             and add it to {known}, or pass --accept-new-host-keys to trust a host seen for the first time",
            target.node,
            offered_fingerprints(&host, port)
        );
    }
    anyhow::anyhow!(
        "{}: cannot connect over SSH to {}: {}",
        target.node,
        destination(target),
        all.trim()
    )
}

/// A changed host key: --accept-new-host-keys cannot help (it only trusts hosts seen
/// for the first time). Say how to check the new key and how to drop the old one.
fn changed_key_message(target: &SshTarget, known: &str) -> String {
    let host = target.ssh.host.to_string();
    let port = target
        .ssh
        .port
        .unwrap_or(crate::inventory::DEFAULT_SSH_PORT);
    let entry = if port == 22 {
        host.clone()
    } else {
        format!("[{host}]:{port}")
    };
    format!(
        "{}: the host key of {host} has CHANGED since it was recorded in {known}; the host now offers {}. \
         Either the host was reinstalled or its keys replaced, or someone is intercepting the connection. \
         Check the new key out of band (on the host's console: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`); \
         only if it matches, remove the old entry with `ssh-keygen -R '{entry}' -f {known}` and connect again \
         (with --accept-new-host-keys to record the new key)",
        target.node,
        offered_fingerprints(&host, port)
    )
}

/// `user@host:port` with what the inventory sets (ssh's config decides the rest).
fn destination(target: &SshTarget) -> String {
    let ssh = &target.ssh;
    format!(
        "{}{}{}",
        ssh.user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default(),
        ssh.host,
        ssh.port.map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// Does `known_hosts` (default ~/.ssh/known_hosts) have an entry for the host?
fn known_hosts_has(known_hosts: Option<&Path>, host: &str, port: u16) -> bool {
    let entry = if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    };
    let mut cmd = Command::new("ssh-keygen");
    cmd.arg("-F").arg(&entry);
    if let Some(file) = known_hosts {
        cmd.arg("-f").arg(file);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What ssh itself says when it connects with the node's settings (its stderr, the
/// last meaningful lines), bounded by the connect timeout.
fn ssh_own_message(target: &SshTarget) -> Option<String> {
    let ssh = &target.ssh;
    let mut cmd = Command::new("ssh");
    cmd.args(["-o", "BatchMode=yes", "-o"])
        .arg(match ssh.host_key_check {
            HostKeyCheck::Strict => "StrictHostKeyChecking=yes",
            HostKeyCheck::AcceptNew => "StrictHostKeyChecking=accept-new",
        })
        .arg("-o")
        .arg(format!("ConnectTimeout={}", ssh.connect_timeout.as_secs()));
    if let Some(port) = ssh.port {
        cmd.arg("-p").arg(port.to_string());
    }
    if let Some(user) = &ssh.user {
        cmd.arg("-l").arg(user);
    }
    if let Some(config) = &ssh.config_file {
        cmd.arg("-F").arg(config);
    }
    if let Some(key) = &ssh.identity_file {
        cmd.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(key);
    }
    if let Some(known) = &ssh.known_hosts {
        cmd.arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()));
    }
    cmd.arg(&ssh.host).arg("true");
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return Some(format!("cannot run ssh: {e}")),
    };
    let limit = ssh.connect_timeout.min(Duration::from_secs(30)) + Duration::from_secs(5);
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take()?, &mut stderr).ok()?;
    let said = meaningful_lines(&stderr);
    (!said.is_empty()).then_some(said)
}

/// ssh's stderr without its warnings about recording keys, on one line.
fn meaningful_lines(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The host key fingerprints a host offers (for messages), from `ssh-keyscan | ssh-keygen -lf -`.
fn offered_fingerprints(host: &str, port: u16) -> String {
    let script = format!(
        "ssh-keyscan -T 3 -p {port} {} 2>/dev/null | ssh-keygen -lf - 2>/dev/null",
        crate::transport::shell_quote(host)
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| {
                    // "256 SHA256:abc... host (ED25519)"
                    let fp = l.split_whitespace().nth(1)?;
                    let kind = l.rsplit(' ').next()?;
                    Some(format!("{kind} {fp}"))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no key we could read".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_warnings_about_recorded_keys_are_not_the_message() {
        assert_eq!(
            meaningful_lines(
                "Warning: Permanently added '10.0.0.1' (ED25519) to the list of known hosts.\n\
                 root@10.0.0.1: Permission denied (publickey).\n"
            ),
            "root@10.0.0.1: Permission denied (publickey)."
        );
    }
}
