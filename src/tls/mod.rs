//! The cluster's certificates on the control host (issue 19): mhactl's own per-cluster CA
//! and one server certificate per node, made with `rcgen` (pure Rust: an air-gapped
//! control host needs no OpenSSL), or the user's own PKI from the inventory
//! (`tls.ca_cert`, `tls.nodes`). Keys never leave this module but as [`SecretString`]s
//! for the `tls-files` step to install; nothing here prints one.
//!
//! Layout of `tls.dir` (default `tls-<cluster>` beside the inventory, mode 0700):
//! `ca.pem`, `ca-key.pem` (0600), `<node>.pem`, `<node>-key.pem` (0600).

use crate::inventory::{Inventory, TlsSource};
use anyhow::{anyhow, bail, Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};

/// How long mhactl's CA is valid.
pub const CA_VALID_DAYS: i64 = 3650;
/// How long a node certificate mhactl makes is valid.
pub const NODE_VALID_DAYS: i64 = 825;
/// verify warns this many days before a server certificate expires.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One node's certificate and key, PEM.
#[derive(Clone)]
pub struct NodePki {
    /// The certificate (subjectAltName: the node's address, its name, the VIP).
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: SecretString,
}

/// The cluster's certificates: the CA and each node's (inventory order), and the files
/// on the control host that do not exist yet (written by [`Pki::save`]).
#[derive(Clone)]
pub struct Pki {
    /// The CA certificate every node trusts.
    pub ca_pem: String,
    /// Per node, in the inventory's order.
    pub nodes: Vec<NodePki>,
    /// Files made in memory that [`Pki::save`] writes (path, content, mode).
    unsaved: Vec<(PathBuf, SecretString, u32)>,
}

impl Pki {
    /// The certificates for `inv` (`None`: TLS is off): read from the control host, and
    /// those of mhactl's own CA that are missing made in memory (see [`Pki::save`]).
    pub fn load(inv: &Inventory) -> Result<Option<Pki>> {
        match inv.tls_source() {
            None => Ok(None),
            Some(TlsSource::Own { ca_cert, nodes }) => {
                let read = |p: &Path, what: &str| {
                    std::fs::read_to_string(p)
                        .with_context(|| format!("tls: cannot read the {what} {}", p.display()))
                };
                let ca_pem = read(&ca_cert, "CA certificate (tls.ca_cert)")?;
                let mut out = Vec::new();
                for (i, (cert, key)) in nodes.iter().enumerate() {
                    let name = &inv.nodes[i].name;
                    let cert_pem = read(cert, &format!("certificate of {name}"))?;
                    check_san(&cert_pem, inv, i)
                        .with_context(|| format!("tls.nodes.{name}.cert {}", cert.display()))?;
                    let key_pem = SecretString::from(read(key, &format!("key of {name}"))?);
                    out.push(NodePki { cert_pem, key_pem });
                }
                Ok(Some(Pki {
                    ca_pem,
                    nodes: out,
                    unsaved: Vec::new(),
                }))
            }
            Some(TlsSource::Managed(dir)) => managed(inv, &dir).map(Some),
        }
    }

    /// Writes what [`Pki::load`] made in memory to the control host (the directory 0700,
    /// keys 0600, certificates 0644); nothing when everything existed.
    pub fn save(&self) -> Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        for (path, content, mode) in &self.unsaved {
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("tls: cannot create {}", dir.display()))?;
            }
            // Both nodes' steps save the same files: the first one wins.
            let mut f = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*mode)
                .open(path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(anyhow!(e).context(format!("tls: cannot create {}", path.display())))
                }
            };
            std::io::Write::write_all(&mut f, content.expose_secret().as_bytes())
                .with_context(|| format!("tls: cannot write {}", path.display()))?;
        }
        Ok(())
    }

    /// The files [`Pki::save`] would still write (those not on the control host yet).
    pub fn unsaved_paths(&self) -> Vec<String> {
        self.unsaved
            .iter()
            .filter(|(p, _, _)| !p.exists())
            .map(|(p, _, _)| p.display().to_string())
            .collect()
    }
}

/// When a certificate (PEM) expires.
pub fn not_after(cert_pem: &str) -> Result<time::OffsetDateTime> {
    Ok(rcgen::CertificateParams::from_ca_cert_pem(cert_pem)
        .map_err(|e| anyhow!("not a PEM certificate: {e}"))?
        .not_after)
}

/// The CA file a client of the pair verifies the servers with (mhactl's own replication
/// logins): `tls.ca_cert`, or `ca.pem` in `tls.dir`. `None`: TLS is off.
pub fn ca_path(inv: &Inventory) -> Option<PathBuf> {
    match inv.tls_source()? {
        TlsSource::Own { ca_cert, .. } => Some(ca_cert),
        TlsSource::Managed(dir) => Some(dir.join("ca.pem")),
    }
}

/// The CA mhactl's own TCP clients of the servers (failover-test's writer through the
/// VIP, bootstrap's password checks) verify them with when the servers refuse TCP logins
/// without TLS (`mysql.require_secure_transport`); `None`: they log in without TLS.
pub fn client_ca_path(inv: &Inventory) -> Option<PathBuf> {
    inv.mysql
        .require_secure_transport
        .then(|| ca_path(inv))
        .flatten()
}

