//! Inventory loading, validation, derived values and credential resolution.
//!
//! Bad cases are data: one fixture per case in tests/fixtures/inventory/, with the
//! substrings its error must contain in [`BAD_CASES`].

use mhactl::cli::UsageError;
use mhactl::inventory::{
    self, derive_vrrp_password, CredentialRef, HostKeyCheck, Inventory, SecretName, Secrets,
};
use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn good_text() -> String {
    std::fs::read_to_string(fixture("good.yaml")).unwrap()
}

fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>())
}

/// (fixture, substrings the error message must contain).
const BAD_CASES: &[(&str, &[&str])] = &[
    (
        "bad_packages_repository.yaml",
        &["packages.repository", "ftp://mirror.example/el9", "file:///path"],
    ),
    (
        "bad_packages_unknown_field.yaml",
        &["line 26 column 3: packages.respository: unknown field `respository`, did you mean `repository`?"],
    ),
    (
        "bad_packages_release_rpm.yaml",
        &[
            "packages.gpg_key: is the key of packages.repository, which is not set",
            "packages.mysql_release_rpm: is the MySQL Yum repository's setup RPM: only for mysql.flavor mysql",
        ],
    ),
    (
        "bad_one_node.yaml",
        &["nodes: exactly two nodes", "found 1"],
    ),
    (
        "bad_three_nodes.yaml",
        &["nodes: exactly two nodes", "found 3"],
    ),
    (
        "bad_duplicate_name.yaml",
        &["nodes[1].name", "also the name of nodes[0]"],
    ),
    (
        "bad_duplicate_address.yaml",
        &["nodes[1].address", "also the address of nodes[0]"],
    ),
    (
        "bad_node_name.yaml",
        &["nodes[0].name", "\"Node_A\"", "lowercase"],
    ),
    (
        "bad_empty_node_name.yaml",
        &["nodes[0].name: must not be empty"],
    ),
    (
        "bad_cluster_name.yaml",
        &["cluster:", "contains a space", "letters, digits"],
    ),
    (
        "bad_vip_is_node.yaml",
        &["vip.address", "also the address of nodes[1]"],
    ),
    (
        "bad_subnet.yaml",
        &[
            "nodes[1].address",
            "outside the VIP's subnet 192.168.50.0/24",
        ],
    ),
    ("bad_prefix.yaml", &["vip.prefix", "33", "1-32"]),
    ("bad_vrid_zero.yaml", &["vip.virtual_router_id", "1-255"]),
    (
        "bad_vrid_too_big.yaml",
        &[
            "line 10 column 22",
            "vip.virtual_router_id",
            "256",
            "0 to 255",
        ],
    ),
    (
        "bad_priority_same.yaml",
        &["nodes[1].priority", "90", "default"],
    ),
    (
        "bad_priority_255.yaml",
        &["nodes[0].priority", "255", "1-254"],
    ),
    (
        "bad_server_id_zero.yaml",
        &["nodes[0].server_id", "must not be 0"],
    ),
    (
        "bad_server_id_same.yaml",
        &["nodes[1].server_id", "7", "distinct"],
    ),
    ("bad_interface.yaml", &["vip.interface", "\"eth 0\""]),
    ("bad_mysql_port.yaml", &["mysql.port: must not be 0"]),
    (
        "bad_replication_user.yaml",
        &["mysql.replication_user", "letters, digits"],
    ),
    (
        "bad_database_name.yaml",
        &["mysql.replicate_databases[1]", "\"shop.orders\""],
    ),
    (
        "bad_version_format.yaml",
        &["mysql.version", "\"8.0.36\"", "\"8.0\""],
    ),
    (
        "bad_version_unsupported.yaml",
        &["mysql.version", "not supported", "10.x and 11.x"],
    ),
    (
        "bad_no_replication_source.yaml",
        &["credentials", "replication_password_env"],
    ),
    (
        "bad_two_replication_sources.yaml",
        &[
            "replication_password_env and replication_password_file",
            "exactly one",
        ],
    ),
    (
        "bad_two_root_sources.yaml",
        &["root_password_env and root_password_prompt are both given"],
    ),
    (
        "bad_two_vrrp_sources.yaml",
        &["vrrp_password_env and vrrp_password_file"],
    ),
    (
        "bad_inline_secret.yaml",
        &[
            "line 12 column 3",
            "credentials.replication_password:",
            "references",
            "`replication_password_file` or",
        ],
    ),
    (
        "bad_unknown_field.yaml",
        &[
            "line 6 column 5",
            "nodes[1].adress: unknown field `adress`, did you mean `address`?",
        ],
    ),
    (
        "bad_unknown_flavor.yaml",
        &["line 12 column 11", "mysql.flavor", "did you mean `mysql`?"],
    ),
    (
        "bad_syntax.yaml",
        &["line 6 column 13", "mapping values are not allowed"],
    ),
    (
        "bad_address.yaml",
        &["line 4 column 14", "nodes[0].address"],
    ),
    ("bad_missing_vip.yaml", &["missing field `vip`"]),
    ("bad_empty.yaml", &["the inventory is empty"]),
    (
        "bad_bind_loopback.yaml",
        &["mysql.bind_address", "loopback"],
    ),
    (
        "bad_many_problems.yaml",
        &[
            "problems:",
            "cluster: must not be empty",
            "nodes[1].address",
            "vip.interface",
            "vip.virtual_router_id",
        ],
    ),
];

