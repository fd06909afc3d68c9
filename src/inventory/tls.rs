//! The inventory's `tls:` section: TLS for replication (issue 19). On by default: mhactl
//! keeps a per-cluster CA and one certificate per node on the control host (in
//! `tls.dir`), or takes the user's own PKI (`tls.ca_cert` and `tls.nodes.NAME.cert`/`key`,
//! files on the control host). `enabled: false` turns it off (docs/inventory.md: the risk).

use super::Inventory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `tls:`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Replication over TLS with the peer's certificate verified (default `true`).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Where mhactl keeps the cluster CA and the node certificates it makes (default:
    /// `tls-<cluster>` beside the inventory; mode 0700, keys 0600).
    pub dir: Option<PathBuf>,
    /// The user's own PKI: the CA certificate (PEM) that signed `nodes.*.cert`.
    pub ca_cert: Option<PathBuf>,
    /// The user's own PKI: each node's certificate and key (PEM), by node name.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeCertFiles>,
}

/// One node's certificate and key from the user's PKI.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeCertFiles {
    /// The certificate (PEM); its subjectAltName must hold the node's address.
    pub cert: PathBuf,
    /// Its private key (PEM, unencrypted: the server reads it at start).
    pub key: PathBuf,
}

fn enabled_by_default() -> bool {
    true
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            enabled: true,
            dir: None,
            ca_cert: None,
            nodes: BTreeMap::new(),
        }
    }
}

/// Where the certificates come from, paths resolved against the inventory's directory.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsSource {
    /// mhactl's own CA in this directory.
    Managed(PathBuf),
    /// The user's PKI: the CA certificate and, per node (inventory order), cert and key.
    Own {
        /// The CA certificate.
        ca_cert: PathBuf,
        /// (certificate, key) of each node, in the inventory's node order.
        nodes: Vec<(PathBuf, PathBuf)>,
    },
}

impl Inventory {
    /// The certificates' source when TLS is on (`None`: `tls.enabled: false`).
    pub fn tls_source(&self) -> Option<TlsSource> {
        let t = &self.tls;
        if !t.enabled {
            return None;
        }
        Some(match &t.ca_cert {
            Some(ca) => TlsSource::Own {
                ca_cert: self.resolve_path(ca),
                nodes: self
                    .nodes
                    .iter()
                    .map(|n| {
                        let f = t.nodes.get(&n.name);
                        let path =
                            |p: Option<&Path>| p.map(|p| self.resolve_path(p)).unwrap_or_default();
                        (
                            path(f.map(|f| f.cert.as_path())),
                            path(f.map(|f| f.key.as_path())),
                        )
                    })
                    .collect(),
            },
            None => TlsSource::Managed(
                self.resolve_path(
                    t.dir
                        .as_deref()
                        .unwrap_or(Path::new(&format!("tls-{}", self.cluster))),
                ),
            ),
        })
    }
}

/// The `tls:` section's problems, each as (field, message).
pub(crate) fn check_tls(inv: &Inventory) -> Vec<(String, String)> {
    let t = &inv.tls;
    let mut p = Vec::new();
    if t.ca_cert.is_some() && t.dir.is_some() {
        p.push((
            "tls.dir".into(),
            "set either tls.dir (mhactl's own CA) or tls.ca_cert with tls.nodes (your own PKI), \
             not both"
                .into(),
        ));
    }
    for name in t.nodes.keys() {
        if !inv.nodes.iter().any(|n| &n.name == name) {
            p.push((
                format!("tls.nodes.{name}"),
                "no node of this name in nodes".into(),
            ));
        }
    }
    match &t.ca_cert {
        Some(_) => {
            for n in &inv.nodes {
                if !t.nodes.contains_key(&n.name) {
                    p.push((
                        format!("tls.nodes.{}", n.name),
                        "missing: with tls.ca_cert every node needs its cert and key".into(),
                    ));
                }
            }
        }
        None if !t.nodes.is_empty() => p.push((
            "tls.nodes".into(),
            "needs tls.ca_cert (the CA that signed these certificates)".into(),
        )),
        None => {}
    }
    p
}
