//! `lab up --ssh-user NAME`: a non-root login with sudo on both nodes, as at sites
//! that forbid root logins. The user gets the lab's client key and a sudoers rule:
//! passwordless, or (`--sudo-password`) asking for the password `lab up` generated
//! into secrets.yaml, which the inventory references as `ssh.become_password_file`.
//! Root keeps its own login, for `lab ssh` and the tests' inspections.

use super::files;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The secrets.yaml key holding the sudo password (`--sudo-password`).
pub const SECRET_KEY: &str = "become_password";

/// `--ssh-user`'s value: a plain user name `useradd` accepts, never root.
pub fn parse_user_name(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    if !ok {
        return Err(format!(
            "{name:?} is not a user name: lowercase letters, digits, `_` and `-`, starting \
             with a letter or `_`, at most 32 characters"
        ));
    }
    if name == "root" {
        return Err("root is the default login; --ssh-user names a non-root user".into());
    }
    Ok(name.to_string())
}

/// Run as root on a node with `USER MODE` as arguments (MODE `password` reads the
/// password on stdin): the user, its copy of root's authorized key, the sudoers rule.
const SETUP: &str = r#"set -e
u=$1
id "$u" >/dev/null 2>&1 || useradd -m -s /bin/sh "$u"
install -d -m 700 -o "$u" -g "$u" "/home/$u/.ssh"
install -m 600 -o "$u" -g "$u" /root/.ssh/authorized_keys "/home/$u/.ssh/authorized_keys"
if [ "$2" = password ]; then
  IFS= read -r pw; printf '%s:%s\n' "$u" "$pw" | chpasswd
  rule="$u ALL=(ALL:ALL) ALL"
else
  rule="$u ALL=(ALL:ALL) NOPASSWD: ALL"
fi
printf '%s\n' "$rule" > /etc/sudoers.d/mhactl-lab.tmp
chmod 440 /etc/sudoers.d/mhactl-lab.tmp
visudo -cf /etc/sudoers.d/mhactl-lab.tmp >/dev/null
mv /etc/sudoers.d/mhactl-lab.tmp /etc/sudoers.d/mhactl-lab"#;

/// Create `user` on the node at `address`, through root's ssh login.
pub fn create(dir: &Path, address: &str, user: &str, password: Option<&str>) -> Result<()> {
    let mut child = Command::new("ssh")
        .args(files::ssh_options(dir))
        .arg(format!("root@{address}"))
        .arg("--")
        // ssh joins its arguments for the remote shell: one command line, SETUP quoted
        // (the user name is plain, checked by `parse_user_name`).
        .arg(format!(
            "sh -c {} mhactl-lab {} {}",
            crate::transport::shell_quote(SETUP),
            user,
            if password.is_some() {
                "password"
            } else {
                "nopasswd"
            }
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run ssh")?;
    if let Some(pw) = password {
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(format!("{pw}\n").as_bytes())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "creating the ssh user {user} on {address} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_user_name;

    #[test]
    fn user_names() {
        assert_eq!(parse_user_name("deploy").unwrap(), "deploy");
        for bad in ["root", "", "Deploy", "-x", "a b", "a;b"] {
            assert!(parse_user_name(bad).is_err(), "{bad:?}");
        }
    }
}
