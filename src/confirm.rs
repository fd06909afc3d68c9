//! Confirmation before destructive actions (issue 20 item 7): reinit (a node's data is
//! replaced), failover-test and switchover on a pair that is not a local lab (the VIP
//! moves; failover-test breaks the holder). On a terminal mhactl asks; `--yes` answers
//! for scripts; without a terminal and without `--yes` the command refuses (exit 2)
//! before it connects, so nothing has happened.

use crate::error::UsageError;
use crate::global::GlobalArgs;
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};

/// Is there a person to ask (stdin and stderr are terminals)?
fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask `question` on stderr and read one answer line from stdin.
fn ask(question: &str) -> Result<String> {
    let mut err = std::io::stderr().lock();
    write!(err, "{question} ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().to_string())
}

/// What to do about one destructive command.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go on without asking (`--yes`, or a lab).
    Proceed,
    /// Ask on the terminal; go on only when the answer is exactly this word.
    Ask {
        /// The question.
        question: String,
        /// The word that confirms.
        expect: String,
    },
    /// No terminal and no `--yes`: refuse with this message (exit 2).
    Refuse(String),
}

/// The decision for failover-test or switchover on `cluster` (pure; see [`moving_vip`]).
pub fn decide_vip(
    command: &str,
    what: &str,
    cluster: &str,
    yes: bool,
    lab: bool,
    tty: bool,
) -> Decision {
    if yes || lab {
        return Decision::Proceed;
    }
    if tty {
        Decision::Ask {
            question: format!(
                "mhactl {command} on cluster {cluster}, which is not a local lab: it {what}. \
                 Type yes to go on:"
            ),
            expect: "yes".into(),
        }
    } else {
        Decision::Refuse(format!(
            "mhactl {command} on cluster {cluster}, which is not a local lab: it {what}; pass \
             --yes to confirm (there is no terminal to ask on); nothing was done"
        ))
    }
}

fn carry_out(command: &str, decision: Decision) -> Result<bool> {
    match decision {
        Decision::Proceed => Ok(true),
        Decision::Refuse(msg) => Err(UsageError(msg).into()),
        Decision::Ask { question, expect } => {
            let answer = ask(&question)?;
            if answer == expect {
                Ok(true)
            } else {
                Err(UsageError(format!(
                    "mhactl {command}: not confirmed (answer {answer:?}, not {expect:?}); nothing was done"
                ))
                .into())
            }
        }
    }
}

/// failover-test or switchover: ask unless `--yes` or the pair is a lab on this machine.
fn moving_vip(global: &GlobalArgs, command: &str, what: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let inv = crate::session::load(&global.inventory)?;
    let addresses: Vec<_> = inv.nodes.iter().map(|n| n.address).collect();
    let lab = crate::lab::runs_here(&addresses);
    carry_out(
        command,
        decide_vip(command, what, &inv.cluster, yes, lab, terminal()),
    )
    .map(drop)
}

/// `mhactl failover-test`: it breaks the VIP holder on purpose.
pub fn failover_test(global: &GlobalArgs, yes: bool) -> Result<()> {
    moving_vip(
        global,
        "failover-test",
        "injects a fault on the VIP holder (the VIP moves, clients see a write gap)",
        yes,
    )
}

/// `mhactl switchover`: it moves the VIP.
pub fn switchover(global: &GlobalArgs, yes: bool) -> Result<()> {
    moving_vip(
        global,
        "switchover",
        "moves the VIP to the other node (writes pause for a moment)",
        yes,
    )
}

/// `mhactl reinit NODE`: `true` to go on. Without a terminal and without `--yes` (or
/// `--yes-destroy-data`) it is `false`, and reinit refuses with its own message after
/// checking NODE, as it always did.
pub fn reinit(global: &GlobalArgs, node: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !terminal() {
        return Ok(false);
    }
    let inv = crate::session::load(&global.inventory)?;
    let Some(target) = inv.nodes.iter().position(|n| n.name == node) else {
        // reinit names the nodes there are.
        return Ok(false);
    };
    let question = format!(
        "mhactl reinit replaces {node}'s data with a copy of {}'s (its data directory is moved \
         aside, not deleted). Type the node's name ({node}) to go on:",
        inv.peer(target).name
    );
    carry_out(
        "reinit",
        Decision::Ask {
            question,
            expect: node.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_or_yes_goes_on_a_terminal_asks_a_script_is_refused() {
        let d = |yes, lab, tty| decide_vip("switchover", "moves the VIP", "shop", yes, lab, tty);
        assert_eq!(d(true, false, false), Decision::Proceed);
        assert_eq!(d(false, true, false), Decision::Proceed);
        assert!(matches!(d(false, false, true), Decision::Ask { expect, .. } if expect == "yes"));
        let Decision::Refuse(msg) = d(false, false, false) else {
            panic!("not refused")
        };
        assert!(
            msg.contains("cluster shop") && msg.contains("pass --yes"),
            "{msg}"
        );
    }
}
