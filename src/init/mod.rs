//! `mhactl init`: write a commented inventory from a few questions (on a terminal) or
//! from flags. The text is validated with [`crate::inventory::parse`] before it is
//! written; an existing file is kept unless `--force`; the file holds only *references*
//! to secrets (an environment variable, a file, or a prompt), never a secret.
//!
//! This file: the answers, the flags' parsing, rendering and writing the file;
//! `ask.rs`: the terminal questions; `args.rs`: the flags.

mod args;
mod ask;
pub use args::InitArgs;

use crate::error::UsageError;
use crate::global::{GlobalArgs, OutputFormat};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Environment variable named by default for the replication password.
pub const DEFAULT_PASSWORD_ENV: &str = "MHACTL_REPLICATION_PASSWORD";

/// Server flavors `init` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InitFlavor {
    /// MariaDB 10.x / 11.x (Debian/Ubuntu's `mariadb-server`).
    #[default]
    Mariadb,
    /// Oracle MySQL 5.7 / 8.0 / 8.4 / 9.x.
    Mysql,
}

impl InitFlavor {
    /// The inventory's flavor (the dialect decides what differs).
    fn flavor(self) -> crate::inventory::Flavor {
        match self {
            InitFlavor::Mariadb => crate::inventory::Flavor::Mariadb,
            InitFlavor::Mysql => crate::inventory::Flavor::Mysql,
        }
    }

    fn name(self) -> &'static str {
        match self {
            InitFlavor::Mariadb => "mariadb",
            InitFlavor::Mysql => "mysql",
        }
    }
}

/// Where the replication password will come from (a reference, never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `replication_password_env: VAR`.
    Env(String),
    /// `replication_password_file: PATH[#KEY]`.
    File(String),
    /// `replication_password_prompt: true`.
    Prompt,
}

/// Everything the inventory is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// Cluster name.
    pub cluster: String,
    /// The two nodes (name, address), first node first.
    pub nodes: [(String, Ipv4Addr); 2],
    /// VIP address and prefix length.
    pub vip: (Ipv4Addr, u8),
    /// Interface carrying the VIP.
    pub interface: String,
    /// VRRP virtual router id.
    pub virtual_router_id: u8,
    /// Server flavor.
    pub flavor: InitFlavor,
    /// SSH user.
    pub ssh_user: String,
    /// SSH private key.
    pub identity_file: Option<PathBuf>,
    /// known_hosts file.
    pub known_hosts: Option<PathBuf>,
    /// Replication password reference.
    pub password: PasswordSource,
}

/// `--node NAME=ADDRESS`.
pub fn parse_node(s: &str) -> std::result::Result<(String, Ipv4Addr), String> {
    let (name, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=ADDRESS, e.g. db1=10.0.0.11"))?;
    let addr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    Ok((name.trim().to_string(), addr))
}

/// `--vip ADDRESS/PREFIX` (the prefix defaults to 24 when omitted).
pub fn parse_vip(s: &str) -> std::result::Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = s.split_once('/').unwrap_or((s, "24"));
    let addr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    let prefix: u8 = prefix
        .trim()
        .parse()
        .ok()
        .filter(|p| (1..=32).contains(p))
        .ok_or_else(|| format!("{prefix:?} is not a prefix length from 1 to 32"))?;
    Ok((addr, prefix))
}

