//! Facts about what guards the node: the firewall (firewalld, ufw, nftables, iptables),
//! SELinux (its mode, `semanage` port and file-context lists, file contexts) and
//! AppArmor. Commands and parsers from `os/firewall.rs`, `os/selinux.rs` and
//! `os/apparmor.rs`. The firewall, selinux and apparmor steps plan on a bare transport
//! (tests/firewall.rs drives them so), so they read these with [`super::read_on`]:
//! through the fact, uncached (each is read once per plan).

use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::os::firewall::NOT_INSTALLED;
use crate::transport::CommandOutput;
use anyhow::Result;

/// A fact from one command without argument: its type, name, command, whether it must
/// exit 0, and the pure parser of its output.
macro_rules! command_fact {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $value:ty, $script:expr, $must:expr, $parse:expr) => {
        $(#[$doc])*
        pub struct $ty;
        impl Fact for $ty {
            type Arg = ();
            type Value = $value;
            const NAME: &'static str = $name;
            const KIND: FactKind = FactKind::Service;
            const LIFETIME: Lifetime = Lifetime::Volatile;
            fn source(_: &(), _: Option<&Dialect>) -> Source {
                Source::Command {
                    script: ($script).into(),
                    must_succeed: $must,
                }
            }
            fn parse(_: &(), raw: &Raw) -> Result<$value> {
                let parse: fn(&CommandOutput) -> $value = $parse;
                Ok(parse(raw.output()?))
            }
        }
    };
}

/// Output of a probe that exits [`NOT_INSTALLED`] when its tool is missing: `None` then.
fn installed(out: &CommandOutput) -> Option<String> {
    (out.status != NOT_INSTALLED).then(|| out.stdout.clone())
}

command_fact!(
    /// firewalld runs.
    FirewalldRunning, "firewalld-running", bool, crate::os::firewall::FIREWALLD_STATE, false,
    |o| o.success() && o.stdout.trim() == "running"
);
command_fact!(
    /// `ufw status verbose` when ufw answers (`None`: not installed or failing).
    UfwStatus, "ufw-status", Option<String>, crate::os::firewall::UFW_STATUS, false,
    |o| o.success().then(|| o.stdout.clone())
);
command_fact!(
    /// The nftables input hook that drops by default, described (`None`: none, or no nft).
    NftDefaultDrop, "nft-default-drop", Option<String>, crate::os::firewall::NFT_RULESET, false,
    |o| if o.success() { crate::os::firewall::nft_default_drop(&o.stdout) } else { None }
);
command_fact!(
    /// iptables' INPUT chain drops by default.
    IptablesDefaultDrop, "iptables-default-drop", bool, crate::os::firewall::IPTABLES_INPUT, false,
    |o| o.success() && crate::os::firewall::iptables_default_drop(&o.stdout)
);
command_fact!(
    /// `getenforce` (`None`: SELinux is not installed; else the mode, trimmed).
    SelinuxMode, "selinux-mode", Option<String>, crate::os::selinux::GETENFORCE, false,
    |o| installed(o).map(|s| s.trim().to_string())
);
command_fact!(
    /// `semanage port -l` (`None`: semanage is not installed).
    SemanagePorts, "semanage-ports", Option<String>, crate::os::selinux::SEMANAGE_PORTS, false,
    installed
);
command_fact!(
    /// `semanage fcontext -l -C` (`None`: semanage is not installed).
    SemanageLocalContexts, "semanage-local-contexts", Option<String>,
    crate::os::selinux::SEMANAGE_FCONTEXT_LOCAL, false, installed
);
command_fact!(
    /// AppArmor confines mysqld.
    AppArmorConfinesMysqld, "apparmor-confines-mysqld", bool, crate::os::apparmor::APPARMOR_ENABLED,
    false, |o| o.status == 0
);

command_fact!(
    /// mhactl's nftables table as [`crate::os::vip_refuse::parse_table`] reads it.
    VipRefuseTable, "vip-refuse-table", crate::os::vip_refuse::Loaded,
    crate::os::vip_refuse::TABLE_COMMAND, false,
    |o| crate::os::vip_refuse::parse_table(o.status, &o.stdout)
);

/// The firewalld zone of an interface, or the default zone (`None`: neither is known).
pub struct FirewalldZone;

impl Fact for FirewalldZone {
    type Arg = str;
    type Value = Option<String>;
    const NAME: &'static str = "firewalld-zone";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(interface: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::firewall::firewalld_zone_command(interface),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<Option<String>> {
        let o = raw.output()?;
        let zone = o.stdout.trim();
        Ok((o.success() && !zone.is_empty()).then(|| zone.to_string()))
    }
}

/// A firewalld zone's target (`ACCEPT`, `default`, ...; empty when not listed).
pub struct FirewalldTarget;

impl Fact for FirewalldTarget {
    type Arg = str;
    type Value = String;
    const NAME: &'static str = "firewalld-target";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(zone: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::firewall::firewalld_list_command(zone),
            must_succeed: true,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<String> {
        Ok(raw
            .output()?
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("target:"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default())
    }
}

/// A firewalld rich rule in a zone, runtime or permanent ([`FirewalldRule`]).
#[derive(Clone)]
pub struct RuleArg {
    /// The zone.
    pub zone: String,
    /// The rich rule.
    pub rule: String,
    /// The permanent configuration (else the runtime one).
    pub permanent: bool,
}

impl super::cache::FactArg for RuleArg {
    fn key(&self) -> String {
        format!("{}/{}/{}", self.zone, self.permanent, self.rule)
    }
}

/// Is a rich rule in a zone?
pub struct FirewalldRule;

impl Fact for FirewalldRule {
    type Arg = RuleArg;
    type Value = bool;
    const NAME: &'static str = "firewalld-rule";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(a: &RuleArg, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::firewall::firewalld_query_rule_command(
                &a.zone,
                &a.rule,
                a.permanent,
            ),
            must_succeed: false,
        }
    }
    fn parse(_: &RuleArg, raw: &Raw) -> Result<bool> {
        Ok(raw.output()?.success())
    }
}

/// The SELinux contexts of paths (`ls -Zd`'s output, for `os::selinux::context_type`).
pub struct FileContexts;

impl Fact for FileContexts {
    type Arg = [String];
    type Value = String;
    const NAME: &'static str = "file-contexts";
    const KIND: FactKind = FactKind::SelinuxLabel;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(paths: &[String], _: Option<&Dialect>) -> Source {
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        Source::Command {
            script: crate::os::selinux::contexts_command(&paths),
            must_succeed: true,
        }
    }
    fn parse(_: &[String], raw: &Raw) -> Result<String> {
        Ok(raw.output()?.stdout.clone())
    }
}
