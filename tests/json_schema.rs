//! Real `--output json` documents validate against docs/json-schema/mhactl.schema.json
//! (issue 20 item 5), without a lab: init and inventory check as run, bootstrap,
//! rotate-certs, verify and status against nodes a fake `ssh` cannot reach, and the
//! reports of failover-test, switchover, reinit, adopt and status built from fake
//! clusters (reinit's also when its nodes are unreachable: no document) and written
//! through the same envelope (`mhactl::json_out`). Each document must also have its
//! floats rounded to 3 decimals and no field the schema does not list (every
//! command's definition is exercised here).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

#[path = "common/fake_reports.rs"]
mod fake_reports;
#[path = "common/fake_ssh.rs"]
mod fake_ssh;
#[path = "common/json_schema_check.rs"]
mod json_schema_check;
use json_schema_check::{floats_rounded, Checker};
#[path = "common/shop_init.rs"]
mod shop_init;
use shop_init::SHOP_INIT;

fn checker() -> Checker {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json-schema/mhactl.schema.json");
    let text = std::fs::read_to_string(&path).expect("docs/json-schema/mhactl.schema.json");
    Checker::new(serde_json::from_str(&text).expect("the schema file is JSON"))
}

/// `doc` fits its command's definition, the root schema, and the rounding rule.
fn assert_valid(def: &str, doc: &Value) {
    let c = checker();
    let errors = c.errors(c.def(def), doc);
    assert!(
        errors.is_empty(),
        "{def}:\n  {}\n{doc:#}",
        errors.join("\n  ")
    );
    assert!(
        c.errors(c.root(), doc).is_empty(),
        "root schema rejects {def}"
    );
    let mut rounding = Vec::new();
    floats_rounded(doc, "$", &mut rounding);
    assert!(rounding.is_empty(), "{def}: {rounding:?}");
}

/// Run mhactl in `dir`, nodes unreachable (fake ssh), the replication secret set.
fn mhactl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .current_dir(dir)
        .env("PATH", fake_ssh::fake_ssh_path(dir))
        .env("SHOP_REPL_PW", "not-a-real-pw")
        .env_remove("MHACTL_INVENTORY")
        .output()
        .expect("cannot run mhactl")
}

/// The one JSON document on stdout of a run that exited with `code`.
fn json_of(out: &Output, code: i32) -> Value {
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(code), "stdout: {so}\nstderr: {se}");
    serde_json::from_str(&so).unwrap_or_else(|e| panic!("not one JSON document ({e}): {so}"))
}

/// `inv.yaml` in `dir` (written by init, whose JSON is checked on the way).
fn inventory(dir: &Path) -> PathBuf {
    let mut args = SHOP_INIT.to_vec();
    args.extend(["inv.yaml", "--output", "json"]);
    let doc = json_of(&mhactl(dir, &args), 0);
    assert_eq!(doc["command"], "init");
    assert_eq!(doc["file"], "inv.yaml");
    assert_valid("init", &doc);
    shop_init::make_key(dir);
    dir.join("inv.yaml")
}

#[test]
fn commands_without_nodes_write_valid_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir);

    let mut args = SHOP_INIT.to_vec();
    args.extend(["-", "--output", "json"]);
    let doc = json_of(&mhactl(dir, &args), 0);
    assert!(doc["yaml"].is_string());
    assert_valid("init", &doc);

    let doc = json_of(
        &mhactl(dir, &["inventory", "check", "inv.yaml", "--output", "json"]),
        0,
    );
    assert_eq!(doc["command"], "inventory check");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["mhactl_version"], env!("CARGO_PKG_VERSION"));
    assert_valid("inventory-check", &doc);

    // lab status of a directory without a lab (no root needed): exit 1, `exists: false`.
    let doc = json_of(
        &mhactl(
            dir,
            &["lab", "status", "--dir", "no-lab", "--output", "json"],
        ),
        1,
    );
    assert_eq!(
        (doc["command"].as_str(), doc["exists"].as_bool()),
        (Some("lab status"), Some(false))
    );
    assert_valid("lab-status", &doc);
}

