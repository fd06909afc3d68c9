//! What differs between OS families (EL7 yum, EL8/9 dnf, Debian/Ubuntu apt; systemd or SysV).
//!
//! This module is the one place that knows OS families: how to recognise one from
//! `/etc/os-release`, which package manager and service manager it uses, what the
//! server packages and services are called, and where files go. Everything is pure:
//! it builds shell commands (for `sh -c` on the node, as root, non-interactive) and
//! parses their output; it never runs anything.
//!
//! Grouped by tool, not by OS:
//! - which system: `release` (the family, from `/etc/os-release`);
//! - software: `packages` (apt, yum, dnf), `package_progress` (what they say while
//!   installing), `repositories` (MySQL Yum series, dnf
//!   modules, the inventory's mirror), `mysql_platform` (series per EL release, signing
//!   keys), `keepalived` (versions and capabilities, checking a configuration);
//! - running things: `services` (systemd, SysV; killing the server on purpose), `host`
//!   (interfaces, the SSH session, uid, clock), `vip_refuse` (the nftables rule that
//!   refuses connections to the VIP on the node without it), `arbiter` (keepalived's arbiter probe and
//!   its timers), `isolate` (failover-test's firewall cut-off);
//! - confinement: `selinux`, `apparmor`, `firewall` (firewalld, ufw, nftables, iptables);
//! - the server's files: `server_files` (paths, sockets, package and service names of a
//!   flavor), `option_files` (and `option_chain`: the whole chain in one read), `debian_cnf`, `error_log`, `ownership` (probing paths,
//!   creating them for mysql), `datadir` (state, initialising), `datadir_swap` (reinit's
//!   moves), `client_login` (a client's login on stdin), `files`.
//!
//! The most used types are re-exported here, so callers write `os::OsTarget`,
//! `os::PackageManager`.

pub mod addresses;
pub mod apparmor;
pub mod arbiter;
pub mod batch;
pub mod client_list;
pub mod client_login;
pub mod datadir;
pub mod datadir_swap;
pub mod debian_cnf;
pub mod detection;
pub mod error_log;
pub mod failed_init;
pub mod fence;
pub mod files;
pub mod firewall;
pub mod host;
pub mod isolate;
pub mod keepalived;
pub mod keepalived_conf;
pub mod local_signal;
pub mod mysql_platform;
pub mod option_chain;
pub mod option_files;
pub mod option_overrides;
pub mod ownership;
pub mod package_progress;
pub mod packages;
pub mod release;
pub mod repositories;
pub mod selinux;
pub mod server_files;
pub mod services;
pub mod switchover;
pub mod tls;
pub mod vip_refuse;

pub use packages::{parse_candidate_version, PackageManager};
pub use release::{OsFamily, OsInfo, OsRelease};
pub use repositories::{
    mariadb_stream_commands, mariadb_stream_query, mirror_repo_file, mirror_repo_path,
    module_disable_command, module_state_query, modules_to_disable, mysql_repo_changes,
    parse_yum_repos, repo_toggle_commands, MysqlSeries, MIRROR_REPO_ID, MYSQL_MASKING_MODULES,
    MYSQL_RELEASE_RPM_QUERY, MYSQL_SERVER_REPO_IDS, YUM_REPOS_QUERY,
};
pub use server_files::{
    append_include_command, has_include_line, with_include_line, OsTarget, CHECK_SCRIPT_PATH,
    KEEPALIVED_CONF_PATH, KEEPALIVED_SERVICE,
};
pub use services::ServiceManager;

pub use crate::transport::shell_quote as sh_quote;

/// Shell-quotes each word and joins them with spaces.
pub(crate) fn sh_words(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| sh_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}
