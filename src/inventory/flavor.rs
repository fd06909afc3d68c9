//! The server flavor, its [`ServerFamily`], and the capabilities inventory needs itself.
//!
//! Layers point down only (dialect, os -> inventory), so inventory and os cannot ask
//! `dialect/flavor.rs`. What they need is defined here, as exhaustive `match`es over
//! [`Flavor`] (a new flavor fails to compile here): its inventory name, its family, and
//! whether it installs from the vendor's yum repository. Code that picks SQL or shell
//! text by flavor matches on [`Flavor::family`], never on [`Flavor`], so adding a flavor
//! of an existing family changes no per-statement code.

use serde::{Deserialize, Serialize};

/// Server flavor.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// MariaDB 10.x / 11.x (Debian's default `mariadb-server`).
    #[default]
    Mariadb,
    /// Oracle MySQL 5.7 / 8.0 / 8.4 / 9.x.
    Mysql,
}

/// The server codebase a flavor derives from, which decides its SQL vocabulary (`SLAVE`
/// or `REPLICA` and their version boundaries, GTID model), its init tool, the option
/// groups it reads and its packaged file layout. Per-statement code matches on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerFamily {
    /// MariaDB's server.
    Mariadb,
    /// Oracle MySQL's server (and the servers built from it).
    Mysql,
}

impl Flavor {
    /// The codebase this flavor's server derives from.
    pub fn family(self) -> ServerFamily {
        match self {
            Flavor::Mariadb => ServerFamily::Mariadb,
            Flavor::Mysql => ServerFamily::Mysql,
        }
    }

    /// The flavor as the inventory spells it (`mysql.flavor`).
    pub fn inventory_name(self) -> &'static str {
        match self {
            Flavor::Mariadb => "mariadb",
            Flavor::Mysql => "mysql",
        }
    }

    /// The flavor whose inventory name is `name` (what serde accepts for `mysql.flavor`).
    pub fn from_inventory_name(name: &str) -> Option<Flavor> {
        use serde::de::{value::StrDeserializer, IntoDeserializer};
        let d: StrDeserializer<'_, serde::de::value::Error> = name.into_deserializer();
        Flavor::deserialize(d).ok()
    }

    /// The server's product name, as reports print it before its version.
    pub fn server_name(self) -> &'static str {
        match self {
            Flavor::Mariadb => "MariaDB",
            Flavor::Mysql => "MySQL",
        }
    }

    /// True when, without a mirror, EL nodes install this flavor from the vendor's own
    /// yum repository (repo.mysql.com, with its release series), which mhactl sets up.
    pub fn installs_from_vendor_yum_repository(self) -> bool {
        match self {
            Flavor::Mysql => true,
            Flavor::Mariadb => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_names_round_trip() {
        for f in [Flavor::Mariadb, Flavor::Mysql] {
            assert_eq!(Flavor::from_inventory_name(f.inventory_name()), Some(f));
        }
        assert_eq!(Flavor::from_inventory_name("MySQL"), None);
        assert_eq!(Flavor::from_inventory_name(""), None);
    }
}