#[test]
fn commands_against_unreachable_nodes_write_valid_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir);

    for (args, def) in [
        (&["bootstrap", "inv.yaml"][..], "bootstrap"),
        (&["bootstrap", "inv.yaml", "--check"], "bootstrap"),
        (&["rotate-certs", "inv.yaml"], "bootstrap"),
    ] {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let doc = json_of(&mhactl(dir, &args), 1);
        assert_eq!(doc["command"], args[0]);
        assert_eq!(doc["ok"], false);
        let counts = &doc["counts"];
        assert!(counts["failed"].as_u64().unwrap() >= 1, "{doc:#}");
        let steps = doc["steps"].as_array().unwrap().len() as u64;
        let total: u64 = ["changed", "unchanged", "failed", "skipped"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap())
            .sum();
        assert_eq!(total, steps, "counts add up to the steps: {doc:#}");
        assert_eq!(counts["changed"], doc["changed"]);
        assert_valid(def, &doc);
    }

    let doc = json_of(&mhactl(dir, &["verify", "inv.yaml", "--output", "json"]), 1);
    assert_eq!(doc["command"], "verify");
    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(doc["counts"]["checks"], checks.len());
    assert!(doc["counts"]["failed"].as_u64().unwrap() >= 1, "{doc:#}");
    assert_valid("verify", &doc);

    // reinit takes --output json (it used to be refused, exit 2); its report exists only
    // once the node is rebuilt, so with the nodes unreachable it is an error, no JSON.
    let out = mhactl(
        dir,
        &["reinit", "db2", "inv.yaml", "--yes", "--output", "json"],
    );
    let se = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{se}");
    assert!(se.contains("cannot connect"), "{se}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let doc = json_of(&mhactl(dir, &["status", "inv.yaml", "--output", "json"]), 1);
    assert_eq!(doc["command"], "status");
    assert_eq!(doc["counts"], Value::Null);
    assert_valid("status", &doc);
}

/// A fleet of two copies of `inv.yaml` (issue 21): `fleet.yaml` in `dir`.
fn fleet(dir: &Path) -> PathBuf {
    let inv = inventory(dir);
    let text = std::fs::read_to_string(&inv).unwrap();
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("cluster: "))
        .expect("cluster: in the inventory")
        .trim()
        .to_string();
    let second = text.replacen(&format!("cluster: {name}"), "cluster: second", 1);
    std::fs::write(dir.join("second.yaml"), second).unwrap();
    let path = dir.join("fleet.yaml");
    std::fs::write(
        &path,
        format!("clusters:\n  {name}: inv.yaml\n  second: second.yaml\n"),
    )
    .unwrap();
    path
}

#[test]
fn fleet_runs_write_valid_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fleet(dir);
    let doc = json_of(
        &mhactl(
            dir,
            &["inventory", "check", "fleet.yaml", "--output", "json"],
        ),
        0,
    );
    assert_eq!(doc["clusters"].as_array().map(Vec::len), Some(2), "{doc:#}");
    assert_eq!(doc["clusters"][1]["result"]["cluster"], "second");
    assert_valid("fleet", &doc);
    for (args, code) in [
        (&["verify", "fleet.yaml"][..], 1),
        (&["status", "fleet.yaml", "--limit", "second"], 1),
        (&["bootstrap", "fleet.yaml", "--forks", "1"], 1),
    ] {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let doc = json_of(&mhactl(dir, &args), code);
        assert_eq!(doc["command"], args[0]);
        assert_eq!(doc["exit_code"], code);
        for c in doc["clusters"].as_array().unwrap() {
            assert_eq!(c["ok"], false, "{c:#}");
            assert_eq!(c["result"]["command"], args[0], "{c:#}");
        }
        assert_valid("fleet", &doc);
    }
}

