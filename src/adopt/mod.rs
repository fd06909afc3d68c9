//! `mhactl adopt MINIMAL_INVENTORY --out FILE`: bring a pair built by hand (the runbook's
//! way) under management, starting read-only. From a minimal inventory (SSH access, the
//! two node addresses, the VIP, where the passwords are) it reads both nodes, refuses
//! what it cannot adopt, and otherwise writes an inventory describing the pair and a
//! report of every risk (text, or JSON with `--output json`). It never changes a node.
//!
//! - `minimal.rs`: the minimal inventory (a subset of the inventory's fields);
//! - `discover.rs`: reading each node and comparing the tables (facts only);
//! - `risks.rs`: refusals and risks, pure (keepalived's in `keepalived_risks.rs`, the
//!   GTID history of a MySQL pair replicating by file in `gtid_risks.rs`);
//! - `write.rs`: the adopted inventory's text;
//! - `report.rs`: the report, text and JSON.

pub mod discover;
mod gtid_risks;
mod keepalived_risks;
pub mod minimal;
pub mod report;
pub mod risks;
pub mod write;

#[cfg(test)]
mod readonly_tests;

use crate::error::UsageError;
use crate::global::{GlobalArgs, OutputFormat};
use anyhow::{anyhow, Context, Result};
use discover::NodeFindings;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// `mhactl adopt` flags.
#[derive(Debug, clap::Args)]
pub struct AdoptArgs {
    /// The minimal inventory: SSH access, the two nodes' names and addresses, the VIP,
    /// and where the passwords are (docs/adopt.md). A full inventory works too.
    #[arg(value_name = "MINIMAL_INVENTORY")]
    pub minimal_inventory: PathBuf,
    /// Where to write the adopted inventory (refused if it exists, unless --force).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite FILE when it exists.
    #[arg(long)]
    pub force: bool,
    /// Do not compare the tables between the nodes (CHECKSUM TABLE reads every row).
    #[arg(long)]
    pub no_checksum: bool,
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

/// Run `mhactl adopt`.
pub fn run(args: &AdoptArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let min = minimal::load(&args.minimal_inventory)?;
    if args.out.exists() && !args.force {
        return Err(usage(format!(
            "{}: the file exists (adopt does not overwrite it without --force)",
            args.out.display()
        )));
    }
    let out_dir = std::path::absolute(&args.out)
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_default();
    if !out_dir.is_dir() {
        return Err(usage(format!(
            "{}: no such directory for --out",
            out_dir.display()
        )));
    }
    let secrets = min.secrets(std::io::stdin().is_terminal())?;
    let inv = min.connect_inventory();
    // Read-only: no lock (a lock file is a change), no cooperative stop needed.
    let connected = crate::session::connect(&inv, &secrets, global, &Default::default());
    let Some(cluster) = connected.cluster else {
        let why: Vec<String> = connected
            .reports
            .iter()
            .filter(|r| r.status == crate::engine::StepStatus::Failed)
            .map(|r| format!("{}: {}", r.node, r.detail))
            .collect();
        return Err(anyhow!("cannot connect: {}", why.join("; ")));
    };
    let found: Vec<Result<NodeFindings>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cluster
            .nodes
            .iter()
            .map(|n| {
                let address = inv.nodes[n.index].address;
                scope.spawn(move || discover::read_node(n, address))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("adopt thread panicked"))
            .collect()
    });
    let mut nodes = Vec::new();
    for (i, f) in found.into_iter().enumerate() {
        nodes.push(
            f.with_context(|| format!("{}: reading the server", inv.nodes[i].name))
                .map_err(|e| anyhow!(cluster.redact(&format!("{e:#}"))))?,
        );
    }
    let mut report = report::AdoptReport::new(&min, &nodes);
    if let Some(refusal) = risks::refusal(&nodes) {
        report.refusal = Some(refusal.clone());
        print(&report, global, &cluster)?;
        let msg = cluster.redact(&format!(
            "not adopted: {}: {}",
            refusal.node, refusal.reason
        ));
        if global.output == OutputFormat::Json {
            return Ok(ExitCode::from(refusal.exit_code));
        }
        return Err(match refusal.exit_code {
            2 => usage(msg),
            _ => anyhow!(msg),
        });
    }
    report.tables = if args.no_checksum {
        discover::TableComparison {
            skipped: Some("not compared (--no-checksum)".into()),
            ..Default::default()
        }
    } else {
        discover::compare_tables(&cluster)?
    };
    report.risks = risks::risks(&nodes, min.vip.address, &report.tables);
    let adopted = report::adopted_shape(&min, &nodes, &out_dir)?;
    let text = write::inventory_text(&adopted);
    // The file must be one mhactl accepts: checked before it is written.
    let out_name = args.out.display().to_string();
    crate::inventory::parse(&text, &out_name)
        .map_err(|e| anyhow!("adopt wrote an inventory mhactl refuses (a bug): {e:#}"))?;
    write_file(&args.out, &text)?;
    report.inventory = Some(out_name);
    report.adopted = true;
    print(&report, global, &cluster)?;
    Ok(ExitCode::SUCCESS)
}

fn print(
    report: &report::AdoptReport,
    global: &GlobalArgs,
    cluster: &crate::engine::Cluster,
) -> Result<()> {
    let text = match global.output {
        OutputFormat::Json => crate::json_out::render(None, &report.json_body())? + "\n",
        OutputFormat::Text => report::render_text(report),
    };
    // Whatever a node printed (a replica's last error) passes the secrets filter.
    print!("{}", cluster.redact(&text));
    Ok(())
}

/// Write `text` to `path` through a temporary file in the same directory.
fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("adopt-tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
