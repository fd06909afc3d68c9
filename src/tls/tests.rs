//! The control host's PKI: made once, read back the same, modes, SAN checks.

use super::*;

fn inventory(dir: &std::path::Path) -> Inventory {
    let yaml = "cluster: shop\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  \
                - name: node-b\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  \
                interface: eth0\n  virtual_router_id: 51\ncredentials:\n  \
                replication_password_env: X\n";
    let mut inv = crate::inventory::parse(yaml, "inventory.yaml").unwrap();
    inv.base_dir = dir.to_path_buf();
    inv
}

#[test]
fn a_managed_ca_is_made_once_saved_private_and_read_back() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let inv = inventory(tmp.path());
    let first = Pki::load(&inv).unwrap().unwrap();
    let dir = tmp.path().join("tls-shop");
    assert!(!dir.exists(), "load alone writes nothing (dry runs)");
    assert_eq!(first.unsaved_paths().len(), 6);
    first.save().unwrap();
    assert!(first.unsaved_paths().is_empty());
    let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("."), 0o700);
    assert_eq!(mode("ca-key.pem"), 0o600);
    assert_eq!(mode("node-b-key.pem"), 0o600);
    assert_eq!(mode("ca.pem"), 0o644);
    let again = Pki::load(&inv).unwrap().unwrap();
    assert_eq!(again.ca_pem, first.ca_pem);
    assert_eq!(again.nodes[1].cert_pem, first.nodes[1].cert_pem);
    assert!(again.unsaved_paths().is_empty());
    for i in 0..2 {
        check_san(&again.nodes[i].cert_pem, &inv, i).unwrap();
    }
    assert!(check_san(&again.nodes[0].cert_pem, &inv, 1).is_err());
    assert_eq!(ca_path(&inv), Some(dir.join("ca.pem")));
}

#[test]
fn a_node_whose_address_changed_gets_a_new_certificate_from_the_same_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let mut inv = inventory(tmp.path());
    let first = Pki::load(&inv).unwrap().unwrap();
    first.save().unwrap();
    inv.nodes[1].address = "10.0.0.13".parse().unwrap();
    let moved = Pki::load(&inv).unwrap().unwrap();
    assert_eq!(moved.ca_pem, first.ca_pem);
    assert_eq!(moved.nodes[0].cert_pem, first.nodes[0].cert_pem);
    assert_ne!(moved.nodes[1].cert_pem, first.nodes[1].cert_pem);
    check_san(&moved.nodes[1].cert_pem, &inv, 1).unwrap();
}

#[test]
fn off_means_no_pki_and_half_a_ca_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut inv = inventory(tmp.path());
    let dir = tmp.path().join("tls-shop");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), "x").unwrap();
    let err = format!("{:#}", Pki::load(&inv).err().unwrap());
    assert!(err.contains("ca-key.pem"), "{err}");
    inv.tls.enabled = false;
    assert!(Pki::load(&inv).unwrap().is_none());
    assert_eq!(ca_path(&inv), None);
}

#[test]
fn own_pki_needs_every_node_and_no_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let mut inv = inventory(tmp.path());
    inv.tls.ca_cert = Some("ca.pem".into());
    let problems = crate::inventory::tls::check_tls(&inv);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].0 == "tls.nodes.node-a", "{problems:?}");
    inv.tls.dir = Some("x".into());
    assert!(crate::inventory::tls::check_tls(&inv)
        .iter()
        .any(|(f, _)| f == "tls.dir"));
}

#[test]
fn node_certificates_expire_after_their_validity_and_the_ca_later() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::load(&inventory(tmp.path())).unwrap().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let node_days = (not_after(&pki.nodes[0].cert_pem).unwrap() - now).whole_days();
    assert!(
        (NODE_VALID_DAYS - 1..=NODE_VALID_DAYS).contains(&node_days),
        "{node_days}"
    );
    let ca_days = (not_after(&pki.ca_pem).unwrap() - now).whole_days();
    assert!(ca_days > node_days, "{ca_days}");
    assert!(not_after("not a certificate").is_err());
}
