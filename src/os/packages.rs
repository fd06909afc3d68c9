//! Package managers (apt, yum, dnf): refreshing the index, installing packages without
//! prompts, and asking which packages are installed.

use super::{sh_words, OsFamily};

/// The package manager of an OS family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    /// Debian/Ubuntu `apt-get` and `dpkg-query`.
    Apt,
    /// EL7 `yum` and `rpm`.
    Yum,
    /// EL8+ `dnf` and `rpm`.
    Dnf,
}

impl PackageManager {
    /// The package manager for a family (`None` for [`OsFamily::Unknown`]).
    pub fn for_family(family: OsFamily) -> Option<Self> {
        match family {
            OsFamily::Debian | OsFamily::Ubuntu => Some(PackageManager::Apt),
            OsFamily::El7 => Some(PackageManager::Yum),
            OsFamily::El8 | OsFamily::El9 => Some(PackageManager::Dnf),
            OsFamily::Unknown => None,
        }
    }

    /// Refreshes the package index.
    pub fn refresh_command(self) -> String {
        match self {
            // Waits for another apt (e.g. unattended-upgrades, or a run of ours that was
            // interrupted but whose apt still finishes on the node) instead of failing.
            PackageManager::Apt => "apt-get -o DPkg::Lock::Timeout=300 update -q".into(),
            PackageManager::Yum => "yum -y -q makecache".into(),
            PackageManager::Dnf => "dnf -y -q makecache".into(),
        }
    }

    /// Installs packages without prompts.
    pub fn install_command(self, pkgs: &[&str]) -> String {
        let pkgs = sh_words(pkgs);
        match self {
            // `dpkg --configure -a` finishes packages an interrupted install left unpacked,
            // so a re-run after an interruption converges instead of failing.
            // It waits (up to 5 minutes) while another dpkg holds the lock.
            // `APT::Status-Fd=1`: apt's machine-readable progress lines on stdout, among
            // its own (`package_progress` reads them while the install runs).
            PackageManager::Apt => format!(
                "export DEBIAN_FRONTEND=noninteractive; i=0; \
                 until out=$(dpkg --configure -a 2>&1); do \
                 case \"$out\" in *lock*) i=$((i+1)); [ $i -lt 300 ] || {{ echo \"$out\" >&2; exit 1; }}; sleep 1;; \
                 *) echo \"$out\" >&2; exit 1;; esac; done; \
                 apt-get -o DPkg::Lock::Timeout=300 -o APT::Status-Fd=1 install -y -q --no-install-recommends {pkgs}"
            ),
            PackageManager::Yum => format!("yum -y install {pkgs}"),
            PackageManager::Dnf => format!("dnf -y install {pkgs}"),
        }
    }

    /// Lists which of `pkgs` are installed; feed its stdout to [`Self::parse_installed`].
    /// Always exits 0 (a missing package is reported in the output, not the exit code).
    pub fn installed_query_command(self, pkgs: &[&str]) -> String {
        let pkgs = sh_words(pkgs);
        match self {
            PackageManager::Apt => {
                format!("dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {pkgs} 2>/dev/null || true")
            }
            PackageManager::Yum | PackageManager::Dnf => format!("rpm -q {pkgs} || true"),
        }
    }

    /// The packages of `pkgs` that the query output shows as not installed, in `pkgs` order.
    pub fn parse_installed(self, output: &str, pkgs: &[&str]) -> Vec<String> {
        match self {
            PackageManager::Apt => {
                let installed: Vec<&str> = output
                    .lines()
                    .filter_map(|l| {
                        let mut w = l.split_whitespace();
                        let name = w.next()?;
                        (w.next() == Some("installed")).then_some(name)
                    })
                    .collect();
                pkgs.iter()
                    .filter(|p| !installed.contains(p))
                    .map(|p| p.to_string())
                    .collect()
            }
            PackageManager::Yum | PackageManager::Dnf => pkgs
                .iter()
                .filter(|p| {
                    let not_installed = format!("package {p} is not installed");
                    let prefix = format!("{p}-");
                    let installed = output.lines().map(str::trim).any(|l| {
                        l != not_installed
                            && l.strip_prefix(&prefix)
                                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                    });
                    !installed
                })
                .map(|p| p.to_string())
                .collect(),
        }
    }

