//! The server flavor, and the one capability inventory validation needs itself.
//!
//! Layers point down only (dialect -> inventory), so inventory cannot ask
//! `dialect/flavor.rs`. A capability that both validation and the layers above need is
//! defined here, as one exhaustive `match` like those in `dialect/flavor.rs` (a new
//! flavor fails to compile here too); the dialect and bootstrap call it through the same
//! [`Flavor`] value. Every other capability stays in `dialect/flavor.rs`.

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

impl Flavor {
    /// True when, without a mirror, EL nodes install this flavor from the vendor's own
    /// yum repository (repo.mysql.com, with its release series), which mhactl sets up.
    pub fn installs_from_vendor_yum_repository(self) -> bool {
        match self {
            Flavor::Mysql => true,
            Flavor::Mariadb => false,
        }
    }
}
