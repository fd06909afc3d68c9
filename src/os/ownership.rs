//! Paths the server uses, as the ownership rule needs them: probing each one (what it
//! is, its owner, where its symlinks lead) and creating a missing one create-only for
//! mysql (labelled where SELinux has a rule). The rule itself (what may be used, what is
//! refused) is bootstrap's `path_safety`.

use crate::transport::shell_quote;

/// Marks the probe's command (fakes answer it by this text).
pub const PROBE_MARKER: &str = ": mhactl-path-probe;";

/// One line per path: `PATH<TAB>STATE<TAB>OWNER<TAB>RESOLVED`, STATE one of `missing`,
/// `dangling`, `dir-empty`, `dir`, `file`, `other`.
pub fn probe_command(paths: &[&str]) -> String {
    let list: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    format!(
        "{PROBE_MARKER} for p in {}; do \
         r=$(realpath -m -- \"$p\" 2>/dev/null || readlink -f -- \"$p\" 2>/dev/null || echo \"$p\"); o=-; \
         if [ -L \"$p\" ] && [ ! -e \"$p\" ]; then s=dangling; \
         elif [ ! -e \"$p\" ]; then s=missing; \
         else o=$(stat -L -c %U -- \"$p\"); \
         if [ -d \"$p\" ]; then if [ -z \"$(ls -A -- \"$p\" 2>/dev/null)\" ]; then s=dir-empty; else s=dir; fi; \
         elif [ -f \"$p\" ]; then s=file; else s=other; fi; fi; \
         printf '%s\\t%s\\t%s\\t%s\\n' \"$p\" \"$s\" \"$o\" \"$r\"; done",
        list.join(" ")
    )
}

/// Create directory `dir` for mysql with `mode`, failing if anything is there already
/// (create-only: `mkdir` without `-p`), then label it where SELinux has a rule for it.
pub fn create_dir_command(dir: &str, mode: &str) -> String {
    let d = shell_quote(dir);
    let parent = shell_quote(
        std::path::Path::new(dir)
            .parent()
            .map(|p| p.to_string_lossy().to_string())
            .as_deref()
            .unwrap_or("/"),
    );
    format!(
        "set -e; mkdir -p -- {parent}; mkdir -m {mode} -- {d}; chown mysql:mysql -- {d}; {}",
        relabel(&d)
    )
}

/// Create file `file` (mode 640) for mysql, failing if anything is there already
/// (`set -C`: the shell opens it with O_EXCL).
pub fn create_file_command(file: &str) -> String {
    let f = shell_quote(file);
    format!(
        "set -e; (umask 137; set -C; : > {f}); chown mysql:mysql -- {f}; {}",
        relabel(&f)
    )
}

/// Apply the SELinux file-context rules (the `selinux` step added them) to a new path.
fn relabel(quoted: &str) -> String {
    format!("if command -v restorecon >/dev/null 2>&1; then restorecon -R {quoted}; fi")
}
