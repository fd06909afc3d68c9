//! The per-node, per-run fact cache (`NodeHandle::facts`): values keyed by fact name and
//! argument (`variable:read_only`, `os-release:`), each with its [`Lifetime`], so a
//! change drops exactly the volatile ones. See the rules in [`super`].

use super::{Fact, Lifetime};
use std::any::Any;
use std::collections::HashMap;

/// What selects one instance of a fact, as the second half of its cache key.
pub trait FactArg {
    /// The key text (a variable's name, `host:port`; empty for `()`).
    fn key(&self) -> String;
}

impl FactArg for () {
    fn key(&self) -> String {
        String::new()
    }
}

impl FactArg for str {
    fn key(&self) -> String {
        self.to_string()
    }
}

impl FactArg for (String, u16) {
    fn key(&self) -> String {
        format!("{}:{}", self.0, self.1)
    }
}

impl FactArg for std::path::Path {
    fn key(&self) -> String {
        self.display().to_string()
    }
}

impl FactArg for [&'static str] {
    fn key(&self) -> String {
        self.join(",")
    }
}

impl FactArg for [String] {
    fn key(&self) -> String {
        self.join(",")
    }
}

/// The cache key of `F` for `arg`.
pub fn key<F: Fact>(arg: &F::Arg) -> String {
    format!("{}:{}", F::NAME, arg.key())
}

struct Entry {
    value: Box<dyn Any + Send>,
    lifetime: Lifetime,
}

/// One node's facts read during this run.
#[derive(Default)]
pub struct FactCache {
    entries: HashMap<String, Entry>,
}

impl std::fmt::Debug for FactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<&String> = self.entries.keys().collect();
        keys.sort();
        f.debug_struct("FactCache").field("keys", &keys).finish()
    }
}

impl FactCache {
    /// The cached value of `F` under `key`, if any.
    pub fn get<F: Fact>(&self, key: &str) -> Option<F::Value> {
        self.entries
            .get(key)
            .and_then(|e| e.value.downcast_ref::<F::Value>())
            .cloned()
    }

    /// Keep `value` under `key`.
    pub fn put<F: Fact>(&mut self, key: String, value: F::Value) {
        self.entries.insert(
            key,
            Entry {
                value: Box::new(value),
                lifetime: F::LIFETIME,
            },
        );
    }

    /// Keep `value()` under `key` unless a value is kept there already (which stays).
    pub fn put_if_absent<F: Fact>(&mut self, key: String, value: impl FnOnce() -> F::Value) {
        if !self.entries.contains_key(&key) {
            self.put::<F>(key, value());
        }
    }

    /// Drop `F` (every argument).
    pub fn forget<F: Fact>(&mut self) {
        let prefix = format!("{}:", F::NAME);
        self.entries.retain(|k, _| !k.starts_with(&prefix));
    }

    /// Drop every volatile fact (after a change).
    pub fn forget_volatile(&mut self) {
        self.entries.retain(|_, e| e.lifetime == Lifetime::Run);
    }

    /// The keys cached now, sorted (tests).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.entries.keys().cloned().collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactKind, Raw, Source};

    struct Stable;
    impl Fact for Stable {
        type Arg = ();
        type Value = u32;
        const NAME: &'static str = "stable";
        const KIND: FactKind = FactKind::OsRelease;
        const LIFETIME: Lifetime = Lifetime::Run;
        fn source(_: &(), _: Option<&crate::dialect::Dialect>) -> Source {
            Source::Query("x".into())
        }
        fn parse(_: &(), _: &Raw) -> anyhow::Result<u32> {
            Ok(1)
        }
    }
    struct Moving;
    impl Fact for Moving {
        type Arg = str;
        type Value = String;
        const NAME: &'static str = "moving";
        const KIND: FactKind = FactKind::Variables;
        const LIFETIME: Lifetime = Lifetime::Volatile;
        fn source(_: &str, _: Option<&crate::dialect::Dialect>) -> Source {
            Source::Query("x".into())
        }
        fn parse(_: &str, _: &Raw) -> anyhow::Result<String> {
            Ok("v".into())
        }
    }

