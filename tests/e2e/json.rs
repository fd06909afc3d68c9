//! End-to-end on the lab (issue 20 item 5): the `--output json` documents of a real pair
//! — bootstrap from bare nodes and again, verify, status, switchover, reinit,
//! failover-test, and the lab's own up (already up), status and down —
//! validate against docs/json-schema/mhactl.schema.json (the checker tests/json_schema.rs
//! uses), carry the envelope (schema 1, this mhactl's version, the command, counts that
//! add up, a duration) and have every float rounded to 3 decimals.

use crate::support::{json, mhactl, Lab, Scenario};
use serde_json::Value;
use std::path::Path;

#[path = "../common/json_schema_check.rs"]
mod json_schema_check;
use json_schema_check::{floats_rounded, Checker};

/// `args` (with `--output json` added) exit with `code`; the document, checked against
/// `def` and the root schema, the envelope and the rounding rule.
fn valid(args: &[&str], code: i32, def: &str) -> Value {
    let lab_command = args[0] == "lab";
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    if !lab_command {
        // lab commands do not connect, so they refuse it.
        all.push("--no-progress");
    }
    let out = mhactl(&all);
    let doc = json(&out, &all.join(" "));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{all:?}: {doc:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json-schema/mhactl.schema.json");
    let c = Checker::new(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
    let errors = c.errors(c.def(def), &doc);
    assert!(
        errors.is_empty(),
        "{all:?}:\n  {}\n{doc:#}",
        errors.join("\n  ")
    );
    assert!(c.errors(c.root(), &doc).is_empty(), "{all:?}: root schema");
    let mut rounding = Vec::new();
    floats_rounded(&doc, "$", &mut rounding);
    assert!(rounding.is_empty(), "{all:?}: {rounding:?}");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["mhactl_version"], env!("CARGO_PKG_VERSION"));
    let command = match lab_command {
        true => format!("lab {}", args[1]),
        false => args[0].to_string(),
    };
    assert_eq!(doc["command"], command);
    // A lab status can take under a millisecond, rounded to 0.
    assert!(
        doc["duration_s"].as_f64().unwrap() > 0.0 || lab_command,
        "{doc:#}"
    );
    assert_eq!(doc["ok"], code == 0, "{doc:#}");
    eprintln!(
        "{}: duration_s {}, counts {}",
        args[0], doc["duration_s"], doc["counts"]
    );
    doc
}

/// The step counts add up to the steps and agree with `changed`.
fn assert_step_counts(doc: &Value) {
    let counts = &doc["counts"];
    let steps = doc["steps"].as_array().unwrap();
    for (key, status) in [
        ("changed", "changed"),
        ("unchanged", "unchanged"),
        ("failed", "failed"),
        ("skipped", "skipped"),
    ] {
        let n = steps.iter().filter(|s| s["status"] == status).count();
        assert_eq!(counts[key], n, "{key}: {counts}");
    }
    assert_eq!(counts["changed"], doc["changed"]);
}

fn documents_of_a_real_pair(lab: &Lab) {
    let inv = lab.inventory();
    let doc = valid(&["bootstrap", &inv], 0, "bootstrap");
    assert_step_counts(&doc);
    assert!(doc["changed"].as_u64().unwrap() > 0, "{doc:#}");
    let doc = valid(&["bootstrap", &inv], 0, "bootstrap");
    assert_step_counts(&doc);
    assert_eq!(doc["counts"]["changed"], 0, "a re-run changes nothing");

    let doc = valid(&["verify", &inv, "--wait", "60"], 0, "verify");
    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(doc["counts"]["checks"], checks.len());
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");

    valid(&["status", &inv], 0, "status");

    let (holder, other) = lab.vip_holder();
    let doc = valid(
        &["switchover", &inv, "--to", other, "--yes"],
        0,
        "switchover",
    );
    assert_eq!(doc["new_holder"], other);

    // The old holder is now the passive node: rebuild it from the new holder.
    let doc = valid(&["reinit", holder, &inv, "--yes-destroy-data"], 0, "reinit");
    assert_eq!(
        (doc["node"].as_str(), doc["peer"].as_str()),
        (Some(holder), Some(other))
    );
    assert!(
        doc["previous_datadir"]
            .as_str()
            .unwrap()
            .contains(".mhactl-"),
        "{doc:#}"
    );
    assert_step_counts(&doc);
    let doc = valid(&["verify", &inv, "--wait", "60"], 0, "verify");
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");

    // The lab's own commands: up again (already up: reused), status, down.
    let (dir, subnet) = (lab.dir_str(), lab.subnet.to_string());
    let doc = valid(
        &[
            "lab",
            "up",
            "--dir",
            dir,
            "--subnet",
            &subnet,
            "--flavor",
            lab.flavor(),
        ],
        0,
        "lab-up",
    );
    assert_eq!(doc["reused"], true, "{doc:#}");
    let doc = valid(&["lab", "status", "--dir", dir], 0, "lab-status");
    assert_eq!(doc["vip_holders"], serde_json::json!([other]), "{doc:#}");

    // A real failover test (a lab: no confirmation asked).
    let doc = valid(
        &[
            "failover-test",
            &inv,
            "--mode",
            "stop-keepalived",
            "--duration",
            "6",
        ],
        0,
        "failover-test",
    );
    assert_eq!(doc["old_holder"], other, "{doc:#}");

    let doc = valid(&["lab", "down", "--dir", dir], 0, "lab-down");
    assert_eq!(doc["removed"], true, "{doc:#}");
}

fn json_documents_of_a_real_pair_validate_against_the_schema(lab: Lab) {
    documents_of_a_real_pair(&lab);
}

fn json_documents_of_a_real_mysql_pair_validate_against_the_schema(lab: Lab) {
    documents_of_a_real_pair(&lab);
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(json_documents_of_a_real_pair_validate_against_the_schema),
        scenario!(json_documents_of_a_real_mysql_pair_validate_against_the_schema).flavor("mysql"),
    ]
}