    /// Prints the version `pkg` would be installed at, from the repositories' metadata,
    /// without changing the node: apt reads fresh lists into a temporary directory (its
    /// own lists may be empty on a bare host, and `apt-get update` is install-packages'
    /// change, not a dry run's); dnf/yum ask the repositories. Feed its stdout to
    /// [`parse_candidate_version`]. Prints nothing when no repository has the package.
    pub fn candidate_version_command(self, pkg: &str) -> String {
        let pkg = sh_words(&[pkg]);
        match self {
            PackageManager::Apt => format!(
                "d=$(mktemp -d) || exit 0; mkdir -p \"$d/lists/partial\" \"$d/cache/archives/partial\"; \
                 o=\"-o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache\"; \
                 apt-get -q $o update >/dev/null 2>&1; \
                 apt-cache $o policy {pkg} 2>/dev/null | sed -n 's/^ *Candidate: //p'; rm -rf \"$d\""
            ),
            PackageManager::Dnf => format!(
                "dnf -q repoquery --latest-limit 1 --qf '%{{version}}\\n' {pkg} 2>/dev/null || true"
            ),
            PackageManager::Yum => format!(
                "yum -q list available {pkg} 2>/dev/null | awk 'NR > 1 {{ print $2 }}' | tail -n 1"
            ),
        }
    }
}

/// The upstream version (`10.11.18`) in [`PackageManager::candidate_version_command`]'s
/// output (`1:10.11.18-0+deb12u1`, `9.7.4-2`, `8.4.3-1.el9`): no epoch, no packaging
/// revision; `None` for an empty output or apt's `(none)`.
pub fn parse_candidate_version(output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    let no_epoch = line.split_once(':').map_or(line, |(_, v)| v);
    let upstream = no_epoch.split(['-', '+', '~']).next()?;
    upstream
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| upstream.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_versions() {
        assert_eq!(
            parse_candidate_version("1:10.11.18-0+deb12u1\n").as_deref(),
            Some("10.11.18")
        );
        assert_eq!(parse_candidate_version("9.7.4-2").as_deref(), Some("9.7.4"));
        assert_eq!(parse_candidate_version("8.4.3\n").as_deref(), Some("8.4.3"));
        assert_eq!(parse_candidate_version("(none)"), None);
        assert_eq!(parse_candidate_version(""), None);
        let apt = PackageManager::Apt.candidate_version_command("mariadb-server");
        assert!(apt.contains("Dir::State::Lists=$d/lists") && apt.contains("rm -rf"));
        assert!(!apt.contains("/var/lib/apt"));
    }

    #[test]
    fn package_commands() {
        let apt = PackageManager::Apt;
        assert_eq!(
            apt.refresh_command(),
            "apt-get -o DPkg::Lock::Timeout=300 update -q"
        );
        let install = apt.install_command(&["mariadb-server", "keepalived"]);
        assert!(
            install.contains("DEBIAN_FRONTEND=noninteractive"),
            "{install}"
        );
        assert!(
            install.contains("until out=$(dpkg --configure -a 2>&1)"),
            "{install}"
        );
        assert!(
            install.ends_with("-o APT::Status-Fd=1 install -y -q --no-install-recommends mariadb-server keepalived"),
            "{install}"
        );
        assert_eq!(
            apt.installed_query_command(&["mariadb-server"]),
            "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' mariadb-server 2>/dev/null || true"
        );
        assert_eq!(
            PackageManager::Yum.install_command(&["keepalived"]),
            "yum -y install keepalived"
        );
        assert_eq!(PackageManager::Dnf.refresh_command(), "dnf -y -q makecache");
        assert_eq!(
            PackageManager::for_family(OsFamily::El7),
            Some(PackageManager::Yum)
        );
        assert_eq!(
            PackageManager::for_family(OsFamily::El9),
            Some(PackageManager::Dnf)
        );
        assert_eq!(PackageManager::for_family(OsFamily::Unknown), None);
    }

    #[test]
    fn parse_installed_apt() {
        let out = "mariadb-server installed\nkeepalived config-files\n";
        assert_eq!(
            PackageManager::Apt
                .parse_installed(out, &["mariadb-server", "mariadb-client", "keepalived"]),
            ["mariadb-client", "keepalived"]
        );
        assert_eq!(PackageManager::Apt.parse_installed("", &["a"]), ["a"]);
    }

    #[test]
    fn parse_installed_rpm() {
        let out = "mysql-community-server-8.0.36-1.el8.x86_64\n\
                   package mysql-community-client is not installed\n\
                   keepalived-2.2.8-3.el9.x86_64\n";
        assert_eq!(
            PackageManager::Dnf.parse_installed(
                out,
                &[
                    "mysql-community-server",
                    "mysql-community-client",
                    "keepalived",
                    "mariadb"
                ]
            ),
            ["mysql-community-client", "mariadb"]
        );
        // "mariadb" must not match "mariadb-server-...".
        assert_eq!(
            PackageManager::Yum
                .parse_installed("mariadb-server-5.5.68-1.el7.x86_64\n", &["mariadb"]),
            ["mariadb"]
        );
    }
}
