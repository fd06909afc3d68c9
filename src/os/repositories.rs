//! Package repositories: the MySQL Yum repository's release series and setup RPMs,
//! enabling and disabling yum repos, the dnf modules that mask or choose server packages
//! (AppStream `mysql`/`mariadb`), and the inventory's mirror (`packages.repository`).

use super::{sh_quote, sh_words, OsFamily, PackageManager};
use anyhow::{bail, Result};

/// A MySQL release series of the MySQL Yum repository, chosen by the inventory's
/// `mysql.version` (see the MySQL Yum repository quick guide, "Selecting a Release Series").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MysqlSeries {
    /// 5.7 (EL7 only): repo id `mysql57-community`.
    V57,
    /// 8.0: repo id `mysql80-community`.
    V80,
    /// 8.4 LTS (the default): repo id `mysql-8.4-lts-community`.
    V84Lts,
    /// 9.7 LTS (GA 2026-05, the LTS series after 8.4): repo id `mysql-9.7-lts-community`,
    /// named after the 8.4 one; not yet checked against a live repo.mysql.com.
    V97Lts,
    /// Other 9.x Innovation releases: repo id `mysql-innovation-community`.
    Innovation,
}

/// Every server-series repo id of the MySQL Yum repository that mhactl keeps disabled
/// unless it is the wanted one (the connectors and tools repos are left alone).
pub const MYSQL_SERVER_REPO_IDS: &[&str] = &[
    "mysql55-community",
    "mysql56-community",
    "mysql57-community",
    "mysql80-community",
    "mysql-8.4-lts-community",
    "mysql-9.7-lts-community",
    "mysql-innovation-community",
];

impl MysqlSeries {
    /// The series for the inventory's `mysql.version` (`"5.7"`, `"8.0"`, `"8.4"`,
    /// `"9.1"` ...); 8.4 LTS when it is not set.
    pub fn from_version(version: Option<&str>) -> Result<Self> {
        let Some(v) = version.map(str::trim) else {
            return Ok(MysqlSeries::V84Lts);
        };
        let mut parts = v.split('.');
        let major: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Ok(match (major, minor) {
            (5, 7) => MysqlSeries::V57,
            (8, 0) => MysqlSeries::V80,
            (8, 4) => MysqlSeries::V84Lts,
            (9, 7) => MysqlSeries::V97Lts,
            (9, _) => MysqlSeries::Innovation,
            _ => bail!("MySQL {v}: the MySQL Yum repository has no such release series (5.7, 8.0, 8.4, 9.x)"),
        })
    }

    /// The repo id in the MySQL Yum repository's `.repo` file.
    pub fn repo_id(self) -> &'static str {
        match self {
            MysqlSeries::V57 => "mysql57-community",
            MysqlSeries::V80 => "mysql80-community",
            MysqlSeries::V84Lts => "mysql-8.4-lts-community",
            MysqlSeries::V97Lts => "mysql-9.7-lts-community",
            MysqlSeries::Innovation => "mysql-innovation-community",
        }
    }

    /// The repository setup RPM from repo.mysql.com for an EL major version: the 5.7
    /// one (EL7 only) for 5.7, the 9.7 one for 9.7 LTS (named like the others, not yet
    /// checked against repo.mysql.com: `packages.mysql_release_rpm` overrides it), else
    /// the 8.4 one, which carries the 8.0, 8.4 LTS and Innovation series (8.4 enabled by
    /// default).
    pub fn release_rpm_url(self, family: OsFamily) -> Result<String> {
        let el = match family {
            OsFamily::El7 => 7,
            OsFamily::El8 => 8,
            OsFamily::El9 => 9,
            _ => bail!("the MySQL Yum repository is for EL7, EL8 and EL9"),
        };
        Ok(match self {
            MysqlSeries::V57 if el == 7 => {
                "https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm".into()
            }
            MysqlSeries::V57 => bail!(
                "MySQL 5.7 has no EL{el} packages in the MySQL Yum repository (EL7 only): \
                 choose mysql.version 8.0 or 8.4, or give packages.repository"
            ),
            MysqlSeries::V97Lts => {
                format!("https://repo.mysql.com/mysql97-community-release-el{el}-1.noarch.rpm")
            }
            _ => format!("https://repo.mysql.com/mysql84-community-release-el{el}-1.noarch.rpm"),
        })
    }
}

/// Lists the installed MySQL repository setup RPMs (`mysql84-community-release-el9-1.noarch`);
/// empty output: none. Always exits 0.
pub const MYSQL_RELEASE_RPM_QUERY: &str = "rpm -qa 'mysql*-community-release*' || true";