/// mhactl's own CA in `dir`: read what exists, make what is missing (in memory).
fn managed(inv: &Inventory, dir: &Path) -> Result<Pki> {
    let (ca_path, ca_key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    let mut unsaved = Vec::new();
    let read = |p: &Path| -> Result<Option<String>> {
        match std::fs::read_to_string(p) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow!(e).context(format!("tls: cannot read {}", p.display()))),
        }
    };
    let (ca_pem, ca_key) = match (read(&ca_path)?, read(&ca_key_path)?) {
        (Some(cert), Some(key)) => (
            cert,
            rcgen::KeyPair::from_pem(&key).map_err(|e| {
                anyhow!(
                    "tls: {} is not a private key rcgen reads: {e}",
                    ca_key_path.display()
                )
            })?,
        ),
        (None, None) => {
            let key = rcgen::KeyPair::generate()?;
            let cert = new_ca(&inv.cluster, &key)?;
            unsaved.push((ca_key_path.clone(), key.serialize_pem().into(), 0o600));
            unsaved.push((ca_path.clone(), cert.pem().into(), 0o644));
            (cert.pem(), key)
        }
        _ => bail!(
            "tls: {} holds one of ca.pem and ca-key.pem but not the other: restore the \
             missing one, or move the directory away to make a new CA (the nodes then get \
             new certificates)",
            dir.display()
        ),
    };
    let issuer_params = rcgen::CertificateParams::from_ca_cert_pem(&ca_pem)
        .map_err(|e| anyhow!("tls: {} is not a CA certificate: {e}", ca_path.display()))?;
    let issuer = issuer_params.self_signed(&ca_key)?;
    let mut nodes = Vec::new();
    for (i, n) in inv.nodes.iter().enumerate() {
        let (cert_path, key_path) = (
            dir.join(format!("{}.pem", n.name)),
            dir.join(format!("{}-key.pem", n.name)),
        );
        let existing = match (read(&cert_path)?, read(&key_path)?) {
            (Some(c), Some(k)) if check_san(&c, inv, i).is_ok() => Some((c, k)),
            _ => None,
        };
        let (cert_pem, key_pem) = match existing {
            Some(x) => x,
            None => {
                let key = rcgen::KeyPair::generate()?;
                let cert = new_node_cert(inv, i, &key, &issuer, &ca_key)?;
                let (c, k) = (cert.pem(), key.serialize_pem());
                // A node certificate made again (new address): replace the old files.
                let _ = std::fs::remove_file(&cert_path);
                unsaved.push((key_path, k.clone().into(), 0o600));
                unsaved.push((cert_path, c.clone().into(), 0o644));
                (c, k)
            }
        };
        nodes.push(NodePki {
            cert_pem,
            key_pem: key_pem.into(),
        });
    }
    Ok(Pki {
        ca_pem,
        nodes,
        unsaved,
    })
}

fn validity(params: &mut rcgen::CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    // A day back: a node whose clock is a little behind the control host's accepts it.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
    params.serial_number = Some(random_serial());
}

fn random_serial() -> rcgen::SerialNumber {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    bytes[0] &= 0x7f; // a positive integer
    rcgen::SerialNumber::from_slice(&bytes)
}

fn new_ca(cluster: &str, key: &rcgen::KeyPair) -> Result<rcgen::Certificate> {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name
        .push(rcgen::DnType::CommonName, format!("mhactl CA {cluster}"));
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut p, CA_VALID_DAYS);
    Ok(p.self_signed(key)?)
}

fn new_node_cert(
    inv: &Inventory,
    i: usize,
    key: &rcgen::KeyPair,
    issuer: &rcgen::Certificate,
    issuer_key: &rcgen::KeyPair,
) -> Result<rcgen::Certificate> {
    let n = &inv.nodes[i];
    let mut p = rcgen::CertificateParams::new(vec![n.name.clone()])?;
    // The replica connects to the peer's address and checks it against the
    // certificate; clients through the VIP can check the VIP.
    p.subject_alt_names
        .push(rcgen::SanType::IpAddress(n.address.into()));
    p.subject_alt_names
        .push(rcgen::SanType::IpAddress(inv.vip.address.into()));
    p.distinguished_name
        .push(rcgen::DnType::CommonName, n.address.to_string());
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    validity(&mut p, NODE_VALID_DAYS);
    Ok(p.signed_by(key, issuer, issuer_key)?)
}

/// The certificate's subjectAltName holds node `i`'s address (what its peer's replica
/// verifies).
fn check_san(cert_pem: &str, inv: &Inventory, i: usize) -> Result<()> {
    let params = rcgen::CertificateParams::from_ca_cert_pem(cert_pem)
        .map_err(|e| anyhow!("not a PEM certificate: {e}"))?;
    let want = std::net::IpAddr::from(inv.nodes[i].address);
    if params
        .subject_alt_names
        .iter()
        .any(|s| matches!(s, rcgen::SanType::IpAddress(ip) if *ip == want))
    {
        Ok(())
    } else {
        bail!(
            "its subjectAltName does not hold {}'s address {want}: the peer's replica, which \
             verifies it, would refuse the connection",
            inv.nodes[i].name
        )
    }
}

pub mod rotate;
#[cfg(test)]
mod tests;
