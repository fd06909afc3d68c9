//! Running a node's commands as root whatever user ssh logs in as: the one place that
//! decides how (root itself, `sudo -n`, or `sudo -S` with the inventory's sudo password
//! on stdin), probed once per connection.
//!
//! The sudo password never reaches a command line: it is the first line of the
//! command's standard input, read by a small wrapper (`SUDO_PASSWORD_WRAPPER`, run as
//! the ssh user) that hands that line to `sudo -S` and the rest of stdin to the command.
//! `sudo -k` makes sudo ask for it every time, so the line is never left over for the
//! command to read because a cached credential made sudo skip its prompt; and the
//! password is checked once at connect ([`CHECK_PASSWORD`]), so a wrong one fails there,
//! before sudo's retries could read the command's input as further attempts.

use anyhow::{anyhow, Context};
use openssh::Stdio;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;

/// How a node's commands become root.
#[derive(Clone)]
pub enum Privilege {
    /// ssh logs in as root: `sh -c SCRIPT`.
    Root,
    /// A user with passwordless sudo: `sudo -n -- sh -c SCRIPT`.
    Sudo,
    /// A user whose sudo asks for a password: the wrapper and `sudo -k -S`.
    SudoPassword(SecretString),
}

impl std::fmt::Debug for Privilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// The first argument (`$0`) of the wrapper, so it is recognisable in a process list.
const WRAPPER_NAME: &str = "mhactl-sudo";

/// Run as the ssh user with `SCRIPT [ARGS...]` as its arguments: the first line of stdin
/// is the sudo password, handed to `sudo -S` (`-p ''`: no prompt on stderr); the rest
/// of stdin reaches SCRIPT. `printf` is a shell builtin, so the password is in no
/// process's argv. The pipeline's status is sudo's, i.e. SCRIPT's.
pub const SUDO_PASSWORD_WRAPPER: &str = r#"s=$1; shift
IFS= read -r p || { echo "mhactl: the sudo password did not arrive on stdin" >&2; exit 125; }
{ printf '%s\n' "$p"; p=; exec cat; } | sudo -k -S -p '' -- sh -c "$s" "$@""#;

/// What the connection probes once, as the ssh user, when the inventory does not say
/// the user is root: who it is, whether sudo needs a password, and which program can
/// relay the server's socket (see `transport::sudo_relay`). One line each.
/// sudo's own words tell a needed password from `Defaults requiretty` (no terminal here).
pub const PROBE: &str = r#"id -u; id -un
if ! command -v sudo >/dev/null 2>&1; then echo no-sudo
elif said=$(sudo -n true 2>&1); then echo nopasswd
else case $said in *tty*) echo requiretty;; *) echo password;; esac; fi"#;

/// Checks the sudo password (the first and only line of stdin) once: with stdin ending
/// after that line, a wrong password makes sudo's retries end at once.
pub const CHECK_PASSWORD: &str = "sudo -k -S -p '' -- true";

/// The probe's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// The ssh user's uid.
    pub uid: u32,
    /// The ssh user's name.
    pub user: String,
    /// `no-sudo`, `nopasswd`, `password` or `requiretty`.
    pub sudo: String,
}

/// Parse [`PROBE`]'s output; `None` when it is not three lines as expected.
pub fn parse_probe(out: &str) -> Option<Probed> {
    let mut lines = out.lines().map(str::trim);
    let uid = lines.next()?.parse().ok()?;
    let user = lines.next()?.to_string();
    let sudo = lines.next()?.to_string();
    Some(Probed { uid, user, sudo })
}

/// What a probed user can do, given the inventory's sudo password (if any): the
/// privilege, or the error to show (naming the node and what to change).
pub fn decide(
    node: &str,
    probed: &Probed,
    password: Option<&SecretString>,
) -> Result<Privilege, String> {
    if probed.uid == 0 {
        return Ok(Privilege::Root);
    }
    let user = &probed.user;
    match (probed.sudo.as_str(), password) {
        ("nopasswd", _) => Ok(Privilege::Sudo),
        ("password", Some(pw)) => Ok(Privilege::SudoPassword(pw.clone())),
        ("password", None) => Err(format!(
            "{node}: ssh logs in as {user}, and mhactl runs its commands as root through sudo, \
             but sudo asks {user} for a password: give it by reference in the inventory \
             (ssh.become_password_env or ssh.become_password_file), or allow {user} \
             passwordless sudo"
        )),
        ("requiretty", _) => Err(format!(
            "{node}: sudo requires a terminal for {user} (`Defaults requiretty`), and mhactl's \
             commands run without one: exempt the user (`Defaults:{user} !requiretty` in a \
             file under /etc/sudoers.d), or log in as root"
        )),
        ("no-sudo", _) => Err(format!(
            "{node}: ssh logs in as {user}, not root, and the node has no `sudo`: mhactl runs \
             its commands as root, so install sudo and give {user} sudo rights, or log in as root"
        )),
        (other, _) => Err(format!(
            "{node}: unexpected answer {other:?} when checking {user}'s sudo rights"
        )),
    }
}

