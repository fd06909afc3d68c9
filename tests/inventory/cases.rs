//! The fixtures: the good inventory loads, every bad one fails naming file and field; derived values.

use super::*;

/// (fixture, substrings the error message must contain).
const BAD_CASES: &[(&str, &[&str])] = &[
    (
        "bad_packages_repository.yaml",
        &["packages.repository", "ftp://mirror.example/el9", "file:///path"],
    ),
    (
        "bad_packages_unknown_field.yaml",
        &[":26:3: packages.respository: unknown field `respository`, did you mean `repository`?"],
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
            ":10:22",
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
            ":12:3",
            "credentials.replication_password:",
            "references",
            "`replication_password_file` or",
        ],
    ),
    (
        "bad_unknown_field.yaml",
        &[
            ":6:5",
            "nodes[1].adress: unknown field `adress`, did you mean `address`?",
        ],
    ),
    (
        "bad_unknown_flavor.yaml",
        &[":12:11", "mysql.flavor", "did you mean `mysql`?"],
    ),
    (
        "bad_unknown_writes.yaml",
        &[":11:9", "writes", "did you mean `vip-holder`?"],
    ),
    (
        "bad_syntax.yaml",
        &[":6:13", "mapping values are not allowed"],
    ),
    (
        "bad_address.yaml",
        &[":4:14", "nodes[0].address"],
    ),
    ("bad_missing_vip.yaml", &["missing field `vip`"]),
    ("bad_empty.yaml", &["the inventory is empty"]),
    (
        "bad_bind_loopback.yaml",
        &["mysql.bind_address", "loopback"],
    ),
    (
        "bad_several_type_errors.yaml",
        &[
            "4 problems:",
            "bad_several_type_errors.yaml:4:5: nodes[0].adress: unknown field `adress`, did you mean `address`?",
            "bad_several_type_errors.yaml:7:15: nodes[1].priority: invalid type",
            "bad_several_type_errors.yaml:11:22: vip.virtual_router_id: invalid value: integer `300`",
            "bad_several_type_errors.yaml:13:11: mysql.flavor: unknown variant `mysq`, did you mean `mysql`?",
            "13 |   flavor: mysq\n   |           ^",
        ],
    ),
    (
        "bad_many_problems.yaml",
        &[
            "problems:",
            "bad_many_problems.yaml:1:10: cluster: must not be empty",
            "1 | cluster: \"\"\n  |          ^",
            "bad_many_problems.yaml:6:14: nodes[1].address",
            "bad_many_problems.yaml:9:14: vip.interface",
            "bad_many_problems.yaml:10:22: vip.virtual_router_id",
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
    assert!(format!("{err:#}").starts_with("my-inv.yaml:1:"), "{err:#}");
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
    assert_eq!(a.user.as_deref(), Some("deploy"));
    // No port in the inventory: none given to ssh, whose config or default decides.
    assert_eq!(a.port, None);
    assert_eq!(a.identity_file, Some(fixtures().join("keys/id_ed25519")));
    assert_eq!(a.known_hosts, Some(fixtures().join("keys/known_hosts")));
    assert_eq!(a.host_key_check, HostKeyCheck::Strict);
    assert_eq!(a.connect_timeout, Duration::from_secs(10));
    let b = inv.ssh_for(1);
    assert_eq!(b.user.as_deref(), Some("admin"));
    assert_eq!(b.port, Some(2222));
    assert_eq!(b.identity_file, a.identity_file);

    // No ssh section at all: pure defaults; absolute paths stay as they are.
    let text = good_text().replace(
        "ssh:\n  user: deploy\n  identity_file: keys/id_ed25519\n  known_hosts: keys/known_hosts\n",
        "ssh:\n  identity_file: /etc/mhactl/key\n  host_key_check: accept-new\n  connect_timeout_s: 3\n",
    );
    let inv = inventory::parse(&text, "t.yaml").unwrap();
    let a = inv.ssh_for(0);
    // No user in the inventory: none given to ssh (its config's `User`, else the local
    // user name), no longer `-l root`.
    assert_eq!(a.user, None);
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
