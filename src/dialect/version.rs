//! The server's flavor and version, parsed from `SELECT VERSION()`, and the check that the
//! running server is the one the inventory describes.

use crate::inventory::{Flavor, ServerFamily};
use anyhow::{bail, Context, Result};
use std::fmt;

/// A server version as reported by `SELECT VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// MariaDB or MySQL.
    pub flavor: Flavor,
    /// Major version (`10` in 10.11.18).
    pub major: u32,
    /// Minor version (`11` in 10.11.18).
    pub minor: u32,
    /// Patch level (`18` in 10.11.18; 0 when absent).
    pub patch: u32,
}

impl Version {
    /// Builds a version from its parts.
    pub fn new(flavor: Flavor, major: u32, minor: u32, patch: u32) -> Self {
        Version {
            flavor,
            major,
            minor,
            patch,
        }
    }

    /// Parses `SELECT VERSION()` output such as `10.11.18-MariaDB-0+deb12u1`, `8.4.2-log`
    /// or `9.7.4`. The flavor is MariaDB when the string contains `MariaDB`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let flavor = if s.contains("MariaDB") {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        };
        // MariaDB before 11 may prefix the handshake version with "5.5.5-".
        let rest = match flavor.family() {
            ServerFamily::Mariadb => s.strip_prefix("5.5.5-").unwrap_or(s),
            ServerFamily::Mysql => s,
        };
        let numeric: &str = rest
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let mut next = |what: &str, required: bool| -> Result<u32> {
            match parts.next() {
                Some(p) => p
                    .parse::<u32>()
                    .with_context(|| format!("bad {what} version number in {s:?}")),
                None if required => bail!("cannot parse server version {s:?}: no {what} number"),
                None => Ok(0),
            }
        };
        let major = next("major", true)?;
        let minor = next("minor", true)?;
        let patch = next("patch", false)?;
        Ok(Version::new(flavor, major, minor, patch))
    }

    /// True if this version is at least `major.minor.patch` (flavor not compared).
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// MySQL at least `major.minor.patch`. A match, not `==`: a new flavor must say here
    /// whether MySQL's version boundaries apply to it.
    pub(super) fn mysql_at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        match self.flavor.family() {
            ServerFamily::Mysql => self.at_least(major, minor, patch),
            ServerFamily::Mariadb => false,
        }
    }

    /// MariaDB at least `major.minor.patch` (see [`Self::mysql_at_least`]).
    pub(super) fn mariadb_at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        match self.flavor.family() {
            ServerFamily::Mariadb => self.at_least(major, minor, patch),
            ServerFamily::Mysql => false,
        }
    }
}

impl Version {
    /// Why this running server is not the one the inventory describes (`mysql.flavor`
    /// and, when set, `mysql.version` as `major.minor`), or `None` when it is.
    pub fn mismatch(&self, flavor: Flavor, version: Option<&str>) -> Option<String> {
        let name = Flavor::inventory_name;
        if self.flavor != flavor {
            return Some(format!(
                "the server is {self}, but mysql.flavor is {}: fix mysql.flavor, or install {} on the node",
                name(flavor),
                name(flavor)
            ));
        }
        let want = version?.trim();
        let have = format!("{}.{}", self.major, self.minor);
        (want != have).then(|| {
            format!(
                "the server is {self}, but mysql.version is \"{want}\": set mysql.version to \"{have}\", \
                 or install {want} on the node (mhactl does not upgrade or downgrade servers)"
            )
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.flavor.server_name();
        write!(f, "{name} {}.{}.{}", self.major, self.minor, self.patch)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        let v = Version::parse("10.11.18-MariaDB-0+deb12u1").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 10, 11, 18));
        let v = Version::parse("11.8.3-MariaDB-1").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 11, 8, 3));
        // Debian sid's, as `SELECT VERSION()` returns it on the mariadb11 lab.
        let v = Version::parse("11.8.9-MariaDB-4 from Debian-log").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 11, 8, 9));
        let v = Version::parse("5.5.5-10.4.34-MariaDB").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 10, 4, 34));
        assert_eq!(
            Version::parse("8.0.36").unwrap(),
            Version::new(Flavor::Mysql, 8, 0, 36)
        );
        assert_eq!(
            Version::parse("8.4.2-log").unwrap(),
            Version::new(Flavor::Mysql, 8, 4, 2)
        );
        assert_eq!(
            Version::parse(" 9.7.4\n").unwrap(),
            Version::new(Flavor::Mysql, 9, 7, 4)
        );
        assert_eq!(
            Version::parse("5.7.44-log").unwrap(),
            Version::new(Flavor::Mysql, 5, 7, 44)
        );
        assert_eq!(
            Version::parse("8.0").unwrap(),
            Version::new(Flavor::Mysql, 8, 0, 0)
        );
        assert!(Version::parse("").is_err());
        assert!(Version::parse("MariaDB").is_err());
        let v = Version::parse("8.4.3").unwrap();
        assert_eq!(v.mismatch(Flavor::Mysql, Some("8.4")), None);
        assert_eq!(v.mismatch(Flavor::Mysql, None), None);
        assert!(v
            .mismatch(Flavor::Mysql, Some("8.0"))
            .is_some_and(|m| m.contains("MySQL 8.4.3") && m.contains("\"8.0\"")));
        assert!(v
            .mismatch(Flavor::Mariadb, None)
            .is_some_and(|m| m.contains("mysql.flavor is mariadb")));
        let m = Version::parse("10.11.18-MariaDB-0+deb12u1-log").unwrap();
        assert_eq!(m.mismatch(Flavor::Mariadb, Some("10.11")), None);
        assert!(Version::parse("8").is_err());
        assert_eq!(
            Version::parse("10.11.18-MariaDB").unwrap().to_string(),
            "MariaDB 10.11.18"
        );
    }
}