#[test]
fn good_fixture_loads() {
    let inv = inventory::load(&fixture("good.yaml")).unwrap();
    assert_eq!(inv.cluster, "shop-db");
    assert_eq!(inv.nodes.len(), 2);
    assert_eq!(inv.base_dir, fixtures());
    assert!(inv.warnings().is_empty());
}

#[test]
fn packages_mirror_parses() {
    let text = format!(
        "{}packages:\n  repository: http://mirror.example/mysql84/el9\n  gpg_key: http://mirror.example/RPM-GPG-KEY-mysql-2023\n",
        good_text()
    );
    let inv = inventory::parse(&text, "inv.yaml").unwrap();
    assert_eq!(
        inv.packages.repository.as_deref(),
        Some("http://mirror.example/mysql84/el9")
    );
    let both = format!(
        "{}packages:\n  repository: file:///srv/repo\n  mysql_release_rpm: /root/mysql84-community-release-el9-1.noarch.rpm\n",
        good_text().replace("flavor: mariadb", "flavor: mysql").replace("version: \"10.11\"", "version: \"8.4\"")
    );
    let err = format!("{:#}", inventory::parse(&both, "inv.yaml").unwrap_err());
    assert!(err.contains("exclude each other"), "{err}");
    // Without a `packages` section nothing changes.
    assert_eq!(
        inventory::parse(&good_text(), "inv.yaml").unwrap().packages,
        inventory::Packages::default()
    );
}

