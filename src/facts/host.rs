//! Facts read with shell commands or file reads: the OS release and service manager,
//! the uid commands run as, a service's state, an interface's addresses, keepalived's
//! version, a TCP probe to a peer, and files (rendered ones, option files). Commands
//! come from `os/`, parsers from `os/` (or [`super::probes`] for the TCP probe).

use super::{fresh, get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::{Cluster, NodeHandle};
use crate::inventory::{Flavor, Inventory};
use crate::os::keepalived::KeepalivedVersion;
use crate::os::{OsInfo, OsRelease, OsTarget, ServiceManager};
use anyhow::{anyhow, Context, Result};
use std::path::Path;

/// `/etc/os-release`, parsed (`None`: the file is missing). Run-long.
pub struct OsReleaseFact;

impl Fact for OsReleaseFact {
    type Arg = ();
    type Value = Option<OsInfo>;
    const NAME: &'static str = "os-release";
    const KIND: FactKind = FactKind::OsRelease;
    const LIFETIME: Lifetime = Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::File("/etc/os-release".into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Option<OsInfo>> {
        Ok(raw.file()?.map(OsRelease::parse))
    }
}

/// systemd or SysV. Run-long.
pub struct ServiceManagerFact;

impl Fact for ServiceManagerFact {
    type Arg = ();
    type Value = ServiceManager;
    const NAME: &'static str = "service-manager";
    const KIND: FactKind = FactKind::OsRelease;
    const LIFETIME: Lifetime = Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: ServiceManager::probe_command(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<ServiceManager> {
        Ok(ServiceManager::parse_probe(&raw.output()?.stdout))
    }
}

/// `id -u`, as printed (trimmed by the caller's judgement). Run-long.
pub struct UserId;

impl Fact for UserId {
    type Arg = ();
    type Value = String;
    const NAME: &'static str = "user-id";
    const KIND: FactKind = FactKind::UserId;
    const LIFETIME: Lifetime = Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::host::USER_ID_QUERY.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<String> {
        Ok(raw.output()?.stdout.clone())
    }
}

/// Which service under which service manager ([`ServiceActive`]'s argument).
#[derive(Clone)]
pub struct ServiceArg {
    /// systemd or SysV.
    pub services: ServiceManager,
    /// The unit or init script.
    pub service: String,
}

impl super::cache::FactArg for ServiceArg {
    fn key(&self) -> String {
        format!("{:?}/{}", self.services, self.service)
    }
}

/// Is a service running (its manager's `is-active`/`status` exits 0)?
pub struct ServiceActive;

impl Fact for ServiceActive {
    type Arg = ServiceArg;
    type Value = bool;
    const NAME: &'static str = "service-active";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(a: &ServiceArg, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: a.services.is_active_command(&a.service),
            must_succeed: false,
        }
    }
    fn parse(_: &ServiceArg, raw: &Raw) -> Result<bool> {
        Ok(raw.output()?.success())
    }
}

/// The IPv4 addresses on an interface (`ip -4 -o addr show dev IF`).
pub struct InterfaceAddresses;

impl Fact for InterfaceAddresses {
    type Arg = str;
    type Value = Vec<std::net::Ipv4Addr>;
    const NAME: &'static str = "interface-addresses";
    const KIND: FactKind = FactKind::Addresses;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(interface: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::host::interface_addresses_command(interface),
            must_succeed: true,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<Self::Value> {
        Ok(crate::os::addresses::parse_addresses(&raw.output()?.stdout))
    }
}

/// The names of the node's network interfaces (`ip -o link show`).
pub struct LinkNames;

impl Fact for LinkNames {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "link-names";
    const KIND: FactKind = FactKind::Addresses;
    const LIFETIME: Lifetime = Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::host::LINKS_COMMAND.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        Ok(crate::os::host::parse_link_names(&raw.output()?.stdout))
    }
}

/// keepalived's release (`Ok(None)`: not installed; `Err`: a banner mhactl cannot read,
/// kept as text so the caller names the node).
pub struct KeepalivedVersionFact;

impl Fact for KeepalivedVersionFact {
    type Arg = ();
    type Value = std::result::Result<Option<KeepalivedVersion>, String>;
    const NAME: &'static str = "keepalived-version";
    const KIND: FactKind = FactKind::Service;
    // Volatile: install-packages installs it during the run.
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::keepalived::VERSION_COMMAND.into(),
            must_succeed: false,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        let out = raw.output()?;
        Ok(
            crate::os::keepalived::parse_version_probe(out.status, &out.stdout)
                .map_err(|e| format!("{e:#}")),
        )
    }
}

