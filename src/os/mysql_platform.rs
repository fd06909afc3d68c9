//! Which MySQL release series an EL release can get from the MySQL Yum repository, from
//! what Oracle publishes (docs/compatibility.md cites each fact and marks what is not
//! confirmed), and the signing keys an EL7 node must trust for it.
//!
//! - A `mysql97-community-release` setup RPM is confirmed for EL9 and EL10 only; the
//!   newer `mysql84-community-release` revisions that carry 9.7 (el9-4, el10-3) are
//!   EL9/EL10 too. Nothing confirms MySQL 9.x packages for EL7 (end of maintenance
//!   2024-06): 9.x on EL7 is refused before anything runs. On EL8 the 9.7 setup RPM
//!   mhactl would use is not confirmed: a warning says so.
//! - MySQL 5.7.37 and later are signed with the 2022 key (key ID 3A79BD29, refman 5.7
//!   "Signature Checking Using GnuPG"), which `mysql57-community-release-el7-11`'s
//!   `.repo` does not list (it lists `RPM-GPG-KEY-mysql`, key 5072E1F5, only): yum's
//!   signature check fails unless that key is imported first.

use super::{MysqlSeries, OsFamily};

/// What mhactl says about a MySQL series on an OS release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformVerdict {
    /// Nothing to say.
    Fine,
    /// Go ahead, but the user should know this.
    Warn(String),
    /// Refuse before anything runs.
    Refuse(String),
}

/// The verdict for `mysql.version` (`version`, `None`: the 8.4 LTS default) on
/// `family`; `own_source`: the inventory names its own packages
/// (`packages.repository` or `packages.mysql_release_rpm`).
pub fn mysql_series_on(
    family: OsFamily,
    version: Option<&str>,
    own_source: bool,
) -> PlatformVerdict {
    let Ok(series) = MysqlSeries::from_version(version) else {
        return PlatformVerdict::Fine; // install-packages names the field.
    };
    let v = version.unwrap_or("8.4");
    let nine = matches!(series, MysqlSeries::V97Lts | MysqlSeries::Innovation);
    match (family, nine) {
        (OsFamily::El7, true) => PlatformVerdict::Refuse(format!(
            "mysql.version {v}: MySQL 9.x is not published for EL7 (the MySQL Yum repository's \
             9.7 setup RPM exists for EL9 and EL10 only, and EL7 is out of maintenance): use \
             mysql.version 8.0 or 5.7 on EL7, or move the pair to EL9"
        )),
        (OsFamily::El8, true) if own_source => PlatformVerdict::Warn(format!(
            "mysql.version {v} on EL8: MySQL 9.x packages for EL8 are not confirmed by Oracle's \
             repository documentation; the packages you named are used as they are"
        )),
        (OsFamily::El8, true) => PlatformVerdict::Warn(format!(
            "mysql.version {v} on EL8: a MySQL 9.x setup RPM for EL8 is not confirmed (only EL9 \
             and EL10 ones are); if installing fails, set packages.mysql_release_rpm or \
             packages.repository, or use mysql.version 8.4"
        )),
        _ => PlatformVerdict::Fine,
    }
}

/// Where the 2022 MySQL signing key is published.
pub const MYSQL_GPG_KEY_2022_URL: &str = "https://repo.mysql.com/RPM-GPG-KEY-mysql-2022";
/// The rpm name of the imported 2022 key (`gpg-pubkey-<short key id>`).
pub const MYSQL_GPG_KEY_2022_RPM: &str = "gpg-pubkey-3a79bd29";

/// The signing keys an EL node must have imported before yum installs `series` from
/// the MySQL Yum repository's setup RPM, as (rpm name of the imported key, where to get
/// it): on EL7 the 2022 key for 5.7 (5.7.37+), which the el7-11 setup RPM does not list.
/// (8.0 on EL7 comes from the mysql84 setup RPM, whose `.repo` is not confirmed: not
/// handled here, docs/compatibility.md.) `key_source` (`packages.mysql_gpg_key`) replaces the URL (an
/// internal copy, for sites without access to repo.mysql.com).
pub fn keys_to_import(
    family: OsFamily,
    series: MysqlSeries,
    key_source: Option<&str>,
) -> Vec<(&'static str, String)> {
    match (family, series) {
        (OsFamily::El7, MysqlSeries::V57) => vec![(
            MYSQL_GPG_KEY_2022_RPM,
            key_source.unwrap_or(MYSQL_GPG_KEY_2022_URL).to_string(),
        )],
        _ => Vec::new(),
    }
}