#[test]
fn reports_of_fake_clusters_write_valid_documents() {
    use mhactl::json_out::render_as;
    let render = |command: &str, body: &dyn erased::Body| -> Value {
        let text = body.render(command);
        serde_json::from_str(&text).unwrap()
    };

    // failover-test: an ordinary mode (no isolate fields) and isolate (all of them).
    let report = mhactl::failover::FailoverReport {
        vip_moved_s: Some(1.574_535_941_999_999_8),
        detection_s: Some(0.123_456),
        ..fake_reports::failover_report()
    };
    let doc = render("failover-test", &report);
    assert_eq!(doc["vip_moved_s"], 1.575);
    assert_valid("failover-test", &doc);
    let isolate = mhactl::failover::FailoverReport {
        mode: "isolate".into(),
        double_holder_s: Some(0.0),
        both_writable_s: Some(0.0),
        fenced: Some(true),
        cut_off_node_writes: Some(0),
        vip_went_back: Some(false),
        vip_released_s: Some(2.1),
        detection: "arbiter".into(),
        ..report
    };
    assert_valid("failover-test", &render("failover-test", &isolate));

    // switchover: a switched one with every optional part, and a refused one.
    use mhactl::switchover::{Measurement, Outcome, StepRecord, SwitchoverReport};
    let mut r = SwitchoverReport::new(Outcome::Switched, "node-a", "node-b");
    r.steps.push(StepRecord {
        name: "fence".into(),
        duration_s: 0.003_333_3,
        detail: "node-a: SET GLOBAL read_only = ON".into(),
    });
    r.plan.push("node-a: fence".into());
    r.captured_position = Some("mysql-bin.000001:29862".into());
    r.peer_executed_position = r.captured_position.clone();
    r.writes_blocked_s = Some(0.751_2);
    r.vip_moved_s = Some(0.736);
    r.canary = Some("row written".into());
    r.measure = Some(Measurement {
        write_gap_s: 1.04,
        writes_acked: 161,
        writes_failed: 2,
        last_error: Some("...".into()),
        ..Measurement::default()
    });
    r.total_s = 5.412_345;
    assert_valid("switchover", &render("switchover", &r));
    let mut refused = SwitchoverReport::new(Outcome::Refused, "node-a", "node-b");
    refused.error = Some("node-b lags".into());
    assert_valid("switchover", &render("switchover", &refused));

    // status: a healthy pair read from fake nodes.
    let report = fake_reports::healthy_status();
    let doc = render("status", &report);
    assert_eq!(doc["ok"], true);
    assert_valid("status", &doc);

    // adopt: a refusal on nodes that told little (the report's own `adopted` is `ok`).
    use mhactl::adopt::{discover::NodeFindings, report::AdoptReport, risks::Refusal};
    let nodes: Vec<NodeFindings> = ["a", "b"]
        .iter()
        .map(|n| NodeFindings {
            name: n.to_string(),
            ..NodeFindings::default()
        })
        .collect();
    let report = AdoptReport {
        adopted: false,
        inventory: None,
        vip: "192.0.2.100".into(),
        vip_holders: vec![],
        nodes,
        tables: Default::default(),
        risks: vec![],
        refusal: Some(Refusal {
            exit_code: 2,
            node: "a".into(),
            reason: "no keepalived".into(),
        }),
    };
    let doc = render("adopt", &report.json_body());
    assert_eq!(doc["ok"], false);
    assert_valid("adopt", &doc);

    // reinit: the rebuild's outcome and the converging bootstrap steps.
    let step = |name: &str, status| mhactl::engine::StepReport {
        node: "b".into(),
        step: name.into(),
        status,
        detail: format!("{name} detail"),
        diff: None,
        ms: 12,
    };
    use mhactl::engine::StepStatus;
    let report = mhactl::reinit::ReinitReport::new(
        "b",
        "a",
        mhactl::reinit::Rebuilt {
            databases: vec!["shop".into()],
            reused_aside: false,
            previous_datadir: "/var/lib/mysql.mhactl-aside-1".into(),
            removed_asides: vec![],
        },
        vec![
            step("connect", StepStatus::Unchanged),
            step("replication", StepStatus::Changed),
        ],
    );
    let steps = report.steps.clone();
    let text = render_as(
        "reinit",
        Duration::from_millis(61_234),
        Some(mhactl::report::step_counts(&steps)),
        &report,
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (doc["ok"].clone(), doc["changed"].clone()),
        (true.into(), 1.into())
    );
    assert_eq!(doc["counts"]["unchanged"], 1);
    assert_valid("reinit", &doc);

    // verify: counts from the checks, a warning among them.
    let checks = vec![
        mhactl::verify::Check::pass("ssh", "a", "connected"),
        mhactl::verify::Check::warn("gtid", "cluster", "GTID off"),
        mhactl::verify::Check::not_run("vip", "cluster", "b unreachable"),
    ];
    let body = serde_json::json!({"ok": false, "checks": checks});
    let text = render_as(
        "verify",
        Duration::from_millis(1234),
        Some(mhactl::verify::check_counts(&checks)),
        &body,
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        doc["counts"],
        serde_json::json!({"checks": 3, "failed": 1, "warnings": 1})
    );
    assert_valid("verify", &doc);
}

