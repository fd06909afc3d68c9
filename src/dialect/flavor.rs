//! What differs between the server flavors whatever their version: how root logs in
//! and what a fresh data directory gives it, where the packages come from, which GTID
//! model the server has. Each capability is one `match` over the flavor's
//! [`ServerFamily`] (declared once per flavor in `inventory/flavor.rs`); a flavor that
//! differs from its family in one capability gets its own arm here, not at a call site.
//! Call sites ask the capability and never compare flavors.

use crate::inventory::{Flavor, ServerFamily};

/// How a server identifies transactions globally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtidModel {
    /// MariaDB: `domain-server-sequence`, always recorded; a replica chooses with
    /// `Using_Gtid` whether it positions by them (`gtid_slave_pos`).
    DomainServerSequence,
    /// MySQL: sets of `server_uuid:interval` in `gtid_executed`, recorded only with
    /// `gtid_mode = ON`.
    ServerUuidSets,
}

impl Flavor {
    /// True when a freshly initialised data directory gives root a temporary, expired
    /// password (MySQL's `mysqld --initialize`), which mhactl replaces with the
    /// inventory's root password, so that password is required. MariaDB's root logs
    /// in through the unix socket instead.
    pub fn fresh_root_password_is_temporary(self) -> bool {
        match self.family() {
            ServerFamily::Mysql => true,
            ServerFamily::Mariadb => false,
        }
    }

    /// True when root logs in with the inventory's root password when it gives one
    /// (MySQL; without one, `auth_socket` as Debian packages it), so an access-denied or
    /// expired-password error means "use the inventory's root password". MariaDB's
    /// root authenticates by `unix_socket`.
    pub fn root_logs_in_with_password(self) -> bool {
        match self.family() {
            ServerFamily::Mysql => true,
            ServerFamily::Mariadb => false,
        }
    }

    /// True when, without a mirror, EL8+ nodes install this flavor from AppStream
    /// module streams (the inventory's version is the stream, enabled before install).
    pub fn installs_from_dnf_module_streams(self) -> bool {
        match self.family() {
            ServerFamily::Mariadb => true,
            ServerFamily::Mysql => false,
        }
    }

    /// True when EL7's own repositories carry only an unsupported release of this
    /// flavor (MariaDB 5.5), so a mirror (`packages.repository`) is required there.
    pub fn el7_base_repository_too_old(self) -> bool {
        match self.family() {
            ServerFamily::Mariadb => true,
            ServerFamily::Mysql => false,
        }
    }

    /// The flavor's GTID model.
    pub fn gtid_model(self) -> GtidModel {
        match self.family() {
            ServerFamily::Mariadb => GtidModel::DomainServerSequence,
            ServerFamily::Mysql => GtidModel::ServerUuidSets,
        }
    }
}