#[test]
fn bad_fixtures_fail_with_clear_messages() {
    let mut failures = Vec::new();
    for (file, expected) in BAD_CASES {
        let path = fixture(file);
        match inventory::load(&path) {
            Ok(_) => failures.push(format!("{file}: loaded, expected an error")),
            Err(err) => {
                let msg = format!("{err:#}");
                if !is_usage(&err) {
                    failures.push(format!("{file}: not a UsageError: {msg}"));
                }
                if !msg.starts_with(&path.display().to_string()) {
                    failures.push(format!(
                        "{file}: message does not start with the path: {msg}"
                    ));
                }
                for want in *expected {
                    if !msg.contains(want) {
                        failures.push(format!("{file}: missing {want:?} in: {msg}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bad_fixture_is_in_the_table() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("bad_") {
            assert!(
                BAD_CASES.iter().any(|(f, _)| *f == name),
                "{name} has no entry in BAD_CASES"
            );
        }
    }
}

#[test]
fn missing_file_names_the_path() {
    let err = inventory::load(Path::new("/nonexistent/dir/inventory.yaml")).unwrap_err();
    assert!(is_usage(&err));
    let msg = format!("{err:#}");
    assert!(msg.contains("/nonexistent/dir/inventory.yaml"), "{msg}");
    assert!(msg.contains("not found"), "{msg}");
}

#[test]
fn parse_prefixes_the_given_name() {
    let err = inventory::parse("cluster: [", "my-inv.yaml").unwrap_err();
    assert!(is_usage(&err));
    assert!(
        format!("{err:#}").starts_with("my-inv.yaml: line "),
        "{err:#}"
    );
}

#[test]
fn example_inventory_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.example.yaml");
    let inv = inventory::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(inv.nodes[0].address.to_string(), "10.0.0.11");
    assert_eq!(inv.nodes[1].address.to_string(), "10.0.0.12");
    assert_eq!(inv.vip.address.to_string(), "10.0.0.100");
    assert!(inv.mysql.skip_errors.is_empty());
}

#[test]
fn derived_values() {
    let inv = inventory::load(&fixture("good.yaml")).unwrap();
    assert_eq!((inv.server_id(0), inv.server_id(1)), (1, 2));
    assert_eq!((inv.priority(0), inv.priority(1)), (100, 90));
    assert_eq!(
        (inv.auto_increment_offset(0), inv.auto_increment_offset(1)),
        (1, 2)
    );
    assert_eq!(inv.peer(0).name, "node-b");
    assert_eq!(inv.peer(1).name, "node-a");
    assert_eq!(inv.node_index("node-b"), Some(1));
    assert_eq!(inv.node_index("node-z"), None);
    assert_eq!(inv.ignored_databases(), vec!["mysql".to_string()]);

    let text = good_text().replace(
        "    address: 192.168.50.11\n",
        "    address: 192.168.50.11\n    server_id: 11\n    priority: 150\n",
    );
    let inv = inventory::parse(&text, "t.yaml").unwrap();
    assert_eq!((inv.server_id(0), inv.server_id(1)), (11, 2));
    assert_eq!((inv.priority(0), inv.priority(1)), (150, 90));
}

#[test]
fn ssh_settings_merge_and_resolve() {
    let inv = inventory::load(&fixture("good.yaml")).unwrap();
    let a = inv.ssh_for(0);
    assert_eq!(a.host.to_string(), "192.168.50.11");
    assert_eq!(a.user, "deploy");
    assert_eq!(a.port, 22);
    assert_eq!(a.identity_file, Some(fixtures().join("keys/id_ed25519")));
    assert_eq!(a.known_hosts, Some(fixtures().join("keys/known_hosts")));
    assert_eq!(a.host_key_check, HostKeyCheck::Strict);
    assert_eq!(a.connect_timeout, Duration::from_secs(10));
    let b = inv.ssh_for(1);
    assert_eq!(b.user, "admin");
    assert_eq!(b.port, 2222);
    assert_eq!(b.identity_file, a.identity_file);

    // No ssh section at all: pure defaults; absolute paths stay as they are.
    let text = good_text().replace(
        "ssh:\n  user: deploy\n  identity_file: keys/id_ed25519\n  known_hosts: keys/known_hosts\n",
        "ssh:\n  identity_file: /etc/mhactl/key\n  host_key_check: accept-new\n  connect_timeout_s: 3\n",
    );
    let inv = inventory::parse(&text, "t.yaml").unwrap();
    let a = inv.ssh_for(0);
    assert_eq!(a.user, "root");
    assert_eq!(a.identity_file, Some(PathBuf::from("/etc/mhactl/key")));
    assert_eq!(a.known_hosts, None);
    assert_eq!(a.host_key_check, HostKeyCheck::AcceptNew);
    assert_eq!(a.connect_timeout, Duration::from_secs(3));
    assert!(inv.warnings().iter().any(|w| w.contains("accept-new")));
}

#[test]
fn skip_errors_is_a_warning_not_an_error() {
    let text = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  skip_errors: [1062, 1032]\n",
    );
    let inv = inventory::parse(&text, "t.yaml").unwrap();
    let w = inv.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("1062, 1032") && w[0].contains("hides divergence"),
        "{w:?}"
    );
}

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

// ---- never panics --------------------------------------------------------------------

/// Text mutations of a valid inventory.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, String),
    Insert(usize, String),
    Truncate(usize),
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len();
    if n == 0 {
        return text.to_string();
    }
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::ReplaceValue(i, v) => {
            let l = &mut lines[i % n];
            if let Some(pos) = l.find(": ") {
                l.truncate(pos + 2);
                l.push_str(v);
            }
        }
        Mutation::Insert(pos, s) => {
            let mut t = lines.join("\n");
            let mut p = pos % (t.len() + 1);
            while !t.is_char_boundary(p) {
                p -= 1;
            }
            t.insert_str(p, s);
            return t;
        }
        Mutation::Truncate(pos) => {
            let t = lines.join("\n");
            let mut p = pos % (t.len() + 1);
            while !t.is_char_boundary(p) {
                p -= 1;
            }
            return t[..p].to_string();
        }
    }
    lines.join("\n")
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        "[a-zA-Z0-9 _.#:'\"\\[\\]{}-]{0,12}",
        Just("".to_string()),
        Just("~".to_string()),
        Just("[]".to_string()),
        Just("{a: 1}".to_string()),
        Just("true".to_string()),
    ]
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), value_strategy()).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        (any::<usize>(), "\\PC{0,6}").prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parse_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = inventory::parse(&text, "fuzz.yaml");
    }

    #[test]
    fn parse_yamlish_text_never_panics(text in "[a-z_:\\- \\n\\[\\]{}0-9.\"'#&*!|>]{0,200}") {
        let _ = inventory::parse(&text, "fuzz.yaml");
    }

    #[test]
    fn mutated_inventories_never_panic(muts in proptest::collection::vec(mutation_strategy(), 1..4)) {
        let mut text = good_text();
        for m in &muts {
            text = apply(&text, m);
        }
        match inventory::parse(&text, "fuzz.yaml") {
            Ok(inv) => {
                // A valid inventory's derived values are usable.
                prop_assert_eq!(inv.nodes.len(), 2);
                prop_assert_ne!(inv.server_id(0), inv.server_id(1));
                prop_assert_ne!(inv.priority(0), inv.priority(1));
                let _ = inv.ssh_for(0);
                let _ = inv.ssh_for(1);
                let _ = inv.warnings();
            }
            Err(e) => {
                prop_assert!(is_usage(&e));
                let msg = format!("{e:#}");
                prop_assert!(msg.starts_with("fuzz.yaml: "), "{}", msg);
            }
        }
    }

    #[test]
    fn numeric_fields_never_panic(
        prefix in any::<u8>(),
        vrid in any::<u8>(),
        p0 in any::<u8>(),
        p1 in any::<u8>(),
        s0 in any::<u32>(),
        a in any::<u32>(),
        b in any::<u32>(),
        v in any::<u32>(),
    ) {
        let text = format!(
            "cluster: c\nnodes:\n  - name: a\n    address: {}\n    priority: {p0}\n    server_id: {s0}\n  \
             - name: b\n    address: {}\n    priority: {p1}\nvip:\n  address: {}\n  prefix: {prefix}\n  \
             interface: eth0\n  virtual_router_id: {vrid}\ncredentials:\n  replication_password_prompt: true\n",
            std::net::Ipv4Addr::from(a), std::net::Ipv4Addr::from(b), std::net::Ipv4Addr::from(v),
        );
        if let Ok(inv) = inventory::parse(&text, "n.yaml") {
            prop_assert!((1..=32).contains(&inv.vip.prefix));
            prop_assert!(inv.vip.virtual_router_id != 0);
            prop_assert!(p0 != p1 && (1..=254).contains(&p0) && (1..=254).contains(&p1));
            prop_assert!(s0 != 0 && s0 != 2);
        }
    }
}