/// Exits 0 when the signing key `rpm_name` (`gpg-pubkey-…`) is in rpm's keyring.
pub fn key_installed_command(rpm_name: &str) -> String {
    format!(
        "rpm -q {} >/dev/null 2>&1",
        crate::transport::shell_quote(rpm_name)
    )
}

/// Import `source` into rpm's keyring unless `rpm_name` is there already.
pub fn import_key_command(rpm_name: &str, source: &str) -> String {
    format!(
        "rpm -q {} >/dev/null 2>&1 || rpm --import {}",
        crate::transport::shell_quote(rpm_name),
        crate::transport::shell_quote(source)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_is_refused_on_el7_and_warned_about_on_el8() {
        for v in ["9.7", "9.1"] {
            let PlatformVerdict::Refuse(msg) = mysql_series_on(OsFamily::El7, Some(v), false)
            else {
                panic!("{v} on EL7 not refused");
            };
            assert!(msg.starts_with(&format!("mysql.version {v}:")), "{msg}");
            // A mirror does not make EL7 packages exist.
            assert!(matches!(
                mysql_series_on(OsFamily::El7, Some(v), true),
                PlatformVerdict::Refuse(_)
            ));
            assert!(matches!(
                mysql_series_on(OsFamily::El8, Some(v), false),
                PlatformVerdict::Warn(m) if m.contains("packages.mysql_release_rpm")
            ));
            assert_eq!(
                mysql_series_on(OsFamily::El9, Some(v), false),
                PlatformVerdict::Fine
            );
        }
        for v in [Some("5.7"), Some("8.0"), None] {
            assert_eq!(
                mysql_series_on(OsFamily::El7, v, false),
                PlatformVerdict::Fine
            );
        }
    }

    #[test]
    fn el7_imports_the_2022_key_for_57() {
        assert_eq!(
            keys_to_import(OsFamily::El7, MysqlSeries::V57, None),
            [("gpg-pubkey-3a79bd29", MYSQL_GPG_KEY_2022_URL.to_string())]
        );
        assert_eq!(
            keys_to_import(
                OsFamily::El7,
                MysqlSeries::V57,
                Some("file:///srv/keys/mysql-2022")
            ),
            [(
                "gpg-pubkey-3a79bd29",
                "file:///srv/keys/mysql-2022".to_string()
            )]
        );
        assert!(keys_to_import(OsFamily::El9, MysqlSeries::V84Lts, None).is_empty());
        assert_eq!(
            import_key_command("gpg-pubkey-3a79bd29", MYSQL_GPG_KEY_2022_URL),
            "rpm -q gpg-pubkey-3a79bd29 >/dev/null 2>&1 || rpm --import https://repo.mysql.com/RPM-GPG-KEY-mysql-2022"
        );
    }
}

#[cfg(test)]
mod repo_tests {
    use crate::os::{mysql_repo_changes, parse_yum_repos};

    /// The newer setup RPM revisions enable 9.7 LTS: mhactl's default (8.4 LTS) must
    /// switch it off and 8.4 on; asking for 9.7 needs no change.
    #[test]
    fn newer_setup_rpms_enable_97_which_84_turns_off() {
        let repos = parse_yum_repos(include_str!(
            "../../tests/fixtures/el/mysql84-community-release-el9-4.repo"
        ));
        assert!(repos.contains(&("mysql-9.7-lts-community".into(), true)));
        assert!(repos.contains(&("mysql-tools-9.7-lts-community".into(), true)));
        assert_eq!(
            mysql_repo_changes(&repos, "mysql-8.4-lts-community"),
            (vec!["mysql-9.7-lts-community".to_string()], true)
        );
        assert_eq!(
            mysql_repo_changes(&repos, "mysql-9.7-lts-community"),
            (Vec::new(), false)
        );
    }

    /// Every release series' tools repository is in the fixtures, disabled unless it is
    /// the default series'.
    #[test]
    fn fixtures_list_the_innovation_tools_repository() {
        for text in [
            include_str!("../../tests/fixtures/el/mysql84-community-release-el8-1.repo"),
            include_str!("../../tests/fixtures/el/mysql84-community-release-el9-1.repo"),
            include_str!("../../tests/fixtures/el/mysql84-community-release-el9-4.repo"),
        ] {
            let repos = parse_yum_repos(text);
            assert!(
                repos.contains(&("mysql-tools-innovation-community".into(), false)),
                "{repos:?}"
            );
        }
        // The el7-11 .repo lists only the old key.
        let el7 = include_str!("../../tests/fixtures/el/mysql57-community-release-el7-11.repo");
        assert!(el7
            .lines()
            .filter(|l| l.starts_with("gpgkey="))
            .all(|l| l == "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-mysql"));
    }
}
