//! Service managers (systemd, SysV init scripts): starting, stopping, reloading, enabling
//! and probing services, the runtime directory systemd would create, and killing the
//! database server on purpose (failover-test).

use super::sh_quote;

/// How services are started on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceManager {
    /// `systemctl` works: systemd is running (PID 1), or a `systemctl` that manages
    /// units without it answers (e.g. Debian's daemonless `systemctl` package in
    /// containers). Services are unit files either way.
    Systemd,
    /// Anything else: the `service` wrapper around init scripts.
    SysV,
}

impl ServiceManager {
    /// Prints `systemd` when `systemctl` is on the PATH and works, else `sysv`. Feed its
    /// stdout to [`Self::parse_probe`].
    ///
    /// "Works" is sd_booted()'s test (`/run/systemd/system` exists) or, failing that,
    /// `systemctl list-units` succeeding: systemd's own `systemctl` refuses that when
    /// systemd is installed but not PID 1 ("System has not been booted with systemd"),
    /// so such a host stays SysV, while a daemonless `systemctl` that reads unit files
    /// answers it and is used like systemd.
    pub fn probe_command() -> String {
        "if command -v systemctl >/dev/null 2>&1 && { [ -d /run/systemd/system ] || \
         systemctl list-units >/dev/null 2>&1; }; then echo systemd; else echo sysv; fi"
            .into()
    }

    /// Interprets the output of [`Self::probe_command`].
    pub fn parse_probe(output: &str) -> Self {
        if output.trim() == "systemd" {
            ServiceManager::Systemd
        } else {
            ServiceManager::SysV
        }
    }

    fn verb(self, verb: &str, service: &str) -> String {
        let s = sh_quote(service);
        match self {
            ServiceManager::Systemd => format!("systemctl {verb} {s}"),
            ServiceManager::SysV => format!("service {s} {verb}"),
        }
    }

    /// Starts a service.
    pub fn start_command(self, service: &str) -> String {
        self.verb("start", service)
    }

    /// Stops a service.
    pub fn stop_command(self, service: &str) -> String {
        self.verb("stop", service)
    }

    /// Restarts a service.
    pub fn restart_command(self, service: &str) -> String {
        self.verb("restart", service)
    }

    /// Makes a running service re-read its configuration without stopping it
    /// (keepalived keeps its VRRP state; a stop+start would drop the VIP).
    pub fn reload_command(self, service: &str) -> String {
        self.verb("reload", service)
    }

    /// Exits 0 when the service is running (no output).
    pub fn is_active_command(self, service: &str) -> String {
        let s = sh_quote(service);
        // The database server's init scripts write no /run/SERVICE.pid: its own pid file
        // is the packaged one (Debian's and EL's). Without it the check falls to the init
        // script's `status`, which on Debian pings the server with mysqladmin (~0.5 s).
        let server_pid = match service {
            "mariadb" | "mysql" | "mysqld" => " /run/mysqld/mysqld.pid /var/run/mysqld/mysqld.pid",
            _ => "",
        };
        match self {
            ServiceManager::Systemd => format!("systemctl is-active --quiet {s}"),
            // The daemon's live pid file is the best witness. Without one, ask the init
            // script, but only if it has a `status` action: Debian's keepalived script has
            // none and exits 0 for anything when its config file is missing.
            ServiceManager::SysV => format!(
                "for f in /run/{service}.pid /var/run/{service}.pid{server_pid}; do \
                 [ -f \"$f\" ] && kill -0 \"$(cat \"$f\")\" 2>/dev/null && exit 0; done; \
                 grep -Eq \"status'?\\)\" /etc/init.d/{s} 2>/dev/null && service {s} status >/dev/null 2>&1"
            ),
        }
    }

    /// Crashes the database server on purpose (failover-test's `kill-mysqld`): SIGKILL to
    /// exactly the server process, found from its own `pid_file` (or, with systemd, the
    /// unit's main PID), and to its `mysqld_safe` parent if it has one (which would
    /// restart it at once), and to nothing else. Refuses (exit 1, saying why) when the pid
    /// names no `mysqld`/`mariadbd` process, so a stale pid file kills nothing.
    pub fn kill_server_command(self, service: &str, pid_file: &str) -> String {
        format!(
            "{}ppid=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$pid/status); \
             if [ \"${{ppid:-1}}\" -gt 1 ] && tr '\\0' ' ' < /proc/$ppid/cmdline 2>/dev/null | grep -q 'mysqld_safe'; then kill -KILL \"$ppid\"; fi; \
             kill -KILL \"$pid\"",
            self.server_pid_command(service, pid_file, "killed")
        )
    }

    /// Sends `signal` (`STOP` or `CONT`) to exactly the server process (failover-test's
    /// `hung`: a server that hangs without exiting), found as [`Self::kill_server_command`]
    /// finds it, with the same refusal when the pid names no `mysqld`/`mariadbd`. Its
    /// `mysqld_safe` parent is left alone: it only acts when the server exits.
    pub fn signal_server_command(self, service: &str, pid_file: &str, signal: &str) -> String {
        format!(
            "{}kill -{signal} \"$pid\"",
            self.server_pid_command(service, pid_file, "signalled")
        )
    }