/// Prints every `.repo` file of yum/dnf (for [`parse_yum_repos`]). Always exits 0.
pub const YUM_REPOS_QUERY: &str = "cat /etc/yum.repos.d/*.repo 2>/dev/null || true";

/// The repo ids in yum `.repo` files with whether each is enabled (`enabled=` absent
/// means enabled, as in yum.conf(5)), in file order.
pub fn parse_yum_repos(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((id.trim().to_string(), true));
        } else if let Some((k, v)) = line.split_once('=') {
            if k.trim() == "enabled" {
                if let Some(last) = out.last_mut() {
                    last.1 = matches!(v.trim(), "1" | "yes" | "true" | "True");
                }
            }
        }
    }
    out
}

/// What to change so that exactly `wanted` of the MySQL server-series repos is enabled:
/// (repo ids to disable, whether to enable `wanted`). Empty and `false` when it already is.
pub fn mysql_repo_changes(repos: &[(String, bool)], wanted: &str) -> (Vec<String>, bool) {
    let disable = repos
        .iter()
        .filter(|(id, on)| *on && id != wanted && MYSQL_SERVER_REPO_IDS.contains(&id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    let enable = !repos.iter().any(|(id, on)| *on && id == wanted);
    (disable, enable)
}

/// What enabling exactly `wanted` of the MySQL server series is called in a plan.
pub fn select_mysql_series_description(wanted: &str) -> String {
    format!(
        "enable only {wanted} of the MySQL server repositories (yum-config-manager / dnf config-manager)"
    )
}

/// Commands enabling/disabling yum repos persistently: `yum-config-manager` (yum-utils)
/// on EL7, `dnf config-manager` (dnf-plugins-core) on EL8+, each installing its tool
/// first when it is missing. One invocation per direction: `--enable`/`--disable` are
/// switches applying to every repo id named.
pub fn repo_toggle_commands(
    pm: PackageManager,
    disable: &[String],
    enable: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    if disable.is_empty() && enable.is_empty() {
        return out;
    }
    let ids = |v: &[&str]| sh_words(v);
    let disable: Vec<&str> = disable.iter().map(String::as_str).collect();
    match pm {
        PackageManager::Yum => {
            out.push(
                "command -v yum-config-manager >/dev/null 2>&1 || yum -y install yum-utils".into(),
            );
            if !disable.is_empty() {
                out.push(format!(
                    "yum-config-manager -q --disable {} >/dev/null",
                    ids(&disable)
                ));
            }
            if !enable.is_empty() {
                out.push(format!(
                    "yum-config-manager -q --enable {} >/dev/null",
                    ids(enable)
                ));
            }
        }
        PackageManager::Dnf => {
            out.push(
                "dnf config-manager --help >/dev/null 2>&1 || dnf -y install dnf-plugins-core"
                    .into(),
            );
            if !disable.is_empty() {
                out.push(format!(
                    "dnf config-manager --set-disabled {}",
                    ids(&disable)
                ));
            }
            if !enable.is_empty() {
                out.push(format!("dnf config-manager --set-enabled {}", ids(enable)));
            }
        }
        PackageManager::Apt => {}
    }
    out
}

/// The dnf modules that mask the MySQL repository's packages on EL8+ unless disabled
/// (the AppStream `mysql` module; `mariadb`, whose packages conflict with MySQL's).
pub const MYSQL_MASKING_MODULES: &[&str] = &["mysql", "mariadb"];

/// Prints `NAME STATE` per module: the `state=` dnf recorded in
/// `/etc/dnf/modules.d/NAME.module` (`enabled`, `disabled`, or empty for a default
/// stream), else `available` when a repository offers the module, else `none`.
pub fn module_state_query(modules: &[&str]) -> String {
    modules
        .iter()
        .map(|m| {
            let m = sh_quote(m);
            format!(
                "if [ -f /etc/dnf/modules.d/{m}.module ]; then echo {m} \"$(sed -n 's/^state=//p' /etc/dnf/modules.d/{m}.module)\"; \
                 elif dnf -q module list {m} >/dev/null 2>&1; then echo {m} available; else echo {m} none; fi"
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Disables dnf `modules` (names from [`modules_to_disable`]).
pub fn module_disable_command(modules: &[&str]) -> String {
    format!("dnf -y module disable {}", modules.join(" "))
}

/// The modules of [`module_state_query`]'s output that still need `dnf module disable`
/// (they exist and are not disabled), in output order.
pub fn modules_to_disable(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let state = w.next().unwrap_or("");
            (!matches!(state, "disabled" | "none")).then(|| name.to_string())
        })
        .collect()
}

/// The dnf module stream of MariaDB `version` (`"10.11"`) on this node: prints
/// `STREAM STATE` from `/etc/dnf/modules.d/mariadb.module` when dnf recorded a state
/// there (`10.11 enabled`, `10.3 disabled`), else `VERSION available` when a repository
/// offers the stream `mariadb:VERSION`, else `none` (no such stream: EL9's non-modular
/// MariaDB 10.5, Fedora, EL10).
pub fn mariadb_stream_query(version: &str) -> String {
    let f = "/etc/dnf/modules.d/mariadb.module";
    let v = sh_quote(version);
    format!(
        "f={f}; if [ -f \"$f\" ] && [ -n \"$(sed -n 's/^state=//p' \"$f\")\" ]; then \
         echo \"$(sed -n 's/^stream=//p' \"$f\") $(sed -n 's/^state=//p' \"$f\")\"; \
         elif dnf -q module list mariadb:{v} >/dev/null 2>&1; then echo {v} available; else echo none; fi"
    )
}

/// What makes dnf install MariaDB `version` from AppStream, given
/// [`mariadb_stream_query`]'s output: nothing when no module has that stream (the
/// non-modular packages are installed as they are) or when it is enabled already; else
/// `dnf -y module enable mariadb:VERSION`, after `dnf -y module reset mariadb` when
/// another stream is enabled (dnf does not switch enabled streams by itself). Without
/// it, dnf installs the module's default stream (EL8: 10.3) or, on EL9, the
/// non-modular 10.5, whatever the inventory's `mysql.version` says.
pub fn mariadb_stream_commands(state: &str, version: &str) -> Vec<String> {
    let mut w = state.split_whitespace();
    let (stream, st) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
    if stream.is_empty() || stream == "none" || (stream == version && st == "enabled") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if st == "enabled" {
        out.push("dnf -y module reset mariadb".to_string());
    }
    out.push(format!(
        "dnf -y module enable mariadb:{}",
        sh_quote(version)
    ));
    out
}

/// Where [`mirror_repo_file`] goes.
pub fn mirror_repo_path(pm: PackageManager) -> &'static str {
    match pm {
        PackageManager::Apt => "/etc/apt/sources.list.d/mhactl.list",
        PackageManager::Yum | PackageManager::Dnf => "/etc/yum.repos.d/mhactl.repo",
    }
}

/// The repo id (yum) that [`mirror_repo_file`] defines.
pub const MIRROR_REPO_ID: &str = "mhactl";

/// The repository definition for the inventory's `packages.repository` (a `file:` or
/// `http(s):` URL): a yum repo `[mhactl]` (GPG-checked with `gpg_key` when given;
/// `module_hotfixes=1` on dnf so modular filtering never hides its packages), or a flat
/// apt repository (`deb URL ./`, trusted unless `gpg_key` names a keyring on the node).
pub fn mirror_repo_file(pm: PackageManager, url: &str, gpg_key: Option<&str>) -> String {
    let head = "# Written by mhactl bootstrap from the inventory's packages.repository:\n\
                # bootstrap installs the database server and keepalived from this repository only.\n";
    match pm {
        PackageManager::Apt => {
            let opt = match gpg_key {
                Some(k) => format!(
                    "signed-by={}",
                    k.strip_prefix("file://")
                        .or(k.strip_prefix("file:"))
                        .unwrap_or(k)
                ),
                None => "trusted=yes".into(),
            };
            format!("{head}deb [{opt}] {url} ./\n")
        }
        PackageManager::Yum | PackageManager::Dnf => {
            let mut s = format!(
                "{head}[{MIRROR_REPO_ID}]\nname=mhactl packages.repository\nbaseurl={url}\nenabled=1\n"
            );
            match gpg_key {
                Some(k) => s.push_str(&format!("gpgcheck=1\ngpgkey={k}\n")),
                None => s.push_str("gpgcheck=0\n"),
            }
            if pm == PackageManager::Dnf {
                s.push_str("module_hotfixes=1\n");
            }
            s
        }
    }
}

impl PackageManager {
    /// Refreshes the index of the mirror repository only.
    pub fn mirror_refresh_command(self) -> String {
        match self {
            PackageManager::Apt => format!("apt-get {} update -q", apt_only_mirror()),
            PackageManager::Yum => format!("yum -y -q {} makecache", yum_only_mirror()),
            PackageManager::Dnf => format!("dnf -y -q {} makecache", yum_only_mirror()),
        }
    }

    /// Installs packages from the mirror repository only (every other repository off
    /// for this command).
    pub fn mirror_install_command(self, pkgs: &[&str]) -> String {
        match self {
            PackageManager::Apt => self.install_command(pkgs).replace(
                "apt-get -o DPkg",
                &format!("apt-get {} -o DPkg", apt_only_mirror()),
            ),
            PackageManager::Yum => {
                format!("yum -y {} install {}", yum_only_mirror(), sh_words(pkgs))
            }
            PackageManager::Dnf => {
                format!("dnf -y {} install {}", yum_only_mirror(), sh_words(pkgs))
            }
        }
    }
}

fn apt_only_mirror() -> String {
    format!(
        "-o Dir::Etc::SourceList={} -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0",
        mirror_repo_path(PackageManager::Apt)
    )
}

fn yum_only_mirror() -> String {
    format!("--disablerepo='*' --enablerepo={MIRROR_REPO_ID}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_series_from_inventory_version() {
        assert_eq!(
            MysqlSeries::from_version(None).unwrap(),
            MysqlSeries::V84Lts
        );
        assert_eq!(
            MysqlSeries::from_version(Some("5.7")).unwrap().repo_id(),
            "mysql57-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("8.0")).unwrap().repo_id(),
            "mysql80-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("8.4")).unwrap().repo_id(),
            "mysql-8.4-lts-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("9.1")).unwrap().repo_id(),
            "mysql-innovation-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("9.7")).unwrap().repo_id(),
            "mysql-9.7-lts-community"
        );
        assert!(MysqlSeries::from_version(Some("5.6")).is_err());
        assert_eq!(
            MysqlSeries::V57.release_rpm_url(OsFamily::El7).unwrap(),
            "https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm"
        );
        assert_eq!(
            MysqlSeries::V84Lts.release_rpm_url(OsFamily::El9).unwrap(),
            "https://repo.mysql.com/mysql84-community-release-el9-1.noarch.rpm"
        );
        assert_eq!(
            MysqlSeries::V80.release_rpm_url(OsFamily::El8).unwrap(),
            "https://repo.mysql.com/mysql84-community-release-el8-1.noarch.rpm"
        );
        let err = MysqlSeries::V57.release_rpm_url(OsFamily::El9).unwrap_err();
        assert!(format!("{err}").contains("EL7 only"), "{err}");
        assert!(MysqlSeries::V80.release_rpm_url(OsFamily::Debian).is_err());
    }

    #[test]
    fn yum_repo_files_and_series_selection() {
        let repos = parse_yum_repos(include_str!(
            "../../tests/fixtures/el/mysql84-community-release-el8-1.repo"
        ));
        assert!(repos.contains(&("mysql-8.4-lts-community".into(), true)));
        assert!(repos.contains(&("mysql80-community".into(), false)));
        assert!(repos.contains(&("mysql-innovation-community".into(), false)));
        // Already as wanted: nothing to change.
        assert_eq!(
            mysql_repo_changes(&repos, "mysql-8.4-lts-community"),
            (vec![], false)
        );
        // 8.0 wanted: turn 8.4 off and 8.0 on; the tools and connectors repos stay.
        let (off, on) = mysql_repo_changes(&repos, "mysql80-community");
        assert_eq!(off, ["mysql-8.4-lts-community"]);
        assert!(on);
        assert_eq!(
            repo_toggle_commands(PackageManager::Dnf, &off, &["mysql80-community"]),
            [
                "dnf config-manager --help >/dev/null 2>&1 || dnf -y install dnf-plugins-core",
                "dnf config-manager --set-disabled mysql-8.4-lts-community",
                "dnf config-manager --set-enabled mysql80-community",
            ]
        );
        assert_eq!(
            repo_toggle_commands(
                PackageManager::Yum,
                &["mysql80-community".into()],
                &["mysql57-community"]
            ),
            [
                "command -v yum-config-manager >/dev/null 2>&1 || yum -y install yum-utils",
                "yum-config-manager -q --disable mysql80-community >/dev/null",
                "yum-config-manager -q --enable mysql57-community >/dev/null",
            ]
        );
        assert!(repo_toggle_commands(PackageManager::Yum, &[], &[]).is_empty());
        let el7 = parse_yum_repos(include_str!(
            "../../tests/fixtures/el/mysql57-community-release-el7-11.repo"
        ));
        assert_eq!(
            mysql_repo_changes(&el7, "mysql57-community"),
            (vec![], false)
        );
        // `enabled` absent means enabled; comments and continuation lines are skipped.
        assert_eq!(
            parse_yum_repos("[a]\nname=A\n# enabled=0\n[b]\nenabled = 0\ngpgkey=x\n   y\n"),
            [("a".to_string(), true), ("b".to_string(), false)]
        );
    }

    #[test]
    fn dnf_modules_to_disable() {
        let q = module_state_query(&["mysql", "mariadb"]);
        assert!(q.contains("/etc/dnf/modules.d/mysql.module"), "{q}");
        assert!(q.contains("dnf -q module list mariadb"), "{q}");
        assert_eq!(
            modules_to_disable("mysql available\nmariadb disabled\n"),
            ["mysql"]
        );
        // A default stream has a module file with an empty state.
        assert_eq!(
            modules_to_disable("mysql \nmariadb enabled\n"),
            ["mysql", "mariadb"]
        );
        assert!(modules_to_disable("mysql none\nmariadb none\n").is_empty());
    }

    #[test]
    fn mariadb_module_stream_is_enabled_for_the_inventorys_version() {
        let q = mariadb_stream_query("10.11");
        assert!(q.contains("dnf -q module list mariadb:10.11"), "{q}");
        assert!(q.contains("/etc/dnf/modules.d/mariadb.module"), "{q}");
        // EL9.4+: AppStream's mariadb:10.11 stream, not enabled yet (the plain
        // mariadb-server package would be 10.5).
        assert_eq!(
            mariadb_stream_commands("10.11 available\n", "10.11"),
            ["dnf -y module enable mariadb:10.11"]
        );
        // EL8: the default stream 10.3 is enabled: switch.
        assert_eq!(
            mariadb_stream_commands("10.3 enabled\n", "10.11"),
            [
                "dnf -y module reset mariadb",
                "dnf -y module enable mariadb:10.11"
            ]
        );
        // Disabled (e.g. for the MySQL repository earlier): enable the stream.
        assert_eq!(
            mariadb_stream_commands("10.3 disabled\n", "10.5"),
            ["dnf -y module enable mariadb:10.5"]
        );
        // Already so, or no such stream (EL9's non-modular 10.5, Fedora): nothing.
        assert!(mariadb_stream_commands("10.11 enabled\n", "10.11").is_empty());
        assert!(mariadb_stream_commands("none\n", "10.5").is_empty());
        assert!(mariadb_stream_commands("", "10.11").is_empty());
    }

    #[test]
    fn mirror_repository_files_and_commands() {
        let yum = mirror_repo_file(
            PackageManager::Dnf,
            "http://mirror.local/el9",
            Some("http://mirror.local/KEY"),
        );
        assert!(yum.contains("[mhactl]\nname=mhactl packages.repository\nbaseurl=http://mirror.local/el9\nenabled=1\ngpgcheck=1\ngpgkey=http://mirror.local/KEY\nmodule_hotfixes=1\n"), "{yum}");
        let el7 = mirror_repo_file(PackageManager::Yum, "file:///srv/repo", None);
        assert!(el7.ends_with("gpgcheck=0\n"), "{el7}");
        assert_eq!(
            mirror_repo_path(PackageManager::Yum),
            "/etc/yum.repos.d/mhactl.repo"
        );
        let apt = mirror_repo_file(PackageManager::Apt, "file:/srv/mhactl-repo", None);
        assert!(
            apt.ends_with("deb [trusted=yes] file:/srv/mhactl-repo ./\n"),
            "{apt}"
        );
        let signed = mirror_repo_file(
            PackageManager::Apt,
            "http://m/deb",
            Some("file:///etc/apt/keyrings/m.gpg"),
        );
        assert!(
            signed.ends_with("deb [signed-by=/etc/apt/keyrings/m.gpg] http://m/deb ./\n"),
            "{signed}"
        );
        assert_eq!(
            PackageManager::Dnf.mirror_install_command(&["mysql-community-server", "keepalived"]),
            "dnf -y --disablerepo='*' --enablerepo=mhactl install mysql-community-server keepalived"
        );
        assert_eq!(
            PackageManager::Yum.mirror_refresh_command(),
            "yum -y -q --disablerepo='*' --enablerepo=mhactl makecache"
        );
        let apt_install = PackageManager::Apt.mirror_install_command(&["keepalived"]);
        assert!(apt_install.contains("apt-get -o Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 -o DPkg::Lock::Timeout=300 -o APT::Status-Fd=1 install -y -q --no-install-recommends keepalived"), "{apt_install}");
        assert_eq!(
            PackageManager::Apt.mirror_refresh_command(),
            "apt-get -o Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 update -q"
        );
    }
}