#[test]
fn lab_up_of_pairs_writes_a_valid_document() {
    // `lab up --pairs 2` needs root and namespaces: its document is built from two pairs'
    // states, by the function `lab up --pairs` prints (src/lab/pairs.rs).
    use mhactl::lab::network::LabNetwork;
    use mhactl::lab::{LabFlavor, LabState};
    let dir = PathBuf::from("/tmp/lab");
    let labs: Vec<(PathBuf, LabState, bool)> = [(179u8, false), (180, true)]
        .into_iter()
        .enumerate()
        .map(|(i, (octet, reused))| {
            let state = LabState {
                network: LabNetwork { octet },
                flavor: LabFlavor::Mariadb,
                image: PathBuf::from("/var/cache/mhactl/images/mariadb"),
                ssh_user: None,
                sudo_password: false,
            };
            (dir.join(format!("pair{}", i + 1)), state, reused)
        })
        .collect();
    let body = mhactl::lab::pairs::up_document(&dir, &dir.join("inventory.yaml"), &labs);
    let text = mhactl::json_out::render_as("lab up", Duration::from_millis(2500), None, &body)
        .expect("renders");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["command"], "lab up");
    let pairs = doc["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2, "{doc:#}");
    assert_eq!(pairs[1]["cluster"], "lab180");
    assert_eq!(pairs[1]["vip"], "10.213.180.100");
    assert_eq!(pairs[0]["inventory"], "/tmp/lab/pair1/inventory.yaml");
    assert_valid("lab-pairs", &doc);
}

/// A report as a trait object, so the test can loop over different report types.
mod erased {
    use std::time::Duration;

    pub trait Body {
        fn render(&self, command: &str) -> String;
    }

    impl<T: serde::Serialize> Body for T {
        fn render(&self, command: &str) -> String {
            mhactl::json_out::render_as(command, Duration::from_millis(2500), None, self)
                .expect("renders")
        }
    }
}

#[test]
fn the_schema_checker_catches_what_it_should() {
    // Guards the guard: each rule rejects a document that breaks it.
    let c = checker();
    let good = serde_json::json!({
        "schema": 1, "mhactl_version": "0.1.0", "command": "inventory check",
        "duration_s": 0.001, "counts": null, "ok": true, "file": "inv.yaml",
        "cluster": "c", "nodes": ["a", "b"], "secrets_checked": false, "warnings": []
    });
    assert!(c.errors(c.def("inventory-check"), &good).is_empty());
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        c.errors(c.def("inventory-check"), &v)
    };
    for (what, errors) in [
        (
            "missing",
            broken(&|v| {
                v.as_object_mut().unwrap().remove("schema");
            }),
        ),
        ("wrong type", broken(&|v| v["ok"] = "yes".into())),
        ("wrong schema", broken(&|v| v["schema"] = 2.into())),
        ("unknown field", broken(&|v| v["surprise"] = 1.into())),
        ("bad item", broken(&|v| v["nodes"][0] = 1.into())),
        (
            "bad counts",
            broken(&|v| v["counts"] = serde_json::json!({"checks": 1})),
        ),
        ("other command", broken(&|v| v["command"] = "verify".into())),
    ] {
        assert!(!errors.is_empty(), "{what} passed");
    }
    let mut rounding = Vec::new();
    floats_rounded(&serde_json::json!({"x": 1.5745}), "$", &mut rounding);
    assert_eq!(rounding.len(), 1);
}