/// Does a running keepalived watch switchover's tracked files (`/run/mhactl`, with
/// inotify: what a `track_file` there makes keepalived do)? Never cached: a reload
/// changes it.
pub struct ReleaseTrackingFact;

impl Fact for ReleaseTrackingFact {
    type Arg = ();
    type Value = crate::os::switchover::ReleaseTracking;
    const NAME: &'static str = "release-tracking";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::switchover::RELEASE_TRACKING_PROBE.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        Ok(crate::os::switchover::ReleaseTracking::parse(
            &raw.output()?.stdout,
        ))
    }
}

/// The server process keepalived's `track_process` can watch on this node (`None`: the
/// node receives no kernel process events; [`crate::os::detection::TRACK_PROCESS_PROBE`]).
pub struct TrackProcessFact;

impl Fact for TrackProcessFact {
    type Arg = ();
    type Value = Option<&'static str>;
    const NAME: &'static str = "track-process";
    const KIND: FactKind = FactKind::Service;
    // Volatile: install-packages installs the server during the run.
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::detection::TRACK_PROCESS_PROBE.into(),
            must_succeed: false,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Option<&'static str>> {
        Ok(crate::os::detection::parse_track_process(
            &raw.output()?.stdout,
        ))
    }
}

/// Does the node reach `vip.arbiter` (keepalived's `chk_arbiter` probe, once)? Never
/// cached: the answer is about the moment.
pub struct ArbiterReach;

impl Fact for ArbiterReach {
    type Arg = str;
    type Value = crate::os::arbiter::Reach;
    const NAME: &'static str = "arbiter-reach";
    const KIND: FactKind = FactKind::Arbiter;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source(address: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::arbiter::reach_command(address),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<crate::os::arbiter::Reach> {
        Ok(crate::os::arbiter::parse_reach(&raw.output()?.stdout))
    }
}

/// Can the node open a TCP connection to `host:port`? Never cached: the answer is about
/// the moment (a firewall opened, a server started).
pub struct TcpProbeFact;

impl Fact for TcpProbeFact {
    type Arg = (String, u16);
    type Value = super::TcpProbe;
    const NAME: &'static str = "tcp-probe";
    const KIND: FactKind = FactKind::PeerPort;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source((host, port): &(String, u16), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: super::tcp_probe_script(host, *port, super::TCP_PROBE_TIMEOUT_S),
            must_succeed: false,
        }
    }
    fn parse(_: &(String, u16), raw: &Raw) -> Result<super::TcpProbe> {
        Ok(super::parse_tcp_probe(
            &raw.output()?.stdout,
            super::TCP_PROBE_TIMEOUT_S,
        ))
    }
}

/// A file mhactl renders (my.cnf drop-in, keepalived.conf, the health-check script), as
/// on the node (`None`: missing).
pub struct RenderedFile;

impl Fact for RenderedFile {
    type Arg = Path;
    type Value = Option<String>;
    const NAME: &'static str = "rendered-file";
    const KIND: FactKind = FactKind::RenderedFile;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(path: &Path, _: Option<&Dialect>) -> Source {
        Source::File(path.into())
    }
    fn parse(_: &Path, raw: &Raw) -> Result<Option<String>> {
        Ok(raw.file()?.map(str::to_string))
    }
}

/// A file the server reads its options from (or its pid file, its command line in
/// /proc), as on the node (`None`: missing).
pub struct OptionFile;

impl Fact for OptionFile {
    type Arg = Path;
    type Value = Option<String>;
    const NAME: &'static str = "option-file";
    const KIND: FactKind = FactKind::OptionFiles;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(path: &Path, _: Option<&Dialect>) -> Source {
        Source::File(path.into())
    }
    fn parse(_: &Path, raw: &Raw) -> Result<Option<String>> {
        Ok(raw.file()?.map(str::to_string))
    }
}