fn with(extra: &str) -> anyhow::Result<Inventory> {
    inventory::parse(&format!("{}{extra}", good_text()), "inventory.yaml")
}

fn err_of(extra: &str) -> String {
    format!("{:#}", with(extra).unwrap_err())
}

#[test]
fn character_set_defaults_validation_and_utf8_warning() {
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.mysql.character_set, "utf8mb4");
    assert_eq!(inv.mysql.collation, None);
    assert!(inv.warnings().iter().all(|w| !w.contains("character_set")));
    let text = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8\n",
    );
    let inv = inventory::parse(&text, "inventory.yaml").unwrap();
    let w = inv.warnings().join("\n");
    assert!(
        w.contains("3-byte utf8mb3") && w.contains("use `utf8mb4`"),
        "{w}"
    );
    let bad = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8mb4\n  collation: latin1_swedish_ci\n",
    );
    let e = format!(
        "{:#}",
        inventory::parse(&bad, "inventory.yaml").unwrap_err()
    );
    assert!(
        e.contains("mysql.collation") && e.contains("utf8mb4_"),
        "{e}"
    );
    let bad = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8mb5\n",
    );
    let e = format!(
        "{:#}",
        inventory::parse(&bad, "inventory.yaml").unwrap_err()
    );
    assert!(e.contains("did you mean `utf8mb4`"), "{e}");
}

