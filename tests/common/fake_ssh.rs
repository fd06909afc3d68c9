//! A fake `ssh` for the command-line tests (tests/cli.rs, tests/cli_grammar.rs): it fails
//! like an unreachable host, so commands that connect fail at once and nothing leaves
//! this machine.

use std::path::Path;

/// `DIR/bin` holding the fake `ssh` (made once), for the front of PATH.
pub fn fake_ssh_path(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    let ssh = bin.join("ssh");
    if !ssh.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(
            &ssh,
            "#!/bin/sh\necho 'ssh: connect to host 192.0.2.11 port 22: Connection refused' >&2\nexit 255\n",
        )
        .unwrap();
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin.display().to_string()
}