/// The node's OS family with the inventory's flavor: package and service names, paths.
pub fn os_target(node: &NodeHandle, flavor: Flavor) -> Result<(OsTarget, ServiceManager)> {
    let os = get::<OsReleaseFact>(node, &());
    if os.is_err() && node.transport.is_speculating() {
        // Planning ahead (prefetch): the service manager in the same batch as the OS
        // release, not a pass later (nothing of it depends on the release).
        let _ = get::<ServiceManagerFact>(node, &());
    }
    let os = os?.ok_or_else(|| {
        anyhow!(
            "{}: /etc/os-release is missing: cannot tell the OS family",
            node.name
        )
    })?;
    let services = get::<ServiceManagerFact>(node, &())?;
    let target = OsTarget::new(os.family, flavor)
        .with_context(|| format!("{}: {} ({})", node.name, os.pretty_name, os.id))?;
    Ok((target, services))
}

/// A one-line description of the OS facts ("Debian GNU/Linux 12, apt, sysv"), from the
/// cache only ("unknown" before [`os_target`] read them).
pub fn describe_os(node: &NodeHandle) -> String {
    let cached = node.facts.lock().ok().map(|c| {
        (
            c.get::<OsReleaseFact>(&super::cache::key::<OsReleaseFact>(&()))
                .flatten(),
            c.get::<ServiceManagerFact>(&super::cache::key::<ServiceManagerFact>(&())),
        )
    });
    match cached {
        Some((Some(os), Some(svc))) => {
            format!("{} ({:?}), {svc:?} services", os.pretty_name, os.family)
        }
        _ => "unknown".into(),
    }
}

/// Is a service running?
pub fn service_active(node: &NodeHandle, services: ServiceManager, service: &str) -> Result<bool> {
    get::<ServiceActive>(
        node,
        &ServiceArg {
            services,
            service: service.into(),
        },
    )
}

/// [`service_active`] read from the node now, whatever is cached (waits).
pub fn service_active_fresh(
    node: &NodeHandle,
    services: ServiceManager,
    service: &str,
) -> Result<bool> {
    fresh::<ServiceActive>(
        node,
        &ServiceArg {
            services,
            service: service.into(),
        },
    )
}

/// The node's keepalived release (`None`: not installed), for features that need a
/// newer one than EL7's 1.3.5 ([`crate::os::keepalived::KeepalivedVersion::capabilities`]).
pub fn keepalived_version(node: &NodeHandle) -> Result<Option<KeepalivedVersion>> {
    get::<KeepalivedVersionFact>(node, &())?.map_err(|e| anyhow!("{}: {e}", node.name))
}

/// The keepalived.conf options for this node's keepalived: switchover's release file
/// by `track_file` or by script (its version), and `track_process` for the server
/// process where keepalived has it (>= 2.0.11) and the node receives process events.
pub fn keepalived_options(node: &NodeHandle) -> Result<crate::render::KeepalivedOptions> {
    let version = keepalived_version(node)?;
    let options = crate::render::KeepalivedOptions::for_keepalived(version);
    if !version.is_some_and(|v| v.capabilities().track_process) {
        return Ok(options);
    }
    Ok(options.with_track_process(version, get::<TrackProcessFact>(node, &())?))
}

/// IPv4 addresses on an interface (`ip -4 -o addr show dev IF`).
pub fn interface_addresses(node: &NodeHandle, interface: &str) -> Result<Vec<std::net::Ipv4Addr>> {
    get::<InterfaceAddresses>(node, interface)
}

/// Whether `node` holds the VIP now: the VIP's address is on the inventory's VIP
/// interface. The one definition status, verify, failover and bootstrap's VIP check use.
pub fn holds_vip(node: &NodeHandle, inv: &Inventory) -> Result<bool> {
    Ok(interface_addresses(node, &inv.vip.interface)?.contains(&inv.vip.address))
}