    /// Sets `$pid` to the server's pid (its pid file, else the systemd unit's main PID),
    /// or exits 1 saying "nothing {done}" when that is no `mysqld`/`mariadbd` process.
    fn server_pid_command(self, service: &str, pid_file: &str, done: &str) -> String {
        let main_pid = match self {
            ServiceManager::Systemd => format!(
                "[ -n \"$pid\" ] || pid=$(systemctl show -p MainPID --value {} 2>/dev/null); ",
                sh_quote(service)
            ),
            ServiceManager::SysV => String::new(),
        };
        format!(
            "pid=$(cat {f} 2>/dev/null); {main_pid}\
             case \"$pid\" in ''|0|*[!0-9]*) echo \"no server pid in {f}\" >&2; exit 1;; esac; \
             comm=$(cat /proc/$pid/comm 2>/dev/null); \
             case \"$comm\" in mysqld|mariadbd) ;; *) echo \"pid $pid (from {f}) is ${{comm:-no process}}, not the server: nothing {done}\" >&2; exit 1;; esac; ",
            f = sh_quote(pid_file)
        )
    }

    /// Creates the `RuntimeDirectory=` (under /run, with the unit's `User=`/`Group=` and
    /// `RuntimeDirectoryMode=`) of a unit when systemd is not what runs it, exactly as
    /// systemd would (it owns these directories for the unit: the one exception to the
    /// rule that mhactl never changes an owner it did not create, for a path the unit
    /// file fixes and never one from the inventory): systemd
    /// creates it at each start, a daemonless `systemctl` does not, and MySQL's unit
    /// needs `/run/mysqld` owned by mysql for its socket and pid file. A no-op on
    /// systemd-booted hosts, under SysV, and for units without a runtime directory.
    pub fn runtime_dir_command(self, service: &str) -> Option<String> {
        if self != ServiceManager::Systemd {
            return None;
        }
        let unit = sh_quote(&format!("{service}.service"));
        Some(format!(
            "[ -d /run/systemd/system ] && exit 0; \
             for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /lib/systemd/system /usr/lib/systemd/system; do \
             f=$d/{unit}; [ -f \"$f\" ] || continue; \
             dirs=$(sed -n 's/^RuntimeDirectory=//p' \"$f\" | tail -n 1); [ -n \"$dirs\" ] || exit 0; \
             user=$(sed -n 's/^User=//p' \"$f\" | tail -n 1); group=$(sed -n 's/^Group=//p' \"$f\" | tail -n 1); \
             mode=$(sed -n 's/^RuntimeDirectoryMode=//p' \"$f\" | tail -n 1); \
             for r in $dirs; do install -d -m \"${{mode:-0755}}\" -o \"${{user:-root}}\" -g \"${{group:-${{user:-root}}}}\" \"/run/$r\"; done; \
             exit 0; done"
        ))
    }

    /// Makes the service start at boot. Under SysV it uses `update-rc.d` (Debian) or
    /// `chkconfig` (EL) when present and is a no-op otherwise.
    pub fn enable_command(self, service: &str) -> String {
        let s = sh_quote(service);
        match self {
            ServiceManager::Systemd => format!("systemctl enable --quiet {s}"),
            ServiceManager::SysV => format!(
                "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d {s} defaults; \
                 elif command -v chkconfig >/dev/null 2>&1; then chkconfig {s} on; fi"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_commands() {
        assert_eq!(
            ServiceManager::parse_probe("systemd\n"),
            ServiceManager::Systemd
        );
        assert_eq!(ServiceManager::parse_probe("sysv\n"), ServiceManager::SysV);
        assert_eq!(ServiceManager::parse_probe(""), ServiceManager::SysV);
        let sd = ServiceManager::Systemd;
        assert_eq!(sd.start_command("mariadb"), "systemctl start mariadb");
        assert_eq!(
            sd.is_active_command("mysqld"),
            "systemctl is-active --quiet mysqld"
        );
        assert_eq!(
            sd.enable_command("keepalived"),
            "systemctl enable --quiet keepalived"
        );
        let runtime = sd.runtime_dir_command("mysql").unwrap();
        assert!(
            runtime.starts_with("[ -d /run/systemd/system ] && exit 0;"),
            "{runtime}"
        );
        assert!(runtime.contains("f=$d/mysql.service;"), "{runtime}");
        let sv = ServiceManager::SysV;
        assert_eq!(sv.runtime_dir_command("mariadb"), None);
        assert_eq!(sv.stop_command("mariadb"), "service mariadb stop");
        assert_eq!(sv.restart_command("mariadb"), "service mariadb restart");
        let active = sv.is_active_command("keepalived");
        assert!(
            active.starts_with("for f in /run/keepalived.pid"),
            "{active}"
        );
        assert!(active.contains("service keepalived status"), "{active}");
        assert!(active.contains("/run/keepalived.pid"), "{active}");
        assert!(!active.contains("mysqld.pid"), "{active}");
        let server = sv.is_active_command("mariadb");
        assert!(server.contains(" /run/mysqld/mysqld.pid "), "{server}");
        assert!(sv
            .enable_command("mariadb")
            .contains("update-rc.d mariadb defaults"));
    }
}
