//! Credentials: environment, files, keys in files, prompts, the VRRP password.

use super::*;

// ---- credentials -------------------------------------------------------------------

/// An inventory in `dir` whose credentials section is `creds` (YAML lines, indented).
fn inv_with_credentials(dir: &Path, creds: &str) -> Inventory {
    let text = good_text().replace(
        "credentials:\n  replication_password_env: MHACTL_TEST_REPL_PW\n",
        &format!("credentials:\n{creds}"),
    );
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, text).unwrap();
    inventory::load(&path).unwrap_or_else(|e| panic!("{e:#}"))
}

fn write_secret(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn credentials_from_env() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("MHACTL_T1_REPL", "repl-secret");
    std::env::set_var("MHACTL_T1_ROOT", "root-secret");
    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_env: MHACTL_T1_REPL\n  root_password_env: MHACTL_T1_ROOT\n",
    );
    let s = Secrets::resolve(&inv, false).unwrap();
    assert_eq!(s.replication_password.expose_secret(), "repl-secret");
    assert_eq!(
        s.root_password.as_ref().unwrap().expose_secret(),
        "root-secret"
    );
    assert_eq!(s.vrrp_password.expose_secret().len(), 8);
    let values = s.values();
    assert!(values.contains(&"repl-secret") && values.contains(&"root-secret"));
    assert_eq!(values.len(), 3);
    // Debug never shows a secret.
    let dbg = format!("{s:?}");
    assert!(
        !dbg.contains("repl-secret") && !dbg.contains("root-secret"),
        "{dbg}"
    );
}

#[test]
fn credentials_env_unset_or_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::env::remove_var("MHACTL_T2_UNSET");
    let inv = inv_with_credentials(dir.path(), "  replication_password_env: MHACTL_T2_UNSET\n");
    let err = Secrets::resolve(&inv, false).unwrap_err();
    assert!(is_usage(&err));
    let msg = format!("{err:#}");
    assert!(msg.contains("MHACTL_T2_UNSET"), "{msg}");
    assert!(
        msg.contains("credentials.replication_password_env"),
        "{msg}"
    );
    assert!(msg.contains("not set"), "{msg}");

    std::env::set_var("MHACTL_T2_EMPTY", "");
    let inv = inv_with_credentials(dir.path(), "  replication_password_env: MHACTL_T2_EMPTY\n");
    let msg = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(
        msg.contains("MHACTL_T2_EMPTY") && msg.contains("empty"),
        "{msg}"
    );
}

#[test]
fn credentials_from_whole_file_relative_to_inventory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    write_secret(&dir.path().join("secrets/repl.txt"), "file-secret\n");
    write_secret(&dir.path().join("secrets/vrrp.txt"), "vr8chars\r\n");
    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_file: secrets/repl.txt\n  vrrp_password_file: secrets/vrrp.txt\n",
    );
    // Resolution must not depend on the current directory.
    let s = Secrets::resolve(&inv, false).unwrap();
    assert_eq!(s.replication_password.expose_secret(), "file-secret");
    assert_eq!(s.vrrp_password.expose_secret(), "vr8chars");
    assert!(s.root_password.is_none());
}

#[test]
fn credentials_from_file_key() {
    let dir = tempfile::tempdir().unwrap();
    write_secret(
        &dir.path().join("secrets.yaml"),
        "repl: \"yaml-secret\"\nroot: 'r00t#pw'\nnumeric: 1234\n",
    );
    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_file: secrets.yaml#repl\n  root_password_file: secrets.yaml#root\n",
    );
    let s = Secrets::resolve(&inv, false).unwrap();
    assert_eq!(s.replication_password.expose_secret(), "yaml-secret");
    assert_eq!(s.root_password.unwrap().expose_secret(), "r00t#pw");

    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_file: secrets.yaml#nope\n",
    );
    let msg = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(
        msg.contains("no key `nope`") && msg.contains("replication_password_file"),
        "{msg}"
    );

    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_file: secrets.yaml#numeric\n",
    );
    let msg = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(msg.contains("not a string"), "{msg}");
    assert!(
        !msg.contains("yaml-secret") && !msg.contains("r00t"),
        "{msg}"
    );
}

#[test]
fn credentials_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inv_with_credentials(dir.path(), "  replication_password_file: nope.txt\n");
    let err = Secrets::resolve(&inv, false).unwrap_err();
    assert!(is_usage(&err));
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&dir.path().join("nope.txt").display().to_string()),
        "{msg}"
    );
}

#[test]
fn credentials_prompt_without_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inv_with_credentials(dir.path(), "  replication_password_prompt: true\n");
    assert_eq!(
        inv.credentials.source(SecretName::ReplicationPassword),
        Some(CredentialRef::Prompt)
    );
    let check = |err: anyhow::Error| {
        assert!(is_usage(&err));
        let msg = format!("{err:#}");
        assert!(
            msg.contains("credentials.replication_password_prompt"),
            "{msg}"
        );
        assert!(msg.contains("terminal"), "{msg}");
        assert!(msg.contains("replication_password_env"), "{msg}");
        assert!(msg.contains("replication_password_file"), "{msg}");
    };
    check(Secrets::resolve(&inv, false).unwrap_err());
    if !std::io::stdin().is_terminal() {
        check(Secrets::resolve(&inv, true).unwrap_err());
    }
}

#[test]
fn vrrp_password_too_long() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("MHACTL_T3_REPL", "x");
    std::env::set_var("MHACTL_T3_VRRP", "ninechars");
    let inv = inv_with_credentials(
        dir.path(),
        "  replication_password_env: MHACTL_T3_REPL\n  vrrp_password_env: MHACTL_T3_VRRP\n",
    );
    let msg = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(
        msg.contains("credentials.vrrp_password_env") && msg.contains("at most 8"),
        "{msg}"
    );
    assert!(!msg.contains("ninechars"), "{msg}");
}

#[test]
fn derived_vrrp_password_is_stable() {
    let pw = SecretString::from("s3cret");
    let a = derive_vrrp_password("shop-db", &pw);
    let b = derive_vrrp_password("shop-db", &pw);
    assert_eq!(a.expose_secret(), b.expose_secret());
    assert_eq!(a.expose_secret().len(), 8);
    // Pinned: changing the derivation would change every deployed keepalived.conf.
    use sha2::Digest;
    let full = sha2::Sha256::digest(b"mhactl-vrrp\0shop-db\0s3cret");
    let hex: String = full.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(a.expose_secret(), &hex[..8]);
    assert_ne!(
        derive_vrrp_password("other", &pw).expose_secret(),
        a.expose_secret()
    );
    assert_ne!(
        derive_vrrp_password("shop-db", &SecretString::from("other")).expose_secret(),
        a.expose_secret()
    );
}
