//! The fleet loader: both layouts, the merge of shared variables, and problems named by
//! cluster, file, line and column.

use super::{deep_merge, is_fleet, load_fleet};
use std::path::Path;

const FLEET: &str = "\
vars:
  ssh:
    user: dba
    connect_timeout_s: 7
  vip:
    interface: eth0
    prefix: 24
  credentials:
    replication_password_env: PW
clusters:
  pair1:
    nodes:
      - {name: node-a, address: 10.1.1.11}
      - {name: node-b, address: 10.1.1.12}
    vip:
      address: 10.1.1.100
      virtual_router_id: 51
  pair2:
    ssh:
      user: root
    nodes:
      - {name: node-a, address: 10.1.2.11}
      - {name: node-b, address: 10.1.2.12}
    vip:
      address: 10.1.2.100
      virtual_router_id: 52
";

fn write(dir: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn err(path: &Path) -> String {
    format!("{:#}", load_fleet(path).unwrap_err())
}

#[test]
fn a_fleet_file_merges_vars_under_each_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "fleet.yaml", FLEET);
    assert!(is_fleet(&path));
    let fleet = load_fleet(&path).unwrap();
    assert_eq!(fleet.names(), ["pair1", "pair2"]);
    let p1 = &fleet.cluster("pair1").unwrap().inventory;
    assert_eq!(p1.cluster, "pair1");
    assert_eq!(p1.ssh.user.as_deref(), Some("dba"));
    assert_eq!(p1.ssh.connect_timeout_s, Some(7));
    assert_eq!(p1.vip.interface, "eth0");
    assert_eq!(p1.vip.virtual_router_id, 51);
    let p2 = &fleet.cluster("pair2").unwrap().inventory;
    // The cluster's own value wins, key by key: its user, the shared timeout.
    assert_eq!(p2.ssh.user.as_deref(), Some("root"));
    assert_eq!(p2.ssh.connect_timeout_s, Some(7));
    assert_eq!(p2.base_dir, std::path::absolute(dir.path()).unwrap());
}

#[test]
fn a_fleet_file_in_flow_style_is_a_fleet() {
    // The same fleet as FLEET, written on one line as a JSON writer would (`{...}`), after
    // a comment and a document marker: no line starts with `clusters:`.
    let flow = "# written by a script\n---\n{vars: {ssh: {user: dba, connect_timeout_s: 7}, \
        vip: {interface: eth0, prefix: 24}, credentials: {replication_password_env: PW}}, \
        clusters: {pair1: {nodes: [{name: node-a, address: 10.1.1.11}, {name: node-b, \
        address: 10.1.1.12}], vip: {address: 10.1.1.100, virtual_router_id: 51}}, \
        pair2: {ssh: {user: root}, nodes: [{name: node-a, address: 10.1.2.11}, \
        {name: node-b, address: 10.1.2.12}], vip: {address: 10.1.2.100, \
        virtual_router_id: 52}}}}\n";
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "fleet.yaml", flow);
    assert!(is_fleet(&path));
    let fleet = load_fleet(&path).unwrap();
    assert_eq!(fleet.names(), ["pair1", "pair2"]);
    let p2 = &fleet.cluster("pair2").unwrap().inventory;
    assert_eq!(p2.ssh.user.as_deref(), Some("root"));
    assert_eq!(p2.ssh.connect_timeout_s, Some(7));
    // JSON is YAML's flow style too.
    let json = write(
        dir.path(),
        "fleet.json",
        r#"{"clusters": {"pair1": "pair1.yaml"}}"#,
    );
    assert!(is_fleet(&json));
    // A single cluster in flow style, and a key `clusters` nested in one, are no fleet.
    let one = write(
        dir.path(),
        "one.yaml",
        "{cluster: x, nodes: [], vip: {address: 10.0.0.1}, credentials: {}, \
         labels: {clusters: 2}}\n",
    );
    assert!(!is_fleet(&one));
}

#[test]
fn a_single_cluster_file_is_no_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(
        dir.path(),
        "inv.yaml",
        "cluster: x\nnodes: []\nvip: {address: 10.0.0.1}\ncredentials: {}\n",
    );
    assert!(!is_fleet(&one));
    assert!(!is_fleet(&dir.path().join("missing.yaml")));
}