#[test]
fn statement_based_filters_warn_about_the_default_database() {
    let text = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  binlog_format: mixed\n",
    );
    let w = inventory::parse(&text, "inventory.yaml")
        .unwrap()
        .warnings()
        .join("\n");
    assert!(
        w.contains("default database") && w.contains("USE other; INSERT INTO shop.t"),
        "{w}"
    );
    // Row-based: no such warning.
    let w = inventory::parse(&good_text(), "inventory.yaml")
        .unwrap()
        .warnings()
        .join("\n");
    assert!(!w.contains("default database"), "{w}");
    // `mysql` is never replicated: listing it is an error, and it is always ignored.
    let text = good_text().replace("[shop]", "[shop, mysql]");
    assert!(format!(
        "{:#}",
        inventory::parse(&text, "inventory.yaml").unwrap_err()
    )
    .contains("never replicated"));
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.ignored_databases(), ["mysql"]);
}

const APP: &str = "access:\n  users:\n    - name: app\n      password_env: APP_PW\n      networks: [10.0.0.0/24, 10.0.1.%]\n      privileges: \"SELECT, INSERT ON shop.*\"\n";

#[test]
fn access_users_parse_and_validate() {
    let inv = with(APP).unwrap();
    assert_eq!(inv.access.users[0].privileges, ["SELECT, INSERT ON shop.*"]);
    assert!(inv.warnings().iter().all(|w| !w.contains("access")));
    // A list of grants is fine too.
    let inv = with(&APP.replace(
        "privileges: \"SELECT, INSERT ON shop.*\"",
        "privileges: [\"SELECT ON shop.*\", \"SELECT ON logs.*\"]",
    ))
    .unwrap();
    assert_eq!(inv.access.users[0].privileges.len(), 2);
    for (from, to, want) in [
        ("name: app", "name: root", "reserved"),
        ("name: app", "name: repl", "replication account"),
        ("10.0.0.0/24, ", "'%', ", "allow_any_host"),
        ("10.0.0.0/24", "10.0.0.5/24", "host bits"),
        ("10.0.0.0/24", "app.example.com", "skip_name_resolve"),
        (
            "SELECT, INSERT ON shop.*",
            "ALL PRIVILEGES ON *.*",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELECT ON shop.* WITH GRANT OPTION",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELECT ON mysql.*",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELCT ON shop.*",
            "did you mean SELECT",
        ),
        (
            "password_env: APP_PW",
            "password_prompt: false",
            "no password source",
        ),
    ] {
        let e = err_of(&APP.replace(from, to));
        assert!(
            e.contains("access.users[0]") && e.contains(want),
            "{to}: {e}"
        );
    }
    let both = APP.replace(
        "password_env: APP_PW",
        "password_env: APP_PW\n      password_file: s.yaml#app",
    );
    assert!(err_of(&both).contains("both given"));
    // `%` with allow_any_host, and admin: true, are allowed with a warning.
    let inv = with(&APP.replace("10.0.0.0/24, ", "'%', ").replace(
        "      privileges:",
        "      allow_any_host: true\n      admin: true\n      privileges:",
    ))
    .unwrap();
    let w = inv.warnings().join("\n");
    assert!(
        w.contains("any host") && w.contains("administrative"),
        "{w}"
    );
}

#[test]
fn access_user_passwords_are_secrets() {
    std::env::set_var("MHACTL_TEST_REPL_PW", "repl-secret");
    std::env::set_var("MHACTL_TEST_APP_PW", "app-secret");
    let inv = with(&APP.replace("APP_PW", "MHACTL_TEST_APP_PW")).unwrap();
    let s = Secrets::resolve(&inv, false).unwrap();
    assert_eq!(s.user_passwords.len(), 1);
    assert!(s.values().contains(&"app-secret"));
    let inv = with(&APP.replace("APP_PW", "MHACTL_TEST_APP_PW_UNSET")).unwrap();
    let e = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(
        e.contains("access.users[0].password_env") && e.contains("MHACTL_TEST_APP_PW_UNSET"),
        "{e}"
    );
}