impl Privilege {
    /// The program and arguments that run `script` as root, with `args` as its `$0`,
    /// `$1`, ... (none: `$0` is `sh`).
    pub fn argv(&self, script: &str, args: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = match self {
            Privilege::Root => vec!["sh".into(), "-c".into(), script.into()],
            Privilege::Sudo => ["sudo", "-n", "--", "sh", "-c", script]
                .map(String::from)
                .to_vec(),
            Privilege::SudoPassword(_) => vec![
                "sh".into(),
                "-c".into(),
                SUDO_PASSWORD_WRAPPER.into(),
                WRAPPER_NAME.into(),
                script.into(),
            ],
        };
        v.extend(args.iter().map(|a| a.to_string()));
        v
    }

    /// What goes on stdin before the command's own input: the password line.
    pub fn stdin_prefix(&self) -> Option<Vec<u8>> {
        match self {
            Privilege::SudoPassword(pw) => Some(format!("{}\n", pw.expose_secret()).into_bytes()),
            _ => None,
        }
    }

    /// For messages: how commands become root. (Not "with a password": output masking
    /// takes the word after "password" for a secret.)
    pub fn describe(&self) -> &'static str {
        match self {
            Privilege::Root => "root",
            Privilege::Sudo => "sudo",
            Privilege::SudoPassword(_) => "sudo -S",
        }
    }
}

/// How commands become root: root itself when the inventory says `user: root` (no
/// round trip), else what [`PROBE`] finds (the ssh config may log in as root
/// too), checking the sudo password once when sudo asks for one.
pub(super) async fn probe(
    session: &openssh::Session,
    target: &super::ssh::SshTarget,
) -> anyhow::Result<(Privilege, String)> {
    if target.ssh.user.as_deref() == Some("root") {
        return Ok((Privilege::Root, "root".into()));
    }
    let node = &target.node;
    let out = session
        .command("sh")
        .arg("-c")
        .arg(PROBE)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("{node}: ssh: cannot run the sudo check"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let probed = parse_probe(&text).ok_or_else(|| {
        anyhow!(
            "{node}: cannot tell which user ssh logs in as: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    let privilege =
        decide(node, &probed, target.become_password.as_ref()).map_err(|msg| anyhow!(msg))?;
    if let Some(prefix) = privilege.stdin_prefix() {
        let mut child = session
            .command("sh")
            .arg("-c")
            .arg(CHECK_PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .await?;
        if let Some(mut stdin) = child.stdin().take() {
            stdin.write_all(&prefix).await?;
            stdin.shutdown().await?;
        }
        let out = child.wait_with_output().await?;
        if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("must have a tty")
        {
            // sudo -n said "a password is required" before it looked for a terminal.
            let tty = Probed {
                sudo: "requiretty".into(),
                ..probed
            };
            anyhow::bail!(decide(node, &tty, None).err().unwrap_or_default());
        }
        if !out.status.success() {
            anyhow::bail!(
                "{node}: sudo refused the sudo password for {} (from the inventory's \
                 ssh.become_password_*): {}",
                probed.user,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    Ok((privilege, probed.user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_runs_sh_and_sudo_wraps_it_without_the_password_in_argv() {
        assert_eq!(Privilege::Root.argv("id", &[]), ["sh", "-c", "id"]);
        assert_eq!(
            Privilege::Sudo.argv("id", &["lock", "me"]),
            ["sudo", "-n", "--", "sh", "-c", "id", "lock", "me"]
        );
        let with = Privilege::SudoPassword(SecretString::from("s3cret pw"));
        let argv = with.argv("cat > f", &[]);
        assert!(argv.iter().all(|a| !a.contains("s3cret")), "{argv:?}");
        assert_eq!(argv[3..], ["mhactl-sudo", "cat > f"]);
        assert_eq!(with.stdin_prefix().unwrap(), b"s3cret pw\n");
        assert_eq!(Privilege::Sudo.stdin_prefix(), None);
        assert!(!format!("{with:?}").contains("s3cret"));
    }

    #[test]
    fn the_probe_decides_or_says_what_to_change() {
        let p = |uid, sudo: &str| Probed {
            uid,
            user: "deploy".into(),
            sudo: sudo.into(),
        };
        assert_eq!(
            parse_probe("1000\ndeploy\nnopasswd\n").unwrap(),
            p(1000, "nopasswd")
        );
        assert!(parse_probe("oops\n").is_none());
        assert!(matches!(
            decide("n", &p(0, "no-sudo"), None),
            Ok(Privilege::Root)
        ));
        assert!(matches!(
            decide("n", &p(1000, "nopasswd"), None),
            Ok(Privilege::Sudo)
        ));
        let pw = SecretString::from("x");
        assert!(matches!(
            decide("n", &p(1000, "password"), Some(&pw)),
            Ok(Privilege::SudoPassword(_))
        ));
        let e = decide("node-a", &p(1000, "password"), None).unwrap_err();
        assert!(
            e.starts_with("node-a: ssh logs in as deploy") && e.contains("become_password_env"),
            "{e}"
        );
        let e = decide("node-a", &p(1000, "no-sudo"), None).unwrap_err();
        assert!(e.contains("has no `sudo`"), "{e}");
        let e = decide("node-a", &p(1000, "requiretty"), Some(&pw)).unwrap_err();
        assert!(e.contains("Defaults:deploy !requiretty"), "{e}");
    }
}