/// The nodes holding the VIP now (one on a healthy pair), by index; the first node that
/// cannot be asked makes it an error. Always read fresh: callers wait on it.
pub fn vip_holders(cluster: &Cluster, inv: &Inventory) -> Result<Vec<usize>> {
    let mut holders = Vec::new();
    // Planning ahead (prefetch): every node's read is wanted in the same batch, not one
    // node's per pass.
    let mut not_read_yet = None;
    for node in &cluster.nodes {
        match fresh::<InterfaceAddresses>(node, &inv.vip.interface) {
            Ok(addresses) if addresses.contains(&inv.vip.address) => holders.push(node.index),
            Ok(_) => {}
            Err(e) if crate::transport::is_speculated(&e) => not_read_yet = Some(e),
            Err(e) => return Err(e),
        }
    }
    match not_read_yet {
        Some(e) => Err(e),
        None => Ok(holders),
    }
}

/// [`vip_holders`] from the addresses this run's batches read (inside a caching scope,
/// as the engine plans; outside one, read now), every node's read wanted at once when
/// planning ahead. For a first look that a fresh [`vip_holders`] follows whenever it
/// does not settle the question (the `vip` step).
pub fn vip_holders_cached(cluster: &Cluster, inv: &Inventory) -> Result<Vec<usize>> {
    let all: Vec<Result<Vec<std::net::Ipv4Addr>>> = cluster
        .nodes
        .iter()
        .map(|node| get::<InterfaceAddresses>(node, &inv.vip.interface))
        .collect();
    let mut holders = Vec::new();
    for (node, addresses) in cluster.nodes.iter().zip(all) {
        if addresses?.contains(&inv.vip.address) {
            holders.push(node.index);
        }
    }
    Ok(holders)
}

/// Can `node` open a TCP connection to `host:port`? Asked on the node itself (the path
/// replication takes), waiting at most [`super::TCP_PROBE_TIMEOUT_S`].
pub fn tcp_probe(node: &NodeHandle, host: &str, port: u16) -> Result<super::TcpProbe> {
    get::<TcpProbeFact>(node, &(host.to_string(), port))
}

/// `id -u` on the node (the uid commands run as).
pub fn user_id(node: &NodeHandle) -> Result<String> {
    get::<UserId>(node, &())
}

/// A rendered file as on the node (`None`: missing).
pub fn rendered_file(node: &NodeHandle, path: &str) -> Result<Option<String>> {
    get::<RenderedFile>(node, Path::new(path))
}

/// An option file (or pid file, /proc command line) as on the node (`None`: missing).
pub fn option_file(node: &NodeHandle, path: &str) -> Result<Option<String>> {
    get::<OptionFile>(node, Path::new(path))
}

/// Is an interface's link up?
pub struct LinkUp;

impl Fact for LinkUp {
    type Arg = str;
    type Value = bool;
    const NAME: &'static str = "link-up";
    const KIND: FactKind = FactKind::Addresses;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(interface: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::host::link_up_command(interface),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<bool> {
        Ok(raw.output()?.success())
    }
}

/// The node's clock, UTC seconds since the epoch (`Err`: output that is no number, as
/// text, for the caller to name the node). Never cached.
pub struct Clock;

impl Fact for Clock {
    type Arg = ();
    type Value = std::result::Result<f64, String>;
    const NAME: &'static str = "clock";
    const KIND: FactKind = FactKind::Clock;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::host::CLOCK_QUERY.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        let out = &raw.output()?.stdout;
        Ok(out
            .trim()
            .parse()
            .map_err(|_| format!("bad date output {out:?}")))
    }
}

/// The option files the server binary says it reads (`--verbose --help`), parsed.
pub struct DefaultOptionFiles;

impl Fact for DefaultOptionFiles {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "default-option-files";
    const KIND: FactKind = FactKind::OptionFiles;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::option_files::DEFAULT_FILES_COMMAND.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<String>> {
        Ok(crate::os::option_files::parse_default_files(
            &raw.output()?.stdout,
        ))
    }
}

/// The names in an option-file directory (`!includedir`), as `ls -1` prints them.
pub struct OptionDirListing;

impl Fact for OptionDirListing {
    type Arg = str;
    type Value = String;
    const NAME: &'static str = "option-dir-listing";
    const KIND: FactKind = FactKind::OptionFiles;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(dir: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::option_files::list_dir_command(dir),
            must_succeed: true,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<String> {
        Ok(raw.output()?.stdout.clone())
    }
}