/// Runbook 1.4: the data directory, socket, error log and pid file (both flavors).
#[test]
fn server_paths_parse_and_validate() {
    let paths = "  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n  \
                 log_error: /var/log/custom/mysql.err\n  pid_file: /var/run/custom/mysqld.pid\n";
    let add = |extra: &str| {
        good_text().replace(
            "  replicate_databases: [shop]\n",
            &format!("  replicate_databases: [shop]\n{extra}"),
        )
    };
    for flavor in ["mariadb", "mysql"] {
        let text = add(paths)
            .replace("flavor: mariadb", &format!("flavor: {flavor}"))
            .replace("  version: \"10.11\"\n", "");
        let inv = inventory::parse(&text, "inventory.yaml").unwrap();
        assert_eq!(
            inv.mysql.socket.as_deref(),
            Some(std::path::Path::new("/var/run/custom/mysql.sock"))
        );
        assert_eq!(
            inv.mysql.log_error.as_deref(),
            Some(std::path::Path::new("/var/log/custom/mysql.err"))
        );
        assert_eq!(
            inv.mysql.pid_file.as_deref(),
            Some(std::path::Path::new("/var/run/custom/mysqld.pid"))
        );
    }
    let err = |extra: &str| {
        format!(
            "{:#}",
            inventory::parse(&add(extra), "inventory.yaml").unwrap_err()
        )
    };
    let e = err("  socket: run/mysql.sock\n");
    assert!(
        e.contains("mysql.socket") && e.contains("absolute path"),
        "{e}"
    );
    let e = err("  log_error: \"/var/log/my log.err\"\n");
    assert!(e.contains("mysql.log_error") && e.contains("spaces"), "{e}");
    let e = err(&format!("  socket: /{}/mysql.sock\n", "d".repeat(110)));
    assert!(e.contains("mysql.socket") && e.contains("107 bytes"), "{e}");
    let e = err("  socket: /var/run/custom/x\n  pid_file: /var/run/custom/x\n");
    assert!(
        e.contains("mysql.socket: must differ from mysql.pid_file"),
        "{e}"
    );
    let e = err("  datadir: /data/mysql\n  log_error: /data/mysql/\n");
    assert!(
        e.contains("mysql.log_error: must be a file, not the data directory"),
        "{e}"
    );
    let e = err("  pid_file: /\n");
    assert!(
        e.contains("mysql.pid_file") && e.contains("root directory"),
        "{e}"
    );
    let e = err("  sock: /tmp/mysql.sock\n");
    assert!(e.contains("did you mean `socket`"), "{e}");
}

/// `mysql.durability` (issue 14, class 11): full by default, relaxed on request, nothing else.
#[test]
fn durability_defaults_to_full() {
    use mhactl::inventory::Durability;
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.mysql.durability, Durability::Full);
    let relaxed = good_text().replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  durability: relaxed\n",
    );
    assert_eq!(
        inventory::parse(&relaxed, "inventory.yaml")
            .unwrap()
            .mysql
            .durability,
        Durability::Relaxed
    );
    let bad = good_text().replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  durability: fast\n",
    );
    let err = inventory::parse(&bad, "inventory.yaml").unwrap_err();
    assert!(is_usage(&err), "{err:#}");
    assert!(format!("{err:#}").contains("durability"), "{err:#}");
}

/// `packages.mysql_gpg_key` (issue 14, class 15): the key EL7's 5.7 packages are signed
/// with; a URL or an absolute path, only for MySQL without a mirror.
#[test]
fn mysql_gpg_key_validates() {
    let mysql = good_text()
        .replace("flavor: mariadb", "flavor: mysql")
        .replace("version: \"10.11\"", "version: \"5.7\"");
    let with_key = |key: &str| format!("{mysql}packages:\n  mysql_gpg_key: {key}\n");
    for ok in [
        "https://internal.example/RPM-GPG-KEY-mysql-2022",
        "/root/RPM-GPG-KEY-mysql-2022",
    ] {
        let inv = inventory::parse(&with_key(ok), "inv.yaml").unwrap();
        assert_eq!(inv.packages.mysql_gpg_key.as_deref(), Some(ok));
    }
    for bad in ["ftp://x/key", "\"/root/my key\"", "\"https://x/k;rm\""] {
        let err = inventory::parse(&with_key(bad), "inv.yaml").unwrap_err();
        assert!(is_usage(&err), "{bad}: {err:#}");
        assert!(
            format!("{err:#}").contains("packages.mysql_gpg_key"),
            "{bad}: {err:#}"
        );
    }
    let maria = format!("{}packages:\n  mysql_gpg_key: /root/k\n", good_text());
    let err = format!("{:#}", inventory::parse(&maria, "inv.yaml").unwrap_err());
    assert!(err.contains("only for mysql.flavor mysql"), "{err}");
}
