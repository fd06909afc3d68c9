//! Inventories for the render tests (tests/render.rs, tests/arbiter.rs,
//! tests/fence_agent.rs), built one way: the "shop" pair every golden file of theirs is
//! rendered from, with the lines a test is about added, or a fixture file as a command
//! loads it. Also the golden-file comparison they share.
// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use mhactl::inventory::Inventory;
use std::path::{Path, PathBuf};

/// The shop pair (node-a 10.213.0.11, node-b 10.213.0.12, VIP 10.213.0.100 on eth0,
/// router id 51, replication password from $MHA_REPL), as YAML: `vip` gets `vip_lines`
/// added and a `mysql:` section holds `mysql_lines` (none when empty). Lines are
/// indented by two spaces and end with a newline.
pub fn shop_yaml(vip_lines: &str, mysql_lines: &str) -> String {
    let mysql = if mysql_lines.is_empty() {
        String::new()
    } else {
        format!("mysql:\n{mysql_lines}")
    };
    format!(
        "\ncluster: shop\nnodes:\n  - name: node-a\n    address: 10.213.0.11\n  \
         - name: node-b\n    address: 10.213.0.12\nvip:\n  address: 10.213.0.100\n  \
         interface: eth0\n  virtual_router_id: 51\n{vip_lines}{mysql}credentials:\n  \
         replication_password_env: MHA_REPL\n"
    )
}

/// The inventory as the renderers take it (deserialized, not validated: a render test
/// may use values validation would refuse).
pub fn inventory(yaml: &str) -> Inventory {
    serde_yaml_ng::from_str(yaml).expect("test inventory parses")
}

/// tests/fixtures/inventory/NAME loaded and validated, as every command reads one.
pub fn fixture_inventory(name: &str) -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory")
        .join(name);
    mhactl::inventory::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
}

/// Compares `actual` with tests/golden/NAME (`UPDATE_GOLDEN=1` rewrites it).
pub fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "{} differs from the rendered output; run with UPDATE_GOLDEN=1 if intended",
        path.display()
    );
}
