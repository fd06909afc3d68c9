//! One command-line grammar for every command (issue 20 item 4): the inventory as the
//! command's argument or as the global `-i`, never two different ones; a global flag
//! given to a command that does not use it is refused (exit 2) instead of ignored.
//!
//! clap parses; this module decides, from where each value came from (the command line,
//! the environment, a default), what the parsed flags mean for one command. It is pure
//! so that its rules are unit-tested without running the binary.

use crate::error::UsageError;
use crate::global::{GlobalArgs, OutputFormat};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use std::path::{Path, PathBuf};

/// A command's own flags plus the inventory as an optional argument, for the commands
/// whose flags struct does not carry one (verify, status).
#[derive(Debug, Args)]
pub struct WithInventory<T: Args> {
    /// The command's own flags.
    #[command(flatten)]
    pub args: T,
    /// Inventory file; the same as the global -i (give one or the other)
    /// [default: -i, $MHACTL_INVENTORY, or inventory.yaml].
    #[arg(value_name = "INVENTORY")]
    pub inventory_file: Option<PathBuf>,
}

/// [`WithInventory`] for a command that can lose data or move the VIP (reinit,
/// failover-test, switchover): it asks before it acts on a terminal, and `--yes`
/// answers for scripts (see [`crate::confirm`]).
#[derive(Debug, Args)]
pub struct Destructive<T: Args> {
    /// The command's own flags.
    #[command(flatten)]
    pub args: T,
    /// Inventory file; the same as the global -i (give one or the other)
    /// [default: -i, $MHACTL_INVENTORY, or inventory.yaml].
    #[arg(value_name = "INVENTORY")]
    pub inventory_file: Option<PathBuf>,
    /// Do not ask for confirmation (for scripts; without a terminal it is required).
    #[arg(long)]
    pub yes: bool,
}

/// Which global flags came from the command line (not the environment or a default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// `-i/--inventory` was typed.
    pub inventory: bool,
    /// `--output` was typed (its value is in [`GlobalArgs::output`]).
    pub output: bool,
    /// `--accept-new-host-keys` was typed.
    pub accept_new_host_keys: bool,
    /// `--no-progress` was typed.
    pub no_progress: bool,
}

impl Given {
    /// Read from clap's matches (global flags are visible at the top level wherever
    /// they were typed, before or after the command's name).
    pub fn from_matches(m: &ArgMatches) -> Given {
        let typed = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
        Given {
            inventory: typed("inventory"),
            output: typed("output"),
            accept_new_host_keys: typed("accept_new_host_keys"),
            no_progress: typed("no_progress"),
        }
    }
}

/// What one command does with the global flags (`-v`, `-q` and `--log-file` apply to
/// every command, so they are not listed).
#[derive(Debug)]
pub struct CommandGrammar<'a> {
    /// The command as typed after `mhactl` (`lab up`, `inventory check`).
    pub name: &'static str,
    /// `None`: the command reads no inventory. `Some(slot)`: its optional inventory
    /// argument, which receives the resolved path.
    pub inventory: Option<&'a mut Option<PathBuf>>,
    /// It can print its result as JSON (`--output json`).
    pub json: bool,
    /// It connects to the nodes (`--accept-new-host-keys`, `--no-progress`).
    pub connects: bool,
}

/// Apply the grammar to one command: resolve the inventory into `global.inventory` and
/// the command's argument, and refuse global flags the command would ignore.
pub fn resolve(
    global: &mut GlobalArgs,
    given: &Given,
    cmd: CommandGrammar<'_>,
) -> Result<(), UsageError> {
    let name = cmd.name;
    match cmd.inventory {
        None if given.inventory => {
            return Err(UsageError(format!(
                "-i/--inventory: `mhactl {name}` reads no inventory; remove it"
            )))
        }
        None => {}
        Some(slot) => {
            if let Some(arg) = slot.as_ref() {
                // The argument wins over $MHACTL_INVENTORY and the default; a typed -i
                // that names another file is a mistake, never silently one or the other.
                if given.inventory && !same_file(arg, &global.inventory) {
                    return Err(UsageError(format!(
                        "two inventories for `mhactl {name}`: -i {} and the argument {}; \
                         give one of them",
                        global.inventory.display(),
                        arg.display()
                    )));
                }
                global.inventory = arg.clone();
            }
            *slot = Some(global.inventory.clone());
        }
    }
    if given.output && global.output == OutputFormat::Json && !cmd.json {
        return Err(UsageError(format!(
            "--output json: `mhactl {name}` has no JSON output; remove it"
        )));
    }
    for (flag, typed) in [
        ("--accept-new-host-keys", given.accept_new_host_keys),
        ("--no-progress", given.no_progress),
    ] {
        if typed && !cmd.connects {
            return Err(UsageError(format!(
                "{flag}: `mhactl {name}` does not connect to the nodes, so the flag would be \
                 ignored; remove it"
            )));
        }
    }
    Ok(())
}