/// A VRRP router id from the cluster name (1-255), so that two clusters made with
/// `init` on one segment are unlikely to clash (the comment in the file still says to check).
pub fn derived_router_id(cluster: &str) -> u8 {
    let digest = Sha256::digest(format!("mhactl-vrid\0{cluster}").as_bytes());
    (u16::from(digest[0]) % 255 + 1) as u8
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Run `mhactl init`.
pub fn run(args: &InitArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let to_stdout = args.file.as_os_str() == "-";
    if !to_stdout && args.file.exists() && !args.force {
        return Err(usage(format!(
            "{}: the file exists; mhactl init does not overwrite it (use --force to replace it, \
             or give another FILE)",
            args.file.display()
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let answers = if interactive {
        ask::ask(args)?
    } else {
        from_flags(args)?
    };
    let text = render(&answers);
    let name = if to_stdout {
        "<stdout>".to_string()
    } else {
        args.file.display().to_string()
    };
    // Never write something mhactl itself would refuse.
    let inv = crate::inventory::parse(&text, &name)
        .context("the answers do not make a valid inventory (nothing was written)")?;
    if !to_stdout {
        write_file(&args.file, &text, args.force)?;
    }
    match global.output {
        OutputFormat::Json => {
            let mut value = serde_json::json!({
                "ok": true,
                "file": if to_stdout { None } else { Some(name.clone()) },
                "inventory": inv,
            });
            if to_stdout {
                value["yaml"] = serde_json::Value::String(text);
            }
            crate::json_out::print(None, &value)?;
        }
        OutputFormat::Text if to_stdout => print!("{text}"),
        OutputFormat::Text => {
            if !global.quiet {
                println!(
                    "wrote {name}: cluster {}, {} {}, {} {}, VIP {}/{} on {}",
                    answers.cluster,
                    answers.nodes[0].0,
                    answers.nodes[0].1,
                    answers.nodes[1].0,
                    answers.nodes[1].1,
                    answers.vip.0,
                    answers.vip.1,
                    answers.interface
                );
                match &answers.password {
                    PasswordSource::Env(var) => println!(
                        "the replication password comes from ${var}: export it before running mhactl"
                    ),
                    PasswordSource::File(f) => println!(
                        "the replication password comes from {f} (relative to {name}'s directory; keep it mode 600)"
                    ),
                    PasswordSource::Prompt => {
                        println!("the replication password is asked on the terminal")
                    }
                }
                if answers.flavor.flavor().root_logs_in_with_password() {
                    println!(
                        "MySQL's root password comes from ${ROOT_PASSWORD_ENV}: export it before running \
                         mhactl (bootstrap gives a new server's root this password; an existing \
                         server's root must already have it)"
                    );
                }
                println!("next: mhactl bootstrap --dry-run {name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn password_from_flags(args: &InitArgs) -> PasswordSource {
    match (
        &args.replication_password_env,
        &args.replication_password_file,
    ) {
        (Some(var), _) => PasswordSource::Env(var.clone()),
        (None, Some(file)) => PasswordSource::File(file.clone()),
        (None, None) => PasswordSource::Env(DEFAULT_PASSWORD_ENV.into()),
    }
}

/// The answers from flags alone; missing required flags are a usage error naming them.
pub fn from_flags(args: &InitArgs) -> Result<Answers> {
    let mut missing = Vec::new();
    if args.cluster.is_none() {
        missing.push("--cluster NAME");
    }
    if args.nodes.len() != 2 {
        missing.push("--node NAME=ADDRESS (exactly twice)");
    }
    if args.vip.is_none() {
        missing.push("--vip ADDRESS/PREFIX");
    }
    if !missing.is_empty() {
        return Err(usage(format!(
            "mhactl init needs {} (it asks for them only when run on a terminal)",
            missing.join(", ")
        )));
    }
    let cluster = args.cluster.clone().expect("checked");
    Ok(Answers {
        virtual_router_id: args
            .virtual_router_id
            .unwrap_or_else(|| derived_router_id(&cluster)),
        cluster,
        nodes: [args.nodes[0].clone(), args.nodes[1].clone()],
        vip: args.vip.expect("checked"),
        interface: args.interface.clone().unwrap_or_else(|| "eth0".into()),
        flavor: args.flavor.unwrap_or_default(),
        ssh_user: args.ssh_user.clone().unwrap_or_else(|| "root".into()),
        identity_file: args.identity_file.clone(),
        known_hosts: args.known_hosts.clone(),
        password: password_from_flags(args),
    })
}

/// A YAML scalar: plain when it is obviously safe, else double-quoted (JSON escaping
/// is valid YAML).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./~".contains(c))
        && !s.starts_with(['-', '.', '~'])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

/// The environment variable `init` names for MySQL's root password.
pub const ROOT_PASSWORD_ENV: &str = "MHACTL_ROOT_PASSWORD";

/// The inventory's root password lines: MySQL logs root in by password (a new server's
/// root gets it at bootstrap), MariaDB by the unix socket (none needed).
fn root_password_lines(flavor: InitFlavor) -> String {
    if flavor.flavor().root_logs_in_with_password() {
        format!(
            "  # MySQL's root logs in by password: from the environment variable\n  \
             # {ROOT_PASSWORD_ENV} (bootstrap gives a new server's root this password;\n  \
             # an existing server's root must already have it).\n  \
             root_password_env: {ROOT_PASSWORD_ENV}\n"
        )
    } else {
        format!(
            "  # root_password_env: {ROOT_PASSWORD_ENV}   # not needed for MariaDB (socket login)\n"
        )
    }
}

/// The commented inventory (pure).
pub fn render(a: &Answers) -> String {
    let path_line = |field: &str, p: &Option<PathBuf>, default: &str, example: &str| match p {
        Some(p) => format!("  {field}: {}\n", scalar(&p.display().to_string())),
        None => format!("  # {field}: {example}    # default: {default}\n"),
    };
    let password = match &a.password {
        PasswordSource::Env(var) => format!(
            "  # From the environment variable {var}: export it before running mhactl.\n  \
             replication_password_env: {}\n",
            scalar(var)
        ),
        PasswordSource::File(f) => format!(
            "  # From a file (PATH, or PATH#KEY for a key of a YAML mapping), relative to\n  \
             # this file's directory. Keep it mode 600; mhactl warns otherwise.\n  \
             replication_password_file: {}\n",
            scalar(f)
        ),
        PasswordSource::Prompt => "  # Asked on the terminal at each run (not usable in CI).\n  \
             replication_password_prompt: true\n"
            .to_string(),
    };
    format!(
        "# mhactl inventory for the cluster {cluster}, written by `mhactl init`.\n\
         # docs/inventory.md describes every field; inventory.example.yaml shows them all.\n\
         #\n\
         #   mhactl bootstrap --dry-run FILE    # what would change; changes nothing\n\
         #   mhactl bootstrap FILE              # install, configure, join the pair\n\
         #   mhactl -i FILE status              # one screen: roles, replication, VIP\n\
         #   mhactl -i FILE verify              # every health check\n\
         #\n\
         # This file holds no secret: `credentials` only says where each one comes from.\n\
         # Relative paths are relative to this file's directory.\n\
         \n\
         # Cluster name: in keepalived's router id, messages and the derived VRRP password.\n\
         cluster: {cluster}\n\
         \n\
         # SSH settings for both nodes (each node may override them in its own `ssh:`).\n\
         ssh:\n\
         \x20 # Remote user; anything but root runs commands through sudo (passwordless,\n\
         \x20 # or the sudo password by reference: become_password_env / _file).\n\
         \x20 user: {user}\n\
         {identity}\
         {known}\
         \x20 # strict: unknown or changed host keys are errors (--accept-new-host-keys\n\
         \x20 # records unknown ones on the first run).\n\
         \x20 host_key_check: strict\n\
         \n\
         # Exactly two nodes. The first gets auto_increment_offset 1, the second 2.\n\
         nodes:\n\
         \x20 - name: {n0}\n\
         \x20   address: {a0}\n\
         \x20 - name: {n1}\n\
         \x20   address: {a1}\n\
         \n\
         # The virtual IP clients use: an unused address in the nodes' subnet.\n\
         vip:\n\
         \x20 address: {vip}\n\
         \x20 prefix: {prefix}\n\
         \x20 # Interface carrying the VIP on both nodes.\n\
         \x20 interface: {interface}\n\
         \x20 # VRRP router id: must be unique on the network segment (two keepalived\n\
         \x20 # clusters with the same id fight over their VIPs). Check before bootstrap.\n\
         \x20 virtual_router_id: {vrid}\n\
         \n\
         mysql:\n\
         \x20 # mariadb or mysql.\n\
         \x20 flavor: {flavor}\n\
         \x20 # Expected major.minor, quoted; checked against the installed server.\n\
         \x20 # version: \"10.11\"\n\
         \n\
         # Where the secrets come from, never the secrets.\n\
         credentials:\n\
         {password}\
         {root}\
         \x20 # vrrp_password_env: MHACTL_VRRP_PASSWORD   # default: derived from the cluster\n",
        root = root_password_lines(a.flavor),
        cluster = scalar(&a.cluster),
        user = scalar(&a.ssh_user),
        identity = path_line(
            "identity_file",
            &a.identity_file,
            "ssh's defaults and agent",
            "~/.ssh/id_ed25519"
        ),
        known = path_line(
            "known_hosts",
            &a.known_hosts,
            "~/.ssh/known_hosts",
            "known_hosts"
        ),
        n0 = scalar(&a.nodes[0].0),
        a0 = a.nodes[0].1,
        n1 = scalar(&a.nodes[1].0),
        a1 = a.nodes[1].1,
        vip = a.vip.0,
        prefix = a.vip.1,
        interface = scalar(&a.interface),
        vrid = a.virtual_router_id,
        flavor = a.flavor.name(),
    )
}

/// Write `text` to `path`: refuse an existing file unless `force` (then replace it
/// atomically).
fn write_file(path: &Path, text: &str, force: bool) -> Result<()> {
    if force {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".mhactl-init-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write into {}", dir.display()))?;
        tmp.write_all(text.as_bytes())?;
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", path.display()))?;
        set_mode_644(path);
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => usage(format!(
                "{}: the file exists; use --force to replace it",
                path.display()
            )),
            _ => anyhow::Error::new(e).context(format!("cannot create {}", path.display())),
        })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn set_mode_644(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            cluster: "shop-db".into(),
            nodes: [
                ("db1".into(), "10.0.0.11".parse().unwrap()),
                ("db2".into(), "10.0.0.12".parse().unwrap()),
            ],
            vip: ("10.0.0.100".parse().unwrap(), 24),
            interface: "eth0".into(),
            virtual_router_id: 51,
            flavor: InitFlavor::Mysql,
            ssh_user: "deploy".into(),
            identity_file: Some("keys/id ed25519".into()),
            known_hosts: None,
            password: PasswordSource::File("secrets.yaml#repl".into()),
        }
    }

    #[test]
    fn rendered_inventory_parses_to_the_answers() {
        let text = render(&answers());
        let inv = crate::inventory::parse(&text, "t.yaml").unwrap();
        assert_eq!(inv.cluster, "shop-db");
        assert_eq!(inv.nodes[1].name, "db2");
        assert_eq!(inv.nodes[1].address.to_string(), "10.0.0.12");
        assert_eq!(inv.vip.virtual_router_id, 51);
        assert_eq!(inv.mysql.flavor, crate::inventory::Flavor::Mysql);
        assert_eq!(inv.ssh.user.as_deref(), Some("deploy"));
        assert_eq!(
            inv.ssh.identity_file.as_deref(),
            Some(Path::new("keys/id ed25519"))
        );
        assert_eq!(
            inv.credentials.replication_password_file.as_deref(),
            Some("secrets.yaml#repl")
        );
        assert!(text.contains("# known_hosts: known_hosts"));
        // MySQL's root logs in by password: the reference is there, not commented out.
        assert_eq!(
            inv.credentials.root_password_env.as_deref(),
            Some(ROOT_PASSWORD_ENV)
        );
        let mariadb = render(&Answers {
            flavor: InitFlavor::Mariadb,
            ..answers()
        });
        let inv = crate::inventory::parse(&mariadb, "t.yaml").unwrap();
        assert_eq!(inv.credentials.root_password_env, None);
        assert!(mariadb.contains("not needed for MariaDB"), "{mariadb}");
    }

    #[test]
    fn every_password_source_renders_a_reference() {
        for (src, field) in [
            (
                PasswordSource::Env("DB_REPL_PW".into()),
                "replication_password_env: DB_REPL_PW",
            ),
            (PasswordSource::Prompt, "replication_password_prompt: true"),
        ] {
            let text = render(&Answers {
                password: src,
                ..answers()
            });
            assert!(text.contains(field), "{text}");
            crate::inventory::parse(&text, "t.yaml").unwrap();
        }
    }

    #[test]
    fn node_and_vip_flags_parse() {
        assert_eq!(
            parse_node("db1=10.0.0.11").unwrap(),
            ("db1".to_string(), "10.0.0.11".parse().unwrap())
        );
        assert!(parse_node("db1").unwrap_err().contains("NAME=ADDRESS"));
        assert!(parse_node("db1=host").is_err());
        assert_eq!(parse_vip("10.0.0.100/23").unwrap().1, 23);
        assert_eq!(parse_vip("10.0.0.100").unwrap().1, 24);
        assert!(parse_vip("10.0.0.100/33").is_err());
    }

    #[test]
    fn router_id_is_stable_and_in_range() {
        assert_eq!(derived_router_id("shop-db"), derived_router_id("shop-db"));
        for c in ["a", "b", "shop-db", "x-1", "lab246"] {
            assert!(derived_router_id(c) >= 1);
        }
    }

    #[test]
    fn scalars_that_yaml_would_misread_are_quoted() {
        assert_eq!(scalar("eth0"), "eth0");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("10.11"), "\"10.11\"");
        assert_eq!(scalar("a b#c"), "\"a b#c\"");
        assert_eq!(scalar("~/.ssh/id"), "\"~/.ssh/id\"");
    }
}
