//! A data directory on the node: what it holds (initialised, empty, the top of a file
//! system, something else), initialising an empty one (`mariadb-install-db`,
//! `mysqld --initialize`), and the private mysqld that secures a freshly initialised
//! MySQL one (started without network on its own socket, stopped by its pid file).

use crate::inventory::{Flavor, ServerFamily};
use crate::transport::shell_quote;

/// Prints what the data directory `dir` holds: `initialised OWNER` (a `mysql` schema),
/// `empty` (or missing), `filesystem-root` (only `lost+found`: the top of a file system),
/// or `not-a-database`.
pub fn datadir_state_command(dir: &str) -> String {
    let d = shell_quote(dir);
    format!(
        "if [ -d {d}/mysql ]; then echo initialised $(stat -c %U {d}); \
         elif [ -z \"$(ls -A {d} 2>/dev/null)\" ]; then echo empty; \
         elif [ \"$(ls -A {d})\" = lost+found ]; then echo filesystem-root; \
         else echo not-a-database; fi"
    )
}

/// The command that initialises an empty data directory `dir` for `flavor`. MySQL's
/// `--initialize` writes a random, expired root password to `log` (see
/// [`crate::bootstrap::paths::secure_fresh_mysql_datadir`]). On failure the tool's own output (mariadb-install-db
/// prints its errors on stdout; mysqld writes them to `log`) goes to stderr, so the
/// error names the cause.
///
/// MariaDB: `--skip-test-db` (10.3+, MDEV-12645) creates neither the `test` database,
/// its grants to everyone, nor the anonymous accounts, as a packaged install has none;
/// `--force` skips the tool's host name lookup (`resolveip $(uname -n)`), which fails on
/// a host without /etc/hosts although neither the tool nor the server needs it.
pub fn initialise_command(flavor: Flavor, dir: &str, log: &str) -> String {
    let d = shell_quote(dir);
    match flavor.family() {
        ServerFamily::Mariadb => format!(
            "out=$($(command -v mariadb-install-db || command -v mysql_install_db) --user=mysql --datadir={d} \
             --auth-root-authentication-method=socket --skip-test-db --force 2>&1) || \
             {{ printf '%s\\n' \"$out\" | tail -n 20 >&2; exit 1; }}"
        ),
        ServerFamily::Mysql => {
            let l = shell_quote(log);
            format!(
                "out=$(mysqld --initialize --user=mysql --datadir={d} --log-error={l} 2>&1) || \
                 {{ printf '%s\\n' \"$out\" >&2; echo \"the end of {l}:\" >&2; tail -n 20 {l} >&2; exit 1; }}"
            )
        }
    }
}

/// Creates `dir` for mysql (mode 750) when it is missing, then initialises it
/// ([`initialise_command`]).
pub fn create_and_initialise_command(flavor: Flavor, dir: &str, log: &str) -> String {
    format!(
        "set -e; install -d -o mysql -g mysql -m 750 {}; {}",
        shell_quote(dir),
        initialise_command(flavor, dir, log)
    )
}

/// Starts a private mysqld on `dir` (no network, no X plugin, no binary log, not fenced
/// whatever my.cnf says: in expired-password mode only `ALTER USER` works, and
/// `super_read_only` would refuse even that; its own
/// `socket`, `pid` file and error `log`), detached, and waits up to 60 s for its socket.
pub fn start_private_server_command(dir: &str, socket: &str, pid: &str, log: &str) -> String {
    let (s, p, d) = (shell_quote(socket), shell_quote(pid), shell_quote(dir));
    format!(
        "setsid mysqld --user=mysql --datadir={d} --skip-networking --loose-mysqlx=OFF --skip-log-bin \
         --read-only=OFF --super-read-only=OFF \
         --socket={s} --pid-file={p} --log-error={l} </dev/null >/dev/null 2>&1 & \
         for i in $(seq 1 120); do [ -S {s} ] && exit 0; sleep 0.5; done; \
         echo 'the private mysqld did not open its socket within 60 s' >&2; exit 1",
        l = shell_quote(log)
    )
}

/// Stops the private mysqld of [`start_private_server_command`] by its `pid` file and
/// waits up to 60 s for it to exit (nothing to do without the pid file).
pub fn stop_private_server_command(pid: &str) -> String {
    let p = shell_quote(pid);
    format!(
        "[ -f {p} ] || exit 0; pid=$(cat {p}); kill \"$pid\"; \
         for i in $(seq 1 120); do kill -0 \"$pid\" 2>/dev/null || exit 0; sleep 0.5; done; \
         echo 'the private mysqld did not stop within 60 s' >&2; exit 1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datadir_states_from_a_real_shell() {
        let tmp = tempfile::tempdir().unwrap();
        let state = |dir: &std::path::Path| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(datadir_state_command(dir.to_str().unwrap()))
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let dir = tmp.path().join("d");
        assert_eq!(state(&dir), "empty", "missing");
        std::fs::create_dir(&dir).unwrap();
        assert_eq!(state(&dir), "empty");
        std::fs::create_dir(dir.join("lost+found")).unwrap();
        assert_eq!(state(&dir), "filesystem-root");
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        assert_eq!(state(&dir), "not-a-database");
        std::fs::create_dir(dir.join("mysql")).unwrap();
        assert!(state(&dir).starts_with("initialised "), "{}", state(&dir));
    }
}
