use super::*;

fn fleet() -> Vec<Candidate<'static>> {
    ["pair1", "pair2", "pair10", "db-eu"]
        .into_iter()
        .map(|name| Candidate {
            name,
            nodes: vec!["node-a", "node-b"],
        })
        .collect()
}

fn sel(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let p = parse(text).map_err(|e| e.0)?;
    select(&p, &fleet(), "fleet.yaml")
        .map(|v| v.into_iter().map(|s| (s.cluster, s.node)).collect())
        .map_err(|e| e.0)
}

fn whole(names: &[&str]) -> Vec<(String, Option<String>)> {
    names.iter().map(|n| (n.to_string(), None)).collect()
}

#[test]
fn globs_match_like_the_shell() {
    assert!(glob_match("pair*", "pair10"));
    assert!(glob_match("*", ""));
    assert!(glob_match("pair?", "pair1"));
    assert!(!glob_match("pair?", "pair10"));
    assert!(glob_match("pair[12]", "pair2"));
    assert!(!glob_match("pair[!12]", "pair2"));
    assert!(glob_match("pair[0-9]", "pair7"));
    assert!(glob_match("node-[ab]", "node-b"));
    assert!(!glob_match("pair", "pair1"), "the whole name must match");
    assert!(glob_match("*-eu", "db-eu"));
}

#[test]
fn clusters_nodes_exclusions_in_fleet_order() {
    assert_eq!(sel("pair*").unwrap(), whole(&["pair1", "pair2", "pair10"]));
    assert_eq!(sel("pair2,pair1").unwrap(), whole(&["pair1", "pair2"]));
    assert_eq!(sel("pair*,!pair10").unwrap(), whole(&["pair1", "pair2"]));
    assert_eq!(sel("!pair*").unwrap(), whole(&["db-eu"]));
    // Exclusions apply last, whatever their place.
    assert_eq!(sel("!pair10,pair*").unwrap(), whole(&["pair1", "pair2"]));
    assert_eq!(
        sel("pair1/node-b,db-eu").unwrap(),
        vec![
            ("pair1".to_string(), Some("node-b".to_string())),
            ("db-eu".to_string(), None)
        ]
    );
    // Both nodes by name are the whole cluster; one excluded leaves the other.
    assert_eq!(sel("pair1/node-a,pair1/node-b").unwrap(), whole(&["pair1"]));
    assert_eq!(
        sel("pair1,!pair1/node-a").unwrap(),
        vec![("pair1".to_string(), Some("node-b".to_string()))]
    );
    assert_eq!(sel("*/node-?").unwrap().len(), 4);
}

#[test]
fn nothing_matched_is_refused_naming_what_there_is() {
    let e = sel("pair3").unwrap_err();
    assert!(
        e.contains("no cluster matches `pair3`") && e.contains("pair1, pair2"),
        "{e}"
    );
    let e = sel("pair1/node-c").unwrap_err();
    assert!(e.contains("no node of pair1 matches `node-c`"), "{e}");
    let e = sel("pair*,!pair*").unwrap_err();
    assert!(e.contains("selects nothing in fleet.yaml"), "{e}");
    for bad in ["", "pair1,", "/node-a", "pair1/", "a/b/c", "pair[1"] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn one_cluster_takes_a_bare_node_name_as_before() {
    let c = Candidate {
        name: "lab0",
        nodes: vec!["node-a", "node-b"],
    };
    let one = |t: &str| select_single(&parse(t).unwrap(), &c, "inv.yaml").map_err(|e| e.0);
    assert_eq!(one("node-b").unwrap().node.as_deref(), Some("node-b"));
    assert_eq!(one("lab0").unwrap().node, None);
    assert_eq!(one("lab0/node-a").unwrap().node.as_deref(), Some("node-a"));
    assert_eq!(one("*/node-a").unwrap().node.as_deref(), Some("node-a"));
    let e = one("node-c").unwrap_err();
    assert!(
        e.contains("no such node or cluster in inv.yaml") && e.contains("node-a, node-b"),
        "{e}"
    );
}