    #[test]
    fn keys_carry_the_argument_and_a_change_drops_only_volatile_facts() {
        let mut c = FactCache::default();
        c.put::<Stable>(key::<Stable>(&()), 7);
        c.put::<Moving>(key::<Moving>("read_only"), "ON".into());
        c.put::<Moving>(key::<Moving>("log_bin"), "1".into());
        assert_eq!(c.get::<Moving>("moving:read_only").as_deref(), Some("ON"));
        assert_eq!(c.get::<Moving>("moving:server_id"), None);
        c.forget_volatile();
        assert_eq!(c.keys(), vec!["stable:".to_string()]);
        c.forget::<Stable>();
        assert!(c.keys().is_empty());
    }
}

#[cfg(test)]
mod rule_tests {
    //! The caching rule on a fake node: how many times a command really runs.
    use crate::engine::{Cluster, NodeHandle};
    use crate::facts::{cached, changed, fresh, get, host::InterfaceAddresses, os_target};
    use crate::transport::fake::FakeTransport;
    use std::sync::Arc;

    fn node() -> (Arc<FakeTransport>, Cluster) {
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("ip -4 -o addr show dev eth0", 0, "");
        t.on("/etc/os-release", 0, "ID=debian\nVERSION_ID=\"12\"\n");
        t.on("echo systemd; else echo sysv", 0, "sysv\n");
        let handle = NodeHandle::new(0, "db1", t.clone(), None);
        (
            t,
            Cluster {
                nodes: vec![handle],
                secrets: vec![],
            },
        )
    }

    fn runs(t: &FakeTransport, pattern: &str) -> usize {
        t.commands()
            .iter()
            .filter(|c| c.script.contains(pattern))
            .count()
    }

    #[test]
    fn volatile_facts_are_cached_only_in_a_scope_until_a_change_and_fresh_always_reads() {
        let (t, c) = node();
        let n = &c.nodes[0];
        let ip = "ip -4 -o addr";
        // Outside a scope (actions, status, failover): every read goes to the node.
        get::<InterfaceAddresses>(n, "eth0").unwrap();
        get::<InterfaceAddresses>(n, "eth0").unwrap();
        assert_eq!(runs(&t, ip), 2);
        // Inside (planning, a verify round): read once...
        cached(|| {
            get::<InterfaceAddresses>(n, "eth0").unwrap();
            get::<InterfaceAddresses>(n, "eth0").unwrap();
        });
        assert_eq!(runs(&t, ip), 2, "served from what the last read cached");
        // ...a wait reads fresh even there...
        cached(|| fresh::<InterfaceAddresses>(n, "eth0").unwrap());
        assert_eq!(runs(&t, ip), 3);
        // ...and a change drops it.
        changed(&c);
        cached(|| get::<InterfaceAddresses>(n, "eth0").unwrap());
        assert_eq!(runs(&t, ip), 4);
    }

    #[test]
    fn run_long_facts_are_read_once_and_survive_a_change() {
        let (t, c) = node();
        let n = &c.nodes[0];
        os_target(n, crate::inventory::Flavor::Mariadb).unwrap();
        changed(&c);
        os_target(n, crate::inventory::Flavor::Mariadb).unwrap();
        assert_eq!(runs(&t, "/etc/os-release"), 1);
        assert_eq!(runs(&t, "echo systemd; else echo sysv"), 1);
    }

    #[test]
    #[should_panic(expected = "does not declare")]
    fn a_check_reading_a_fact_it_did_not_declare_fails() {
        let (_t, c) = node();
        let _check = crate::facts::scope::declare("x", &[crate::facts::FactKind::Variables]);
        let _ = get::<InterfaceAddresses>(&c.nodes[0], "eth0");
    }

    #[test]
    #[should_panic(expected = "directly")]
    fn a_check_reading_sql_itself_fails() {
        let (_t, c) = node();
        let _check = crate::facts::scope::declare("x", &[crate::facts::FactKind::Variables]);
        let _ = c.nodes[0].with_sql(|s| s.query("SELECT 1"));
    }

    #[test]
    fn a_check_reading_what_it_declared_passes() {
        let (_t, c) = node();
        let _check = crate::facts::scope::declare("x", &[crate::facts::FactKind::Addresses]);
        get::<InterfaceAddresses>(&c.nodes[0], "eth0").unwrap();
    }
}