/// `mhactl reinit NODE [INVENTORY]` typed the other way round (`reinit inventory.yaml
/// node-b`): NODE is an existing file and INVENTORY is not, so say which comes first
/// rather than report a missing inventory named like a node.
pub fn node_first(node: &str, inventory: Option<&Path>) -> Result<(), UsageError> {
    match inventory {
        Some(inv) if Path::new(node).is_file() && !inv.exists() => Err(UsageError(format!(
            "`mhactl reinit {node} {}`: the node comes first, then the inventory: \
             mhactl reinit {} {node}",
            inv.display(),
            inv.display()
        ))),
        _ => Ok(()),
    }
}

/// The same path as typed, or the same existing file by another path.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(inventory: &str) -> GlobalArgs {
        GlobalArgs {
            inventory: inventory.into(),
            verbose: 0,
            quiet: false,
            output: OutputFormat::Text,
            accept_new_host_keys: false,
            no_progress: false,
            log_file: None,
            limit: None,
            forks: 5,
        }
    }

    fn reads(slot: &mut Option<PathBuf>) -> CommandGrammar<'_> {
        CommandGrammar {
            name: "verify",
            inventory: Some(slot),
            json: true,
            connects: true,
        }
    }

    #[test]
    fn the_argument_wins_over_the_environment_and_the_default() {
        let mut g = global("from-env.yaml");
        let mut slot = Some(PathBuf::from("arg.yaml"));
        resolve(&mut g, &Given::default(), reads(&mut slot)).unwrap();
        assert_eq!(g.inventory, PathBuf::from("arg.yaml"));
        assert_eq!(slot, Some(PathBuf::from("arg.yaml")));
    }

    #[test]
    fn without_an_argument_the_global_inventory_fills_the_slot() {
        let mut g = global("x.yaml");
        let mut slot = None;
        let given = Given {
            inventory: true,
            ..Given::default()
        };
        resolve(&mut g, &given, reads(&mut slot)).unwrap();
        assert_eq!(slot, Some(PathBuf::from("x.yaml")));
    }

    #[test]
    fn two_different_inventories_are_refused_naming_both() {
        let mut g = global("x.yaml");
        let mut slot = Some(PathBuf::from("y.yaml"));
        let given = Given {
            inventory: true,
            ..Given::default()
        };
        let err = resolve(&mut g, &given, reads(&mut slot)).unwrap_err().0;
        assert!(
            err.contains("-i x.yaml") && err.contains("argument y.yaml"),
            "{err}"
        );
        // The same file twice is no conflict.
        let mut slot = Some(PathBuf::from("x.yaml"));
        resolve(&mut g, &given, reads(&mut slot)).unwrap();
    }

    #[test]
    fn flags_a_command_ignores_are_refused() {
        let typed_all = Given {
            inventory: true,
            output: true,
            accept_new_host_keys: true,
            no_progress: true,
        };
        let lab = || CommandGrammar {
            name: "lab up",
            inventory: None,
            json: false,
            connects: false,
        };
        let mut g = global("x.yaml");
        let err = resolve(&mut g, &typed_all, lab()).unwrap_err().0;
        assert!(err.starts_with("-i/--inventory: `mhactl lab up`"), "{err}");
        let only = |f: fn(&mut Given)| {
            let mut given = Given::default();
            f(&mut given);
            given
        };
        g.output = OutputFormat::Json;
        let err = resolve(&mut g, &only(|g| g.output = true), lab())
            .unwrap_err()
            .0;
        assert!(err.starts_with("--output json: `mhactl lab up`"), "{err}");
        // `--output text` is what the command does anyway.
        g.output = OutputFormat::Text;
        resolve(&mut g, &only(|g| g.output = true), lab()).unwrap();
        let err = resolve(&mut g, &only(|g| g.no_progress = true), lab())
            .unwrap_err()
            .0;
        assert!(err.starts_with("--no-progress: `mhactl lab up`"), "{err}");
        let err = resolve(&mut g, &only(|g| g.accept_new_host_keys = true), lab())
            .unwrap_err()
            .0;
        assert!(err.starts_with("--accept-new-host-keys"), "{err}");
        // Nothing typed: nothing refused (MHACTL_INVENTORY in the environment is not a flag).
        resolve(&mut g, &Given::default(), lab()).unwrap();
    }
}
