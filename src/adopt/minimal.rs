//! The minimal inventory `mhactl adopt` starts from: what a user of a hand-built pair
//! knows (SSH access, the two node addresses, the VIP, and where the root and
//! replication passwords are, if they have them). Every field is a field of the normal
//! inventory, with the same name and meaning, so a minimal inventory is a subset of an
//! inventory and a full inventory is accepted too (docs/adopt.md).

use crate::error::UsageError;
use crate::inventory::{
    self, Credentials, Flavor, Inventory, MysqlSettings, Node, SecretName, Secrets, SshSettings,
    Vip,
};
use anyhow::Result;
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// A minimal inventory, as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MinimalInventory {
    /// Cluster name (default: keepalived's `router_id`, else `adopted`).
    #[serde(default)]
    pub cluster: Option<String>,
    /// SSH settings shared by both nodes, as in the inventory.
    #[serde(default)]
    pub ssh: SshSettings,
    /// The two nodes: name and address (and per-node SSH settings).
    pub nodes: Vec<MinimalNode>,
    /// The VIP: its address; the rest is read from keepalived.conf when left out.
    pub vip: MinimalVip,
    /// The server flavor (`mysql` makes mhactl log in with the root password).
    #[serde(default)]
    pub mysql: MinimalMysql,
    /// Where the passwords are, if the user has them (all optional here).
    #[serde(default)]
    pub credentials: Credentials,
    /// Directory the file was loaded from (relative paths resolve against it).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One node of a minimal inventory.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MinimalNode {
    /// Short unique name used in messages.
    pub name: String,
    /// The address SSH connects to and the peer replicates from.
    pub address: Ipv4Addr,
    /// Per-node SSH overrides.
    #[serde(default)]
    pub ssh: SshSettings,
}

/// The VIP of a minimal inventory.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MinimalVip {
    /// The address clients use.
    pub address: Ipv4Addr,
    /// Prefix length (default: keepalived.conf's, else the interface's).
    #[serde(default)]
    pub prefix: Option<u8>,
    /// The interface that carries it (default: keepalived.conf's).
    #[serde(default)]
    pub interface: Option<String>,
    /// VRRP virtual router id (default: keepalived.conf's).
    #[serde(default)]
    pub virtual_router_id: Option<u8>,
}

/// The server settings a minimal inventory may give.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MinimalMysql {
    /// `mariadb` or `mysql` (default: `mysql` when a root password is given, else
    /// `mariadb`, whose root logs in through the unix socket); the server's own
    /// version decides what the written inventory says.
    #[serde(default)]
    pub flavor: Option<Flavor>,
    /// TCP port (default 3306).
    #[serde(default)]
    pub port: Option<u16>,
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

/// Load a minimal inventory (or a full one) from `path`. Errors are usage errors (exit
/// 2) naming the file, and the field or line.
pub fn load(path: &Path) -> Result<MinimalInventory> {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(b) if b.len() > inventory::MAX_INVENTORY_BYTES => {
            return Err(usage(format!(
                "{name}: the inventory is larger than {} bytes",
                inventory::MAX_INVENTORY_BYTES
            )))
        }
        Ok(b) => String::from_utf8(b)
            .map_err(|_| usage(format!("{name}: the inventory is not valid UTF-8 text")))?,
        Err(e) => return Err(usage(format!("{name}: cannot read the inventory: {e}"))),
    };
    let mut min = parse(&text, &name)?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    min.base_dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(min)
}

/// Parse a minimal inventory; a full inventory is accepted as one (its other fields
/// are not needed to read the pair).
pub fn parse(text: &str, name: &str) -> Result<MinimalInventory> {
    let text = inventory::precheck(text).map_err(|m| usage(format!("{name}: {m}")))?;
    if let Ok(full) = inventory::parse(text, name) {
        return Ok(from_full(&full));
    }
    // Every type error at once, placed and quoted as the full inventory's are.
    let min: MinimalInventory = serde_yaml_ng::from_str(text).map_err(|first| {
        usage(inventory::schema_error_report::<MinimalInventory>(
            text, name, &first,
        ))
    })?;
    // The rules of the full inventory hold for the fields both have (two nodes,
    // distinct names and addresses, the VIP in their subnet, SSH settings).
    inventory::validate(&min.connect_inventory()).map_err(|m| usage(format!("{name}: {m}")))?;
    Ok(min)
}

/// The minimal part of a full inventory.
fn from_full(full: &Inventory) -> MinimalInventory {
    MinimalInventory {
        cluster: Some(full.cluster.clone()),
        ssh: full.ssh.clone(),
        nodes: full
            .nodes
            .iter()
            .map(|n| MinimalNode {
                name: n.name.clone(),
                address: n.address,
                ssh: n.ssh.clone(),
            })
            .collect(),
        vip: MinimalVip {
            address: full.vip.address,
            prefix: Some(full.vip.prefix),
            interface: Some(full.vip.interface.clone()),
            virtual_router_id: Some(full.vip.virtual_router_id),
        },
        mysql: MinimalMysql {
            flavor: Some(full.mysql.flavor),
            port: Some(full.mysql.port),
        },
        credentials: full.credentials.clone(),
        base_dir: full.base_dir.clone(),
    }
}

/// A placeholder the connect inventory needs for validation only; adopt never resolves
/// the replication password from it.
const UNUSED_ENV: &str = "MHACTL_ADOPT_NOT_USED";

impl MinimalInventory {
    /// The flavor to log in as: the given one, else `mysql` when a root password is
    /// given (MySQL's root logs in with it), else `mariadb` (root by the unix socket).
    pub fn login_flavor(&self) -> Flavor {
        self.mysql.flavor.unwrap_or_else(|| {
            if self.credentials.source(SecretName::RootPassword).is_some() {
                Flavor::Mysql
            } else {
                Flavor::Mariadb
            }
        })
    }

