//! Mutated inventory text never panics: it loads or fails with a message naming the file.

use super::*;

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
                prop_assert!(msg.starts_with("fuzz.yaml:"), "{}", msg);
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
