//! `mhactl lab`: two real local test hosts built from network, PID, mount and UTS
//! namespaces, so bootstrap, verify and failover-test run end to end on one machine.
//!
//! A lab lives in a directory (default `./.mhactl-lab`) holding its state (`lab.json`),
//! an SSH key pair, a `known_hosts` with the nodes' host keys, a secrets file, and an
//! `inventory.yaml` ready for `mhactl bootstrap`. The nodes start bare: no database
//! server, no config. See `docs/lab.md`.

pub mod args;
mod files;
mod host;
pub mod image;
pub mod network;
mod node;
pub mod pairs;
mod report;
pub mod sudo_user;

use anyhow::{bail, Context, Result};
use args::{LabCommand, LabDirArg, LabSshArgs, LabUpArgs};
use network::LabNetwork;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default lab directory.
pub const DEFAULT_DIR: &str = ".mhactl-lab";
/// Default third octet of the lab's private /24 (10.213.N.0/24).
pub const DEFAULT_SUBNET_OCTET: u8 = 0;
/// The lab's two node names, in inventory order.
pub const NODE_NAMES: [&str; 2] = ["node-a", "node-b"];

/// Server flavor the lab's offline package repository carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabFlavor {
    /// Debian bookworm with mariadb-server 10.11 and keepalived 2.2 (SysV scripts).
    Mariadb,
    /// Debian sid with mysql-server 9.x and keepalived 2.3, a daemonless `systemctl`
    /// as the service manager, and the server's first start done the RPM way
    /// (`mysqld --initialize`: a random expired root password in the error log).
    Mysql,
    /// Debian sid with mariadb-server 11.x and keepalived 2.3, a daemonless `systemctl`
    /// as the service manager (the packaged units, as on a real sid host).
    Mariadb11,
}

impl LabFlavor {
    /// The inventory's `mysql.flavor` value.
    pub fn inventory_flavor(self) -> &'static str {
        match self {
            LabFlavor::Mariadb => "mariadb",
            LabFlavor::Mysql => "mysql",
            LabFlavor::Mariadb11 => "mariadb",
        }
    }

    /// Does the flavor's image carry the daemonless `systemctl` (sid images)?
    pub fn uses_systemctl(self) -> bool {
        matches!(self, LabFlavor::Mysql | LabFlavor::Mariadb11)
    }
}

/// What `lab up` created, so `status`, `ssh` and `down` find it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    /// The lab's network (bridge, namespaces, addresses).
    pub network: LabNetwork,
    /// Flavor of the offline repository.
    pub flavor: LabFlavor,
    /// Base image root filesystem (the overlays' lower layer).
    pub image: PathBuf,
    /// The non-root ssh user with sudo (`--ssh-user`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_user: Option<String>,
    /// Does that user's sudo ask for a password (`--sudo-password`)?
    #[serde(default)]
    pub sudo_password: bool,
}

impl LabState {
    fn path(dir: &Path) -> PathBuf {
        dir.join("lab.json")
    }

    /// Load the state of the lab in `dir`, if there is one.
    pub fn load(dir: &Path) -> Result<Option<LabState>> {
        let path = Self::path(dir);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)?;
        let state = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; remove the directory by hand",
                path.display()
            )
        })?;
        Ok(Some(state))
    }

    fn save(&self, dir: &Path) -> Result<()> {
        std::fs::write(Self::path(dir), serde_json::to_string_pretty(self)? + "\n")?;
        Ok(())
    }
}

/// Are `addresses` those of a lab running on this machine (10.213.N.11 and .12, in
/// that order, with the lab's network namespaces present)? failover-test and switchover
/// ask before they act on any other pair ([`crate::confirm`]).
pub fn runs_here(addresses: &[std::net::Ipv4Addr]) -> bool {
    let [a, b] = addresses else {
        return false;
    };
    let [10, 213, octet, _] = a.octets() else {
        return false;
    };
    let net = network::LabNetwork { octet };
    *a == net.node_address(0)
        && *b == net.node_address(1)
        && NODE_NAMES
            .iter()
            .all(|n| Path::new("/run/netns").join(net.netns(n)).exists())
}

