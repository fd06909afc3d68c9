//! `mhactl inventory check [FILE]`: load and validate an inventory without touching any
//! node (no SSH, no network): the same checks every command runs first, so a CI
//! pipeline or an editor can check an inventory on its own. With `--secrets` it also
//! reads each secret from its environment variable or file (never printed; a prompt
//! source is reported as needing a terminal).
//!
//! Exit codes: 0 valid, 2 invalid (the message names the file and the field).

use crate::global::{GlobalArgs, OutputFormat};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// `mhactl inventory ...`
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Load and validate an inventory; touches no node.
    Check(CheckArgs),
}

/// `mhactl inventory check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Inventory file [default: the global -i/--inventory].
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Also read every secret from its `_env` variable or `_file` (never printed).
    #[arg(long)]
    pub secrets: bool,
}

/// Run `mhactl inventory ...`.
pub fn run(cmd: &InventoryCommand, global: &GlobalArgs) -> Result<ExitCode> {
    let InventoryCommand::Check(args) = cmd;
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| global.inventory.clone());
    let inv = crate::inventory::load(&path)?;
    if args.secrets {
        crate::inventory::Secrets::resolve(&inv, false)?;
    }
    let warnings = inv.warnings();
    let nodes: Vec<String> = inv
        .nodes
        .iter()
        .map(|n| format!("{} ({})", n.name, n.address))
        .collect();
    match global.output {
        OutputFormat::Json => crate::json_out::print(
            None,
            &serde_json::json!({
                "ok": true,
                "file": path.display().to_string(),
                "cluster": inv.cluster,
                "nodes": inv.nodes.iter().map(|n| &n.name).collect::<Vec<_>>(),
                "secrets_checked": args.secrets,
                "warnings": warnings,
            }),
        )?,
        OutputFormat::Text => {
            for w in &warnings {
                crate::log_eprintln!("warning: {w}");
            }
            if !global.quiet {
                println!(
                    "{}: valid inventory: cluster {}, nodes {}{}",
                    path.display(),
                    inv.cluster,
                    nodes.join(" and "),
                    if args.secrets {
                        "; every secret readable"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
