//! `lab up --pairs N` (issue 21 item 3): N labs of one pair each, in `DIR/pair1` ...
//! `DIR/pairN` on the subnets N, N+1, ... (so each pair has its own bridge, VIP and VRRP
//! router id), and the fleet's inventory in `DIR/inventory.yaml` listing each pair's own
//! inventory file; `lab down` and `lab status` of DIR act on every pair.

use super::args::{LabDirArg, LabUpArgs};
use super::{files, LabState};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The state file of a lab of several pairs.
const STATE: &str = "pairs.json";

/// What `lab up --pairs` created, so `status` and `down` find every pair again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairsState {
    /// Each pair's directory name under DIR (`pair1`, ...), in order.
    pub pairs: Vec<String>,
}

impl PairsState {
    /// The state of the lab of pairs in `dir`, if there is one.
    pub fn load(dir: &Path) -> Result<Option<PairsState>> {
        let path = dir.join(STATE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)?;
        Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; remove the directory by hand",
                path.display()
            )
        })?))
    }
}

/// `lab up --pairs N`: every pair up (reused when already up), then the fleet inventory.
pub fn up(args: &LabUpArgs, json: bool) -> Result<ExitCode> {
    let dir = std::path::absolute(&args.dir.dir)?;
    let n = usize::from(args.pairs);
    let subnets: Vec<u8> = match args.pair_subnets.as_slice() {
        [] => (0..n)
            .filter_map(|i| u8::try_from(usize::from(args.subnet) + i).ok())
            .collect(),
        given if given.len() == n => given.to_vec(),
        given => {
            return Err(crate::error::UsageError(format!(
                "--pair-subnets names {} subnets for --pairs {n}; give one per pair",
                given.len()
            ))
            .into())
        }
    };
    if subnets.len() < n {
        return Err(crate::error::UsageError(format!(
            "--pairs {n} --subnet {}: the pairs use subnets {} to {}, past 255; pick a lower --subnet",
            args.subnet,
            args.subnet,
            usize::from(args.subnet) + n - 1
        ))
        .into());
    }
    if LabState::load(&dir)?.is_some() {
        return Err(crate::error::UsageError(format!(
            "{} holds a lab of one pair; bring it down first (`mhactl lab down --dir {}`) \
             or give --pairs another --dir",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    if let Some(old) = PairsState::load(&dir)? {
        if old.pairs.len() != n {
            return Err(crate::error::UsageError(format!(
                "{} holds a lab of {} pairs, not {n}; bring it down first (`mhactl lab down \
                 --dir {}`)",
                dir.display(),
                old.pairs.len(),
                dir.display()
            ))
            .into());
        }
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create lab directory {}", dir.display()))?;
    let state = PairsState {
        pairs: (1..=n).map(|i| format!("pair{i}")).collect(),
    };
    // Saved first, so that `down` finds what a failure half-way left.
    std::fs::write(
        dir.join(STATE),
        serde_json::to_string_pretty(&state)? + "\n",
    )?;
    let mut labs = Vec::new();
    for (i, name) in state.pairs.iter().enumerate() {
        let pair_args = LabUpArgs {
            dir: LabDirArg {
                dir: dir.join(name),
            },
            subnet: subnets[i],
            pairs: 1,
            pair_subnets: Vec::new(),
            flavor: args.flavor,
            ssh_user: args.ssh_user.clone(),
            sudo_password: args.sudo_password,
        };
        super::say(&format!("{name}: subnet {}", pair_args.subnet));
        match super::up(&pair_args) {
            Ok(lab) => labs.push(lab),
            Err(e) => {
                super::say("a pair failed to start; removing every pair");
                let _ = down(&dir);
                return Err(e.context(format!("{name} (--subnet {})", pair_args.subnet)));
            }
        }
    }
    let inventory = write_fleet_inventory(&dir, &state, &labs)?;
    if json {
        crate::json_out::print(None, &up_document(&dir, &inventory, &labs))?;
    } else {
        println!("lab directory   {}", dir.display());
        for (name, (d, s, _)) in state.pairs.iter().zip(&labs) {
            println!(
                "{name:<15} cluster lab{}  nodes {}, {}  vip {}  ({})",
                s.network.octet,
                s.network.node_address(0),
                s.network.node_address(1),
                s.network.vip(),
                d.display()
            );
        }
        println!("inventory       {} (a fleet)", inventory.display());
        println!("next            mhactl bootstrap {}", inventory.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The body of `lab up --pairs`'s JSON document (the envelope is [`crate::json_out`]'s):
/// the lab directory, the fleet inventory, and each pair's directory, cluster, subnet,
/// VIP and inventory, in order. Public for tests/json_schema.rs.
pub fn up_document(
    dir: &Path,
    inventory: &Path,
    labs: &[(PathBuf, LabState, bool)],
) -> serde_json::Value {
    let pairs: Vec<serde_json::Value> = labs
        .iter()
        .map(|(d, s, reused)| pair_json(d, s, *reused))
        .collect();
    json!({
        "ok": true,
        "dir": dir.display().to_string(),
        "inventory": inventory.display().to_string(),
        "pairs": pairs,
    })
}

fn pair_json(dir: &Path, s: &LabState, reused: bool) -> serde_json::Value {
    json!({
        "dir": dir.display().to_string(),
        "cluster": format!("lab{}", s.network.octet),
        "reused": reused,
        "flavor": s.flavor,
        "subnet": s.network.octet,
        "vip": s.network.vip().to_string(),
        "inventory": dir.join(files::INVENTORY).display().to_string(),
    })
}

/// `DIR/inventory.yaml`: each pair's inventory file under its cluster name.
fn write_fleet_inventory(
    dir: &Path,
    state: &PairsState,
    labs: &[(PathBuf, LabState, bool)],
) -> Result<PathBuf> {
    let mut text = String::from(
        "# Written by `mhactl lab up --pairs`: a fleet of the lab's pairs (docs/fleet.md),\n\
         # each cluster's inventory in its own directory (paths relative to this file).\n\
         #   mhactl bootstrap inventory.yaml            # every pair\n\
         #   mhactl verify inventory.yaml --limit 'lab1*'  # some of them\n\
         clusters:\n",
    );
    for (name, (_, s, _)) in state.pairs.iter().zip(labs) {
        text.push_str(&format!(
            "  lab{}: {name}/{}\n",
            s.network.octet,
            files::INVENTORY
        ));
    }
    let path = dir.join(files::INVENTORY);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `lab down` of a lab of pairs: every pair, then the fleet's files.
pub fn down(dir: &Path) -> Result<bool> {
    let Some(state) = PairsState::load(dir)? else {
        return Ok(false);
    };
    let mut first_err = None;
    for name in &state.pairs {
        let pair = dir.join(name);
        if let Err(e) = super::down(&pair) {
            first_err.get_or_insert(e.context(name.clone()));
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    for file in [files::INVENTORY, STATE] {
        let p = dir.join(file);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    let _ = std::fs::remove_dir(dir);
    super::say(&format!(
        "down: removed {} pairs in {}",
        state.pairs.len(),
        dir.display()
    ));
    Ok(true)
}

/// `lab status` of a lab of pairs: one block per pair (JSON: one object per pair).
pub fn status(dir: &Path, state: &PairsState, json: bool) -> Result<ExitCode> {
    let mut all_up = true;
    let mut pairs = Vec::new();
    for name in &state.pairs {
        let pair_dir = dir.join(name);
        let Some(lab) = LabState::load(&pair_dir)? else {
            all_up = false;
            pairs.push(json!({"dir": pair_dir.display().to_string(), "exists": false}));
            if !json {
                println!("{name}: no lab in {}", pair_dir.display());
            }
            continue;
        };
        let (rows, holders, up) = super::status_rows(&lab);
        all_up &= up;
        if json {
            let mut nodes = super::report::nodes(&lab);
            for (node, (_, word, holds)) in nodes.iter_mut().zip(&rows) {
                node["state"] = (*word).into();
                node["holds_vip"] = (*holds).into();
            }
            pairs.push(json!({
                "dir": pair_dir.display().to_string(),
                "exists": true,
                "cluster": format!("lab{}", lab.network.octet),
                "vip": lab.network.vip().to_string(),
                "vip_holders": holders,
                "nodes": nodes,
            }));
        } else {
            println!(
                "== {name} (cluster lab{}, {})",
                lab.network.octet,
                pair_dir.display()
            );
            super::print_status_rows(&lab, &rows, &holders);
        }
    }
    if json {
        crate::json_out::print(
            None,
            &json!({
                "ok": all_up,
                "dir": dir.display().to_string(),
                "inventory": dir.join(files::INVENTORY).display().to_string(),
                "pairs": pairs,
            }),
        )?;
    }
    Ok(if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