/// Run a `mhactl lab` subcommand; `json`: `--output json` (up, status, down).
pub fn run(cmd: LabCommand, json: bool) -> Result<ExitCode> {
    match cmd {
        LabCommand::Up(args) if args.pairs > 1 => pairs::up(&args, json),
        LabCommand::Up(args) => {
            let (dir, state, reused) = up(&args)?;
            match json {
                true => report::print_up(&dir, &state, reused)?,
                false => print_summary(&dir, &state),
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Down(args) => {
            let dir = absolute(&args.dir)?;
            host::require_root()?;
            let removed = match pairs::PairsState::load(&dir)? {
                Some(_) => pairs::down(&dir)?,
                None => down(&dir)?,
            };
            if json {
                report::print_down(&dir, removed)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Status(args) => status(&args, json),
        LabCommand::Ssh(args) => ssh(&args),
    }
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    Ok(std::path::absolute(dir)?)
}

fn say(line: &str) {
    // `-q`: the lab's progress lines go; its results (stdout) and errors stay.
    if crate::report::quiet() {
        return;
    }
    crate::log_eprintln!("lab: {line}");
}

/// Is every node of this lab running and accepting SSH?
fn is_running(state: &LabState) -> bool {
    NODE_NAMES.iter().enumerate().all(|(i, name)| {
        !network::netns_pids(&state.network.netns(name)).is_empty()
            && std::net::TcpStream::connect_timeout(
                &(state.network.node_address(i), 22).into(),
                std::time::Duration::from_millis(500),
            )
            .is_ok()
    })
}

/// `lab up`: build or reuse the base image, then start two bare nodes; the lab's
/// directory and state, and whether it was already up (reused).
pub fn up(args: &LabUpArgs) -> Result<(PathBuf, LabState, bool)> {
    host::require_root()?;
    host::require_prerequisites()?;
    let dir = absolute(&args.dir.dir)?;
    if pairs::PairsState::load(&dir)?.is_some() {
        return Err(crate::error::UsageError(format!(
            "{} holds a lab of several pairs (`lab up --pairs`); give the same --pairs, or \
             bring it down first (`mhactl lab down --dir {}`)",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    if let Some(state) = LabState::load(&dir)? {
        if is_running(&state) {
            say(&format!("already up in {} (nothing to do)", dir.display()));
            return Ok((dir, state, true));
        }
        // Half up (a crash, a reboot): clear what is left, then start afresh.
        say("found a lab that is not fully running; removing what is left of it");
        down(&dir)?;
    }
    let network = LabNetwork { octet: args.subnet };
    network.check_free()?;

    let spec = image::ImageSpec::for_flavor(args.flavor);
    let base = image::ensure(&spec, &say)?;

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create lab directory {}", dir.display()))?;
    let state = LabState {
        network: network.clone(),
        flavor: args.flavor,
        image: base.clone(),
        ssh_user: args.ssh_user.clone(),
        sudo_password: args.sudo_password,
    };
    // Saved before anything is created, so `down` can clean up after a failure half-way.
    state.save(&dir)?;
    let started = std::time::Instant::now();
    let result = start_nodes(&dir, &state);
    if let Err(err) = result {
        say("start failed; removing what was created");
        let _ = down(&dir);
        return Err(err);
    }
    say(&format!(
        "nodes up in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok((dir, state, false))
}

fn start_nodes(dir: &Path, state: &LabState) -> Result<()> {
    let net = &state.network;
    let client_key = files::ensure_client_key(dir)?;
    let hosts = files::etc_hosts(net);
    let boot = node::write_boot_script(dir)?;
    net.create_bridge()?;
    let mut known_hosts = Vec::new();
    let mut started = Vec::new();
    for (i, name) in NODE_NAMES.iter().enumerate() {
        let dirs = node::NodeDirs::new(dir, name);
        let host_key = node::prepare(&dirs, name, &client_key, &hosts, state.flavor)
            .with_context(|| format!("preparing node {name}"))?;
        known_hosts.push(format!("{} {host_key}", net.node_address(i)));
        net.create_node(i, name)
            .with_context(|| format!("network of node {name}"))?;
        started.push(node::start(net, name, &dirs, &boot, &state.image)?);
    }
    files::write_known_hosts(dir, &known_hosts)?;
    for ((i, name), child) in NODE_NAMES.iter().enumerate().zip(&mut started) {
        node::wait_for_ssh(net, i, name, &node::NodeDirs::new(dir, name), child)?;
    }
    files::write_secrets(dir, state)?;
    if let Some(user) = &state.ssh_user {
        let password = match state.sudo_password {
            true => Some(files::read_secret(dir, sudo_user::SECRET_KEY)?),
            false => None,
        };
        for i in 0..NODE_NAMES.len() {
            sudo_user::create(
                dir,
                &net.node_address(i).to_string(),
                user,
                password.as_deref(),
            )?;
        }
    }
    files::write_inventory(dir, state)?;
    Ok(())
}

fn print_summary(dir: &Path, state: &LabState) {
    let net = &state.network;
    println!("lab directory   {}", dir.display());
    for (i, name) in NODE_NAMES.iter().enumerate() {
        println!(
            "node {name:<10} {}  (netns {})",
            net.node_address(i),
            net.netns(name)
        );
    }
    println!("vip             {}", net.vip());
    println!("inventory       {}", dir.join(files::INVENTORY).display());
    println!("ssh key         {}", dir.join(files::CLIENT_KEY).display());
    println!("known_hosts     {}", dir.join(files::KNOWN_HOSTS).display());
    println!(
        "secrets         {} (mode 0600)",
        dir.join(files::SECRETS).display()
    );
    println!(
        "next            mhactl bootstrap {}",
        dir.join(files::INVENTORY).display()
    );
}

/// `lab down`: stop the nodes and remove every namespace, link and file the lab
/// created; whether there was a lab to remove.
pub fn down(dir: &Path) -> Result<bool> {
    host::require_root()?;
    let Some(state) = LabState::load(dir)? else {
        say(&format!("no lab in {} (nothing to do)", dir.display()));
        return Ok(false);
    };
    close_ssh_masters(dir);
    let net = &state.network;
    for (i, name) in NODE_NAMES.iter().enumerate() {
        node::stop(net, name)?;
        net.remove_node(i, name);
    }
    net.remove_bridge();
    files::remove_all(dir)?;
    say(&format!("down: removed the lab in {}", dir.display()));
    Ok(true)
}

/// End the ssh master connections runs against this lab left for the next run
/// (`ssh.persist_s`): its nodes are about to go. Those whose key or known_hosts file is
/// in the lab's directory, whichever inventory launched them.
fn close_ssh_masters(dir: &Path) {
    use crate::transport::ssh;
    let ended = ssh::runtime().block_on(ssh::master::close_masters_using(dir));
    if ended > 0 {
        tracing::debug!("lab down: ended {ended} ssh master connections");
    }
}

/// `lab status`: nodes, addresses, whether they run, and which holds the VIP.
fn status(args: &LabDirArg, json: bool) -> Result<ExitCode> {
    let dir = absolute(&args.dir)?;
    if let Some(p) = pairs::PairsState::load(&dir)? {
        return pairs::status(&dir, &p, json);
    }
    let Some(state) = LabState::load(&dir)? else {
        match json {
            true => report::print_status(&dir, None, &[], &[])?,
            false => println!("no lab in {}", dir.display()),
        }
        return Ok(ExitCode::from(1));
    };
    let (rows, holders, all_up) = status_rows(&state);
    if json {
        report::print_status(&dir, Some(&state), &rows, &holders)?;
    } else {
        print_status_rows(&state, &rows, &holders);
    }
    Ok(if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Per node: its index, `up`/`no-ssh`/`down`, and whether it holds the VIP.
type StatusRow = (usize, &'static str, bool);

/// Per node a [`StatusRow`], the VIP holders, and whether every node is up.
fn status_rows(state: &LabState) -> (Vec<StatusRow>, Vec<&'static str>, bool) {
    let net = &state.network;
    let mut all_up = true;
    let mut holders = Vec::new();
    let mut rows = Vec::new();
    for (i, name) in NODE_NAMES.iter().enumerate() {
        let running = !network::netns_pids(&net.netns(name)).is_empty();
        let ssh = running
            && std::net::TcpStream::connect_timeout(
                &(net.node_address(i), 22).into(),
                std::time::Duration::from_millis(500),
            )
            .is_ok();
        let holds_vip = running && net.node_addresses(name).contains(&net.vip());
        if holds_vip {
            holders.push(*name);
        }
        all_up &= ssh;
        let state_word = match (running, ssh) {
            (true, true) => "up",
            (true, false) => "no-ssh",
            _ => "down",
        };
        rows.push((i, state_word, holds_vip));
    }
    (rows, holders, all_up)
}

/// The text table of [`status_rows`] and the VIP line.
fn print_status_rows(state: &LabState, rows: &[(usize, &str, bool)], holders: &[&str]) {
    let net = &state.network;
    println!(
        "{:<8} {:<14} {:<8} {:<6}",
        "NODE", "ADDRESS", "STATE", "VIP"
    );
    for (i, state_word, holds_vip) in rows {
        println!(
            "{:<8} {:<14} {state_word:<8} {}",
            NODE_NAMES[*i],
            net.node_address(*i).to_string(),
            if *holds_vip { "yes" } else { "-" }
        );
    }
    let vip = net.vip();
    match holders {
        [] => println!("vip {vip}: held by no node"),
        [one] => println!("vip {vip}: held by {one}"),
        many => println!(
            "vip {vip}: held by {} nodes at once (split brain)",
            many.len()
        ),
    }
}

/// `lab ssh NODE [-- CMD...]`: the system ssh with the lab's key and strict host keys.
fn ssh(args: &LabSshArgs) -> Result<ExitCode> {
    let dir = absolute(&args.dir.dir)?;
    let Some(state) = LabState::load(&dir)? else {
        bail!(
            "no lab in {} (start one with `mhactl lab up`)",
            dir.display()
        );
    };
    let Some(index) = NODE_NAMES.iter().position(|n| *n == args.node) else {
        return Err(crate::error::UsageError(format!(
            "unknown node `{}`; the lab's nodes are {}",
            args.node,
            NODE_NAMES.join(", ")
        ))
        .into());
    };
    let mut cmd = std::process::Command::new("ssh");
    cmd.args(files::ssh_options(&dir))
        .arg(format!("root@{}", state.network.node_address(index)));
    if args.command.is_empty() {
        cmd.arg("-t");
    } else {
        // ssh joins its arguments with spaces for the remote shell: quote each one so
        // `lab ssh node-a -- sh -c 'echo a b'` means what it says.
        cmd.arg("--").args(
            args.command
                .iter()
                .map(|a| crate::transport::shell_quote(a)),
        );
    }
    let status = cmd.status().context("cannot run ssh")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(255).clamp(0, 255) as u8
    ))
}
