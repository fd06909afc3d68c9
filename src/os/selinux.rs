//! SELinux: the mode (`getenforce`), port labels (`semanage port`), local file-context
//! rules (`semanage fcontext`), relabelling (`restorecon`, `chcon`) and reading contexts
//! (`stat -c %C`), with the parsers of their output. Used by bootstrap's `selinux` step and
//! keepalived's check script label.

use crate::transport::shell_quote;

/// SELinux mode (exit 100: SELinux tools not installed).
pub const GETENFORCE: &str = "command -v getenforce >/dev/null 2>&1 || exit 100; getenforce";

/// Port labels (for a non-default MySQL port).
pub const SEMANAGE_PORTS: &str =
    "command -v semanage >/dev/null 2>&1 || exit 100; semanage port -l";

/// Local file-context rules (`semanage fcontext -l -C`; exit 100: no semanage).
pub const SEMANAGE_FCONTEXT_LOCAL: &str =
    "command -v semanage >/dev/null 2>&1 || exit 100; semanage fcontext -l -C";

/// Is `spec` listed with `selinux_type` in `semanage fcontext -l -C`?
pub fn fcontext_listed(listing: &str, spec: &str, selinux_type: &str) -> bool {
    listing.lines().any(|l| {
        l.split_whitespace().next() == Some(spec) && l.contains(&format!(":{selinux_type}:"))
    })
}

/// Add the local file-context rule `spec` → `selinux_type`, or change the type of an
/// existing rule for the same spec (`-a` refuses to add it twice).
pub fn fcontext_rule_command(selinux_type: &str, spec: &str) -> String {
    let spec = shell_quote(spec);
    format!(
        "semanage fcontext -a -t {selinux_type} {spec} 2>/dev/null || \
         semanage fcontext -m -t {selinux_type} {spec}"
    )
}

/// Prints `CONTEXT PATH` per path (`- PATH` when missing).
pub fn contexts_command(paths: &[&str]) -> String {
    let list: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    format!(
        "for p in {}; do if [ -e \"$p\" ]; then echo \"$(stat -c %C \"$p\") $p\"; else echo \"- $p\"; fi; done",
        list.join(" ")
    )
}

/// The SELinux type of `path` in [`contexts_command`]'s output (`None`: missing).
pub fn context_type(out: &str, path: &str) -> Option<String> {
    out.lines().find_map(|l| {
        let (ctx, p) = l.split_once(' ')?;
        (p == path && ctx != "-").then(|| ctx.split(':').nth(2).unwrap_or("").to_string())
    })
}

/// Ports the packaged policy labels mysqld_port_t.
pub fn port_is_mysqld_default(port: u16) -> bool {
    port == 3306 || port == 1186 || (63132..=63164).contains(&port)
}

/// Does `semanage port -l` label `port`/tcp with `label`?
pub fn semanage_port_labelled(listing: &str, label: &str, port: u16) -> bool {
    listing.lines().any(|l| {
        let mut w = l.split_whitespace();
        if w.next() != Some(label) || w.next() != Some("tcp") {
            return false;
        }
        w.collect::<String>().split(',').any(|r| match r.split_once('-') {
            Some((a, b)) => {
                matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if (a..=b).contains(&port))
            }
            None => r.parse::<u16>() == Ok(port),
        })
    })
}

/// `semanage fcontext` file spec for a directory and everything in it.
pub fn datadir_context_spec(dir: &str) -> String {
    format!("{}(/.*)?", dir.trim_end_matches('/'))
}

/// The SELinux type keepalived's scripts need to do what the health check does (run the
/// client, connect to mysqld's socket): keepalived runs a script in the domain its file
/// type leads to, and a script with an ordinary /etc type stays confined and fails.
pub const CHECK_SCRIPT_SELINUX_TYPE: &str = "keepalived_unconfined_script_exec_t";

/// What SELinux says about the health-check script (see [`check_script_label_probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckScriptLabel {
    /// SELinux absent, disabled or permissive: nothing is blocked.
    NotEnforcing,
    /// Enforcing; the script's current type (`-` when it does not exist yet).
    Enforcing(String),
}

/// Prints `enforcing` and then the script's context line ([`contexts_command`])
/// when SELinux is enforcing, nothing otherwise.
pub fn check_script_label_probe(path: &str) -> String {
    format!(
        "command -v getenforce >/dev/null 2>&1 && [ \"$(getenforce)\" = Enforcing ] || exit 0; \
         echo enforcing; {}",
        contexts_command(&[path])
    )
}

/// Parse [`check_script_label_probe`]'s output for the script at `path`.
pub fn parse_check_script_label(out: &str, path: &str) -> CheckScriptLabel {
    match out.trim_start().strip_prefix("enforcing") {
        Some(rest) => CheckScriptLabel::Enforcing(
            context_type(rest.trim_start(), path).unwrap_or_else(|| "-".into()),
        ),
        None => CheckScriptLabel::NotEnforcing,
    }
}

/// Give the script [`CHECK_SCRIPT_SELINUX_TYPE`]: a local file-context rule when
/// `semanage` is installed (it survives a relabel), `restorecon` to apply it, and `chcon`
/// where the rule could not be added; fails if the type still is not right.
pub fn check_script_label_command(path: &str) -> String {
    let p = shell_quote(path);
    let t = CHECK_SCRIPT_SELINUX_TYPE;
    format!(
        "{{ {}; }} 2>/dev/null || true; restorecon {p} 2>/dev/null || true; \
         [ \"$(stat -c %C {p} | cut -d: -f3)\" = {t} ] || chcon -t {t} {p}",
        fcontext_rule_command(t, path)
    )
}

/// Label TCP `port` `mysqld_port_t` (a non-default `mysql.port`).
pub fn label_port_command(port: u16) -> String {
    format!("semanage port -a -t mysqld_port_t -p tcp {port}")
}

/// Apply the file contexts to `path`: create it first (`create`, a directory), relabel
/// the tree when it exists (`is_dir`), or relabel the one file when it exists.
pub fn restorecon_command(path: &str, create: bool, is_dir: bool) -> String {
    let p = shell_quote(path);
    if create {
        format!("mkdir -p {p} && restorecon -R {p}")
    } else if is_dir {
        format!("[ ! -e {p} ] || restorecon -R {p}")
    } else {
        format!("[ ! -e {p} ] || restorecon {p}")
    }
}