#[test]
fn a_problem_names_the_cluster_and_the_line_where_its_value_was_written() {
    let dir = tempfile::tempdir().unwrap();
    // In the cluster's own part: pair2's second node address.
    let bad = FLEET.replace("10.1.2.12}", "10.1.2.11}");
    let path = write(dir.path(), "fleet.yaml", &bad);
    let e = err(&path);
    assert!(e.contains("cluster pair2 ("), "{e}");
    assert!(e.contains("fleet.yaml:23:"), "line of pair2's node-b: {e}");
    assert!(!e.contains("pair1"), "{e}");
    // In the shared variables: every cluster reports it, at the vars line.
    let bad = FLEET.replace("connect_timeout_s: 7", "connect_timeout_s: 0");
    let path = write(dir.path(), "fleet.yaml", &bad);
    let e = err(&path);
    assert!(e.contains("2 clusters have problems"), "{e}");
    assert!(
        e.contains("cluster pair1") && e.contains("cluster pair2"),
        "{e}"
    );
    assert_eq!(e.matches("fleet.yaml:4:").count(), 2, "{e}");
    // A type error (unknown field) inside a cluster, with a suggestion.
    let bad = FLEET.replace("      virtual_router_id: 52", "      virtual_routr_id: 52");
    let path = write(dir.path(), "fleet.yaml", &bad);
    let e = err(&path);
    assert!(e.contains("cluster pair2"), "{e}");
    assert!(e.contains("fleet.yaml:26:"), "{e}");
    assert!(e.contains("did you mean `virtual_router_id`"), "{e}");
    // An unknown top-level field of the fleet file.
    let path = write(dir.path(), "fleet.yaml", &format!("{FLEET}cluster: x\n"));
    let e = err(&path);
    assert!(
        e.contains("fleet.yaml:27:") && e.contains("unknown field `cluster`"),
        "{e}"
    );
}

#[test]
fn a_directory_is_a_fleet_with_group_vars() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "group_vars/all.yaml",
        "ssh:\n  user: dba\nvip:\n  interface: eth0\ncredentials:\n  replication_password_env: PW\n",
    );
    write(
        dir.path(),
        "shop.yaml",
        "nodes:\n  - {name: a, address: 10.2.0.1}\n  - {name: b, address: 10.2.0.2}\nvip:\n  address: 10.2.0.100\n  virtual_router_id: 9\n",
    );
    write(
        dir.path(),
        "billing.yml",
        "cluster: billing-eu\nnodes:\n  - {name: a, address: 10.3.0.1}\n  - {name: b, address: 10.3.0.2}\nvip:\n  address: 10.3.0.100\n  virtual_router_id: 10\n",
    );
    write(dir.path(), "README.txt", "not a cluster");
    assert!(is_fleet(dir.path()));
    let fleet = load_fleet(dir.path()).unwrap();
    assert_eq!(fleet.names(), ["billing-eu", "shop"]);
    assert_eq!(fleet.clusters[1].inventory.ssh.user.as_deref(), Some("dba"));
    // A problem in group_vars is placed there.
    write(
        dir.path(),
        "group_vars/all.yaml",
        "ssh:\n  user: dba\n  port: 0\nvip:\n  interface: eth0\ncredentials:\n  replication_password_env: PW\n",
    );
    let e = err(dir.path());
    assert!(e.contains("all.yaml:3:"), "{e}");
    assert!(
        e.contains("cluster shop (") && e.contains("shop.yaml"),
        "{e}"
    );
}

#[test]
fn cluster_files_and_duplicate_names() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p/one.yaml",
        "nodes:\n  - {name: a, address: 10.2.0.1}\n  - {name: b, address: 10.2.0.2}\nvip:\n  address: 10.2.0.100\n  virtual_router_id: 9\n  interface: eth0\ncredentials:\n  replication_password_env: PW\n",
    );
    let path = write(dir.path(), "fleet.yaml", "clusters:\n  one: p/one.yaml\n");
    let fleet = load_fleet(&path).unwrap();
    assert_eq!(
        fleet.clusters[0].inventory.base_dir,
        std::path::absolute(dir.path().join("p")).unwrap()
    );
    let path = write(
        dir.path(),
        "fleet.yaml",
        "clusters:\n  one: p/missing.yaml\n",
    );
    let e = err(&path);
    assert!(
        e.contains("fleet.yaml:2:") && e.contains("missing.yaml: file not found"),
        "{e}"
    );
    // A cluster file naming itself otherwise than its key.
    write(dir.path(), "p/two.yaml", "cluster: uno\n");
    let path = write(dir.path(), "fleet.yaml", "clusters:\n  two: p/two.yaml\n");
    let e = err(&path);
    assert!(
        e.contains("differs from the cluster's name in the fleet `two`"),
        "{e}"
    );
    let path = write(dir.path(), "fleet.yaml", "clusters: {}\n");
    assert!(err(&path).contains("the fleet has no cluster"));
}

#[test]
fn merge_is_deep_for_mappings_only() {
    let v = |s: &str| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(s).unwrap();
    let merged = deep_merge(
        &v("a: {x: 1, y: 2}\nl: [1, 2]\n"),
        &v("a: {y: 3}\nl: [9]\n"),
    );
    assert_eq!(merged, v("a: {x: 1, y: 3}\nl: [9]\n"));
}