    /// An inventory with this file's SSH access and nodes, for connecting (its VIP
    /// interface and router id are placeholders adopt does not use).
    pub fn connect_inventory(&self) -> Inventory {
        let mut credentials = self.credentials.clone();
        if credentials
            .source(SecretName::ReplicationPassword)
            .is_none()
        {
            credentials.replication_password_env = Some(UNUSED_ENV.into());
        }
        let mysql = MysqlSettings {
            flavor: self.login_flavor(),
            port: self.mysql.port.unwrap_or(3306),
            ..MysqlSettings::default()
        };
        Inventory {
            cluster: self.cluster.clone().unwrap_or_else(|| "adopted".into()),
            ssh: self.ssh.clone(),
            nodes: self
                .nodes
                .iter()
                .map(|n| Node {
                    name: n.name.clone(),
                    address: n.address,
                    ssh: n.ssh.clone(),
                    server_id: None,
                    priority: None,
                })
                .collect(),
            vip: Vip {
                address: self.vip.address,
                prefix: self.vip.prefix.unwrap_or(24),
                interface: self.vip.interface.clone().unwrap_or_else(|| "eth0".into()),
                virtual_router_id: self.vip.virtual_router_id.unwrap_or(1),
                detection: None,
                advert_int_s: None,
                arbiter: None,
            },
            mysql,
            credentials,
            access: Default::default(),
            firewall: Default::default(),
            writes: Default::default(),
            packages: Default::default(),
            // Discovery logs in the way the hand-built pair takes logins: without TLS
            // (the inventory adopt writes leaves TLS at mhactl's default, on).
            tls: crate::inventory::TlsSettings {
                enabled: false,
                ..Default::default()
            },
            replication: Default::default(),
            base_dir: self.base_dir.clone(),
        }
    }

    /// The secrets adopt can use: the root password (to log in on MySQL) and, to keep
    /// them out of every message, the others the file names. An unresolvable reference
    /// is an error naming its field.
    pub fn secrets(&self, interactive: bool) -> Result<Secrets> {
        let inv = self.connect_inventory();
        let resolve = |name: SecretName| -> Result<Option<secrecy::SecretString>> {
            match self.credentials.source(name) {
                Some(r) => Ok(Some(r.resolve(name, &inv, interactive)?)),
                None => Ok(None),
            }
        };
        Ok(Secrets {
            replication_password: resolve(SecretName::ReplicationPassword)?
                .unwrap_or_else(|| String::new().into()),
            root_password: resolve(SecretName::RootPassword)?,
            vrrp_password: resolve(SecretName::VrrpPassword)?
                .unwrap_or_else(|| String::new().into()),
            user_passwords: Vec::new(),
            // A non-root SSH user's sudo password (`ssh.become_password_*`), by reference.
            become_passwords: (0..inv.nodes.len())
                .map(|i| crate::inventory::become_password(&inv, i))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "nodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n";

    #[test]
    fn the_smallest_file_names_nodes_and_vip() {
        let m = parse(MINIMAL, "min.yaml").unwrap();
        assert_eq!(m.nodes.len(), 2);
        assert_eq!(m.vip.interface, None);
        assert_eq!(m.login_flavor(), Flavor::Mariadb);
        let inv = m.connect_inventory();
        assert_eq!(inv.cluster, "adopted");
        assert_eq!(inv.nodes[1].name, "db2");
    }

    #[test]
    fn a_root_password_means_a_password_login() {
        let m = parse(
            &format!("{MINIMAL}credentials:\n  root_password_env: ROOT_PW\n"),
            "min.yaml",
        )
        .unwrap();
        assert_eq!(m.login_flavor(), Flavor::Mysql);
    }

    #[test]
    fn a_full_inventory_is_a_minimal_one() {
        let full = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/inventory.example.yaml"
        ))
        .unwrap();
        let m = parse(&full, "inventory.example.yaml").unwrap();
        assert_eq!(m.cluster.as_deref(), Some("shop-db"));
        assert_eq!(m.vip.interface.as_deref(), Some("eth0"));
        assert_eq!(m.vip.virtual_router_id, Some(51));
    }

    #[test]
    fn bad_input_names_the_file_and_the_problem() {
        for (text, wanted) in [
            ("nodes: []\nvip:\n  address: 10.0.0.100\n", "exactly two"),
            (
                "nodes:\n  - name: a\n    address: 10.0.0.11\n    adress: 1\nvip:\n  address: 10.0.0.100\n",
                "unknown field `adress`",
            ),
            (
                "nodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n",
                "missing field `vip`",
            ),
            (
                "nodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db1\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n",
                "db1",
            ),
        ] {
            let err = parse(text, "min.yaml").unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.starts_with("min.yaml:"), "{msg}");
            assert!(msg.contains(wanted), "{msg}");
            assert_eq!(crate::error::exit_code_for(&err), 2);
        }
    }

    /// Every type error at once, each at its line and column with the line quoted (as
    /// the full inventory's: issue 20 item 8), not only serde's first.
    #[test]
    fn every_type_error_is_reported_with_its_place() {
        let text = "nodes:\n  - name: db1\n    address: 10.0.0.11\n    adress: 1\n  - name: db2\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  virtual_router_id: many\n";
        let err = parse(text, "min.yaml").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("min.yaml:4:5:"), "{msg}");
        assert!(msg.contains("unknown field `adress`"), "{msg}");
        assert!(msg.contains("min.yaml:9:"), "{msg}");
        assert!(msg.contains("    adress: 1"), "{msg}");
        assert_eq!(crate::error::exit_code_for(&err), 2);
    }
}
