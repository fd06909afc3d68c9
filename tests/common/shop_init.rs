//! `mhactl init` arguments (without the file) for the inventory the command-line tests
//! run against (tests/cli_grammar.rs, tests/json_schema.rs): two documentation
//! addresses that only the fake `ssh` of fake_ssh.rs "reaches", a key under `keys/` and
//! the replication password in `$SHOP_REPL_PW`.

pub const SHOP_INIT: &[&str] = &[
    "init",
    "--cluster",
    "shop-db",
    "--node",
    "db1=192.0.2.11",
    "--node",
    "db2=192.0.2.12",
    "--vip",
    "192.0.2.100/24",
    "--interface",
    "ens3",
    "--identity-file",
    "keys/id_ed25519",
    "--known-hosts",
    "keys/known_hosts",
    "--replication-password-env",
    "SHOP_REPL_PW",
];

/// The key SHOP_INIT's inventory names, made in `dir` (empty: the fake `ssh` never reads
/// it, but a missing key is refused before ssh runs).
pub fn make_key(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/id_ed25519"), "").unwrap();
}
