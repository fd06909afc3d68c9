//! Facts about packages, repositories and SELinux labels, for `install-packages`,
//! `keepalived` and verify's `keepalived-config`: which wanted packages are missing, the
//! installed MySQL release RPM, the yum repositories, dnf module states, the health-check
//! script's SELinux type. Commands and parsers from `os/packages.rs`,
//! `os/repositories.rs` and `os/selinux.rs`. Volatile: install-packages changes them.

use super::{get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::os::selinux::CheckScriptLabel;
use crate::os::PackageManager;
use anyhow::Result;

/// Which packages, asked of which package manager ([`MissingPackages`]'s argument).
#[derive(Clone)]
pub struct PackagesArg {
    /// apt, yum or dnf.
    pub pm: PackageManager,
    /// The packages wanted.
    pub wanted: Vec<&'static str>,
}

impl super::cache::FactArg for PackagesArg {
    fn key(&self) -> String {
        format!("{:?}/{}", self.pm, self.wanted.join(","))
    }
}

/// The wanted packages that are not installed.
pub struct MissingPackages;

impl Fact for MissingPackages {
    type Arg = PackagesArg;
    type Value = Vec<String>;
    const NAME: &'static str = "missing-packages";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(a: &PackagesArg, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: a.pm.installed_query_command(&a.wanted),
            must_succeed: false,
        }
    }
    fn parse(a: &PackagesArg, raw: &Raw) -> Result<Vec<String>> {
        Ok(a.pm.parse_installed(&raw.output()?.stdout, &a.wanted))
    }
}

/// The version a package would be installed at (upstream part, `10.11.18`), from the
/// repositories' metadata; `None` when no repository has it (or, before install-packages
/// writes it, the mirror the inventory names is not configured yet).
pub struct CandidateVersion;

impl Fact for CandidateVersion {
    type Arg = PackagesArg;
    type Value = Option<String>;
    const NAME: &'static str = "candidate-version";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(a: &PackagesArg, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: a
                .pm
                .candidate_version_command(a.wanted.first().copied().unwrap_or_default()),
            must_succeed: false,
        }
    }
    fn parse(_: &PackagesArg, raw: &Raw) -> Result<Option<String>> {
        Ok(crate::os::parse_candidate_version(&raw.output()?.stdout))
    }
}

/// The server a dry run predicts for a node whose server install-packages has yet to
/// install: the flavor's server package at its candidate version. `None` when the
/// repositories do not say.
pub fn predicted_dialect(
    node: &NodeHandle,
    target: &crate::os::OsTarget,
) -> Result<Option<(Dialect, &'static str, String)>> {
    let pm = target.package_manager();
    let Some(&package) = target.server_packages().first() else {
        return Ok(None);
    };
    let Some(candidate) = get::<CandidateVersion>(
        node,
        &PackagesArg {
            pm,
            wanted: vec![package],
        },
    )?
    else {
        return Ok(None);
    };
    let v = crate::dialect::Version::parse(&candidate)?;
    let version = crate::dialect::Version::new(target.flavor, v.major, v.minor, v.patch);
    Ok(Some((Dialect::new(version), package, candidate)))
}

/// The installed `mysql*-community-release` RPM (`None`: none).
pub struct MysqlReleaseRpm;

impl Fact for MysqlReleaseRpm {
    type Arg = ();
    type Value = Option<String>;
    const NAME: &'static str = "mysql-release-rpm";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::MYSQL_RELEASE_RPM_QUERY.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Option<String>> {
        Ok(raw
            .output()?
            .stdout
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string))
    }
}

/// The yum repositories: (id, enabled).
pub struct YumRepos;

impl Fact for YumRepos {
    type Arg = ();
    type Value = Vec<(String, bool)>;
    const NAME: &'static str = "yum-repos";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::YUM_REPOS_QUERY.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<(String, bool)>> {
        Ok(crate::os::parse_yum_repos(&raw.output()?.stdout))
    }
}

/// The SELinux type of the health-check script at a path, when SELinux enforces.
pub struct CheckScriptLabelFact;

impl Fact for CheckScriptLabelFact {
    type Arg = str;
    type Value = CheckScriptLabel;
    const NAME: &'static str = "check-script-label";
    const KIND: FactKind = FactKind::SelinuxLabel;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(path: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::selinux::check_script_label_probe(path),
            must_succeed: true,
        }
    }
    fn parse(path: &str, raw: &Raw) -> Result<CheckScriptLabel> {
        Ok(crate::os::selinux::parse_check_script_label(
            &raw.output()?.stdout,
            path,
        ))
    }
}

/// The wanted packages that are not installed on the node.
pub fn missing_packages(
    node: &NodeHandle,
    pm: PackageManager,
    wanted: &[&'static str],
) -> Result<Vec<String>> {
    get::<MissingPackages>(
        node,
        &PackagesArg {
            pm,
            wanted: wanted.to_vec(),
        },
    )
}

/// The installed MySQL release RPM, if any.
pub fn mysql_release_rpm(node: &NodeHandle) -> Result<Option<String>> {
    get::<MysqlReleaseRpm>(node, &())
}

/// The node's yum repositories: (id, enabled).
pub fn yum_repos(node: &NodeHandle) -> Result<Vec<(String, bool)>> {
    get::<YumRepos>(node, &())
}

/// The health-check script's SELinux label at `path`.
pub fn check_script_label(node: &NodeHandle, path: &str) -> Result<CheckScriptLabel> {
    get::<CheckScriptLabelFact>(node, path)
}

/// The AppStream modules that hide the vendor's MySQL packages and are not disabled.
pub struct MaskingModules;

impl Fact for MaskingModules {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "masking-modules";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::module_state_query(crate::os::MYSQL_MASKING_MODULES),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<String>> {
        Ok(crate::os::modules_to_disable(&raw.output()?.stdout))
    }
}

/// The `mariadb` module's enabled stream and state, as `mariadb_stream_query` prints
/// them (`os::mariadb_stream_commands` decides from it).
pub struct MariadbModuleState;

impl Fact for MariadbModuleState {
    type Arg = str;
    type Value = String;
    const NAME: &'static str = "mariadb-module-state";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(version: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::mariadb_stream_query(version),
            must_succeed: true,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<String> {
        Ok(raw.output()?.stdout.clone())
    }
}

/// Is the signing key of this RPM name (`gpg-pubkey-...`) imported?
pub struct SigningKeyInstalled;

impl Fact for SigningKeyInstalled {
    type Arg = str;
    type Value = bool;
    const NAME: &'static str = "signing-key-installed";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(rpm_name: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::mysql_platform::key_installed_command(rpm_name),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<bool> {
        Ok(raw.output()?.success())
    }
}
