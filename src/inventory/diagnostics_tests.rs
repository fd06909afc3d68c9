//! Several problems in one file, each with its place and source line.

use super::*;

#[test]
fn paths_parse() {
    assert_eq!(
        parse_path("nodes[1].ssh.port"),
        Some(vec![
            Seg::Key("nodes".into()),
            Seg::Index(1),
            Seg::Key("ssh".into()),
            Seg::Key("port".into())
        ])
    );
    assert_eq!(parse_path(""), None);
}

#[test]
fn locates_values_by_path() {
    let text = "cluster: x\nnodes:\n  - name: a\n    address: 10.0.0.1\n  - {name: b, address: 10.0.0.2}\nvip:\n  address: 10.0.0.9\n";
    assert_eq!(locate(text, "cluster"), Some((1, 10)));
    assert_eq!(locate(text, "nodes[0].address"), Some((4, 14)));
    assert_eq!(locate(text, "nodes[1].address"), Some((5, 24)));
    assert_eq!(locate(text, "vip.address"), Some((7, 12)));
    // Not in the file: the nearest ancestor that is.
    assert_eq!(locate(text, "vip.interface"), Some((7, 3)));
    assert_eq!(locate(text, "nodes[5].name"), Some((3, 3)));
    // Not even the section: the document itself.
    assert_eq!(locate(text, "mysql.flavor"), Some((1, 1)));
}

#[test]
fn snippet_has_caret_under_the_column_and_masks_inline_secrets() {
    let text = "a: 1\n  address: 10.0.0.1\n";
    assert_eq!(
        snippet(text, 2, 12),
        "\n  |\n2 |   address: 10.0.0.1\n  |            ^"
    );
    let s = snippet("  replication_password: hunter2\n", 1, 3);
    assert!(!s.contains("hunter2"), "{s}");
    assert!(snippet("  replication_password_env: PW\n", 1, 3).contains("PW"));
}

#[test]
fn long_lines_are_cut_around_the_caret() {
    let line = format!("k: {}", "x".repeat(1000));
    let s = snippet(&line, 1, 500);
    assert!(s.len() < 400, "{s}");
    assert!(s.contains("...x"));
}
