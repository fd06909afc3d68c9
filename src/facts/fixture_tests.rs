//! Data-driven tests of the facts' parsers, pyinfra's way: recorded raw output → fact
//! value. `tests/fixtures/facts/<fact name>/<case>.<raw>` holds what a node returned:
//! `.out` a command's stdout (a first line `#status N` sets the exit status, default 0),
//! `.rows` a query's result (a tab-separated header line, then one line per row, `\N`
//! for NULL), `.file` a file's content (`.missing`: the file does not exist). An
//! optional `<case>.arg` is the fact's argument. `<case>.expected` is the value, as
//! `{:#?}` prints it; `UPDATE_GOLDEN=1` writes missing or changed ones (review them).
//! Adding a case is adding files; a fact type is added to [`parse_case`].

use super::accounts::{Account, AccountHosts, AnonymousAccounts, GrantLines};
use super::host::Clock;
use super::host::{
    InterfaceAddresses, KeepalivedVersionFact, OsReleaseFact, ServiceManagerFact, TcpProbeFact,
    UserId,
};
use super::option_chain::{OptionFileChain, ServerProcessFiles};
use super::packages::{CheckScriptLabelFact, YumRepos};
use super::security::{FirewalldRunning, SelinuxMode, UfwStatus, VipRefuseTable};
use super::server::PidFile;
use super::server::{
    BinlogStatus, ErrantGtids, GlobalStatus, GtidSubset, ReplicaStatusFact, ServerVersion, Variable,
};
use super::tables::{GlobalVariables, TableChecksums};
use super::{Fact, Raw};
use crate::transport::CommandOutput;
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/facts");

fn raw_of(path: &Path) -> Raw {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match path.extension().and_then(|e| e.to_str()) {
        Some("out") => {
            let (status, stdout) = match text.strip_prefix("#status ") {
                Some(rest) => {
                    let (n, body) = rest.split_once('\n').unwrap_or((rest, ""));
                    (n.trim().parse().expect("#status N"), body.to_string())
                }
                None => (0, text),
            };
            Raw::Output(CommandOutput {
                status,
                stdout,
                stderr: String::new(),
            })
        }
        Some("rows") => {
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
            Raw::Rows(
                lines
                    .map(|l| {
                        header
                            .iter()
                            .zip(l.split('\t'))
                            .map(|(c, v)| (c.to_string(), (v != "\\N").then(|| v.to_string())))
                            .collect()
                    })
                    .collect(),
            )
        }
        Some("file") => Raw::File(Some(text)),
        Some("missing") => Raw::File(None),
        other => panic!("{}: unknown raw kind {other:?}", path.display()),
    }
}

fn show<F: Fact>(arg: &F::Arg, raw: &Raw) -> String
where
    F::Value: std::fmt::Debug,
{
    match F::parse(arg, raw) {
        Ok(v) => format!("{v:#?}\n"),
        Err(e) => format!("error: {e:#}\n"),
    }
}

/// An account argument written `user@host`.
fn account(arg: &str) -> Account {
    let (user, host) = arg.split_once('@').unwrap_or((arg, ""));
    Account {
        user: user.into(),
        host: host.into(),
    }
}

/// The value of fact `name` parsed from `raw`, shown; `None`: no such fact.
fn parse_case(name: &str, arg: &str, raw: &Raw) -> Option<String> {
    Some(match name {
        ServerVersion::NAME => show::<ServerVersion>(&(), raw),
        Variable::NAME => show::<Variable>(arg, raw),
        ReplicaStatusFact::NAME => show::<ReplicaStatusFact>(&(), raw),
        BinlogStatus::NAME => show::<BinlogStatus>(&(), raw),
        GtidSubset::NAME => show::<GtidSubset>(arg, raw),
        ErrantGtids::NAME => show::<ErrantGtids>(arg, raw),
        GlobalStatus::NAME => {
            // The argument: names, one per line ('static for the fact's key type).
            let names: Vec<&'static str> = arg
                .lines()
                .map(|l| &*Box::leak(l.to_string().into_boxed_str()))
                .collect();
            show::<GlobalStatus>(&names, raw)
        }
        OsReleaseFact::NAME => show::<OsReleaseFact>(&(), raw),
        ServiceManagerFact::NAME => show::<ServiceManagerFact>(&(), raw),
        UserId::NAME => show::<UserId>(&(), raw),
        InterfaceAddresses::NAME => show::<InterfaceAddresses>(arg, raw),
        KeepalivedVersionFact::NAME => show::<KeepalivedVersionFact>(&(), raw),
        TcpProbeFact::NAME => show::<TcpProbeFact>(&(arg.to_string(), 3306), raw),
        Clock::NAME => show::<Clock>(&(), raw),
        PidFile::NAME => show::<PidFile>(&(), raw),
        AccountHosts::NAME => show::<AccountHosts>(arg, raw),
        GrantLines::NAME => show::<GrantLines>(&account(arg), raw),
        AnonymousAccounts::NAME => show::<AnonymousAccounts>(&(), raw),
        GlobalVariables::NAME => {
            let names: Vec<String> = arg.lines().map(str::to_string).collect();
            show::<GlobalVariables>(&names, raw)
        }
        TableChecksums::NAME => show::<TableChecksums>(arg, raw),
        FirewalldRunning::NAME => show::<FirewalldRunning>(&(), raw),
        UfwStatus::NAME => show::<UfwStatus>(&(), raw),
        SelinuxMode::NAME => show::<SelinuxMode>(&(), raw),
        VipRefuseTable::NAME => show::<VipRefuseTable>(&(), raw),
        YumRepos::NAME => show::<YumRepos>(&(), raw),
        CheckScriptLabelFact::NAME => show::<CheckScriptLabelFact>(arg, raw),
        OptionFileChain::NAME => show::<OptionFileChain>(&(), raw),
        ServerProcessFiles::NAME => show::<ServerProcessFiles>(arg, raw),
        _ => return None,
    })
}

#[test]
fn recorded_outputs_parse_to_the_expected_fact_values() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut cases = 0;
    let mut failures = Vec::new();
    for fact_dir in std::fs::read_dir(DIR).expect("tests/fixtures/facts") {
        let fact_dir = fact_dir.unwrap().path();
        let name = fact_dir.file_name().unwrap().to_string_lossy().to_string();
        for entry in std::fs::read_dir(&fact_dir).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "out" | "rows" | "file" | "missing") {
                continue;
            }
            let arg_path = path.with_extension("arg");
            let arg = std::fs::read_to_string(&arg_path).unwrap_or_default();
            let got = parse_case(&name, arg.trim_end_matches('\n'), &raw_of(&path))
                .unwrap_or_else(|| panic!("{}: no fact named {name}", fact_dir.display()));
            let expected_path = path.with_extension("expected");
            let want = std::fs::read_to_string(&expected_path).ok();
            cases += 1;
            if want.as_deref() != Some(got.as_str()) {
                if update {
                    std::fs::write(&expected_path, &got).unwrap();
                } else {
                    failures.push(format!(
                        "{}:\n  want {:?}\n  got  {got:?}",
                        path.display(),
                        want
                    ));
                }
            }
        }
    }
    assert!(cases >= 10, "only {cases} fact fixtures found in {DIR}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
