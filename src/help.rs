//! The discoverable surface: examples shown by `--help` on every command, shell
//! completion scripts (`mhactl completions SHELL`) and man pages (`mhactl man`).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Examples under `mhactl --help`.
pub const MAIN: &str = "\
Examples:
  mhactl init                                   # write inventory.yaml from a few questions
  mhactl bootstrap --dry-run inventory.yaml     # what would change, with diffs; changes nothing
  mhactl bootstrap inventory.yaml               # install, configure and join the pair
  mhactl -i inventory.yaml status               # one screen: roles, replication, VIP holder
  mhactl -i inventory.yaml verify               # every health check; exit 0 when healthy
  mhactl -i inventory.yaml failover-test        # break the VIP holder, measure, recover
  sudo mhactl lab up                            # two local test hosts to try all of it

The inventory is the command's argument or -i (never two different ones); -v shows each
step's plan (-vv every remote command), -q only errors and the verdict, --log-file PATH
keeps a copy of stderr. reinit, and failover-test or switchover on a pair that is not a
local lab, ask first on a terminal; --yes answers for scripts.
Exit codes: 0 success, 1 the command ran and something failed, 2 usage or inventory error,
3 `bootstrap --check` found changes pending, 130 stopped by SIGINT (Ctrl-C), 143 stopped
by SIGTERM.
Docs: README.md, docs/troubleshooting.md, docs/json.md (the --output json schemas).";

/// Examples under `mhactl bootstrap --help`.
pub const BOOTSTRAP: &str = "\
Examples:
  mhactl bootstrap inventory.yaml                   # run every step; re-runs change nothing
  mhactl bootstrap --dry-run inventory.yaml         # plans and file diffs only
  mhactl bootstrap --diff inventory.yaml            # apply, showing each file's diff
  mhactl bootstrap --accept-new-host-keys inv.yaml  # fresh hosts not yet in known_hosts
  mhactl bootstrap --output json inv.yaml > bootstrap.json
  mhactl bootstrap --no-progress inv.yaml           # plain timestamped lines (CI logs)
  mhactl bootstrap --check inv.yaml                 # CI drift gate: exit 3 when changes pend
  mhactl bootstrap --limit node-b inv.yaml          # node-b's steps only; node-a unchanged

Exit codes: 0 every step ok or changed (--check: nothing would change), 1 a step failed,
2 usage or inventory error, 3 --check: changes pending,
130/143 stopped by SIGINT/SIGTERM between two steps (run it again to finish).";

/// Examples under `mhactl verify --help`.
pub const VERIFY: &str = "\
Examples:
  mhactl -i inventory.yaml verify                   # table of checks; exit 0 when healthy
  mhactl -i inventory.yaml verify --checksum        # also compare table checksums
  mhactl -i inventory.yaml verify --wait 60         # retry until healthy, at most 60 s
  mhactl verify inventory.yaml --limit node-b       # node-b's checks only (node-a may be down)
  mhactl -i inventory.yaml verify --output json | jq '.checks[] | select(.ok == false)'

Exit codes: 0 no error-level check failed (warnings allowed), 1 unhealthy, 2 inventory error,
130/143 stopped by SIGINT/SIGTERM.";

/// Examples under `mhactl failover-test --help`.
pub const FAILOVER_TEST: &str = "\
Examples:
  mhactl -i inventory.yaml failover-test                        # stop mysqld on the holder
  mhactl -i inventory.yaml failover-test --mode kill-mysqld     # a crash
  mhactl -i inventory.yaml failover-test --mode partition --duration 15
  mhactl -i inventory.yaml failover-test --output json > failover.json
  mhactl failover-test inventory.yaml --yes                     # a script, on a real pair

Refuses an unhealthy pair (see `mhactl verify`) unless --force. On a pair that is not a
local lab it asks first on a terminal; without one it needs --yes (else exit 2).
On SIGINT/SIGTERM it undoes the fault and drops its probe account and database first.
Exit codes: 0 VIP moved, no acknowledged write lost, pair healthy again; 1 otherwise;
130/143 stopped by SIGINT/SIGTERM.";

/// Examples under `mhactl switchover --help`.
pub const SWITCHOVER: &str = "\
Examples:
  mhactl -i inventory.yaml switchover --dry-run        # the plan and the current state
  mhactl -i inventory.yaml switchover                  # the VIP to the peer
  mhactl -i inventory.yaml switchover --to node-a      # nothing to do if node-a holds it
  mhactl -i inventory.yaml switchover --measure --output json > switchover.json
  mhactl switchover inventory.yaml --yes               # a script, on a real pair

On a pair that is not a local lab it asks first on a terminal; without one it needs
--yes (else exit 2); --dry-run never asks.

Pre-flight refuses (nothing changed) unless both directions replicate (IO and SQL
threads Yes), lag is at most --max-lag, the holder has no write transaction older than
--max-trx-age and keepalived runs on both nodes. Then: fence the holder, capture its
binary log position after the fence, wait (--timeout) until the peer executed up to it,
move the VIP through keepalived's tracked file /run/mhactl/vip-release, make the new
holder writable, end application sessions left on the old one, canary write.
Any error, timeout or SIGINT/SIGTERM rolls back: the VIP stays on (or goes back to) the
old holder, writable again. See docs/switchover.md.
Exit codes: 0 switched (or nothing to do); 1 refused or rolled back; 2 bad arguments;
130/143 stopped by SIGINT/SIGTERM (after the rollback).";

/// Examples under `mhactl status --help`.
pub const STATUS: &str = "\
Examples:
  mhactl -i inventory.yaml status
  mhactl -i inventory.yaml status --output json | jq '.nodes[] | {name, role}'
  watch -n 2 mhactl -i inventory.yaml status
  mhactl status inventory.yaml --limit node-b         # node-b alone (node-a may be down)

Read-only. Exit codes: 0 both nodes up, replicating both ways and exactly one VIP holder;
1 otherwise; 2 inventory error.";

/// Examples under `mhactl inventory --help`.
pub const INVENTORY: &str = "\
Examples:
  mhactl inventory check inventory.yaml
  mhactl inventory check inventory.yaml --secrets      # also read each secret (never printed)
  mhactl -i inventory.yaml inventory check --output json

Touches no node (no SSH). Exit codes: 0 valid, 2 invalid (the message names the file and
the field).";

/// Examples under `mhactl init --help`.
pub const INIT: &str = "\
Examples:
  mhactl init                                   # asks on a terminal, writes inventory.yaml
  mhactl init --cluster shop-db \\
      --node db1=10.0.0.11 --node db2=10.0.0.12 --vip 10.0.0.100/24 --interface eth0 \\
      --replication-password-file secrets.yaml#repl  prod.yaml
  mhactl init --cluster t --node a=10.0.0.11 --node b=10.0.0.12 --vip 10.0.0.100/24 -

The file is validated before it is written, never holds a secret (only where to read it),
and an existing file is kept unless --force.";

/// Examples under `mhactl completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  mhactl completions bash > /etc/bash_completion.d/mhactl
  mhactl completions zsh > \"${fpath[1]}/_mhactl\"
  mhactl completions fish > ~/.config/fish/completions/mhactl.fish";

/// Examples under `mhactl man --help`.
pub const MAN: &str = "\
Examples:
  mhactl man | man -l -
  mhactl man --dir /usr/local/share/man/man1 && mandb";

/// Examples under `mhactl lab --help`.
pub const LAB: &str = "\
Examples:
  sudo mhactl lab up --dir /tmp/lab --subnet 7
  sudo mhactl bootstrap /tmp/lab/inventory.yaml
  sudo mhactl lab ssh --dir /tmp/lab node-a -- mysql -e 'SHOW SLAVE STATUS\\G'
  sudo mhactl lab down --dir /tmp/lab

Needs root (namespaces, a bridge). See docs/lab.md.";

/// Examples under `mhactl lab up --help`.
pub const LAB_UP: &str = "\
Examples:
  sudo mhactl lab up                          # ./.mhactl-lab, 10.213.0.0/24
  sudo mhactl lab up --dir /tmp/lab --subnet 7  # a second lab on 10.213.7.0/24
  sudo mhactl lab up --flavor mysql           # Debian sid, MySQL 9.x, RPM-style first start
  sudo mhactl lab up --flavor mariadb11       # Debian sid, MariaDB 11.x (inventory: mariadb)

Writes DIR/inventory.yaml, ready for `mhactl bootstrap DIR/inventory.yaml`.";

/// Examples under `mhactl lab down --help`.
pub const LAB_DOWN: &str = "\
Examples:
  sudo mhactl lab down
  sudo mhactl lab down --dir /tmp/lab";

/// Examples under `mhactl lab status --help`.
pub const LAB_STATUS: &str = "\
Examples:
  sudo mhactl lab status --dir /tmp/lab       # exit 1 when a node is down";

/// Examples under `mhactl lab ssh --help`.
pub const LAB_SSH: &str = "\
Examples:
  sudo mhactl lab ssh node-a                              # a shell
  sudo mhactl lab ssh node-b -- ip -4 addr show eth0      # one command; its exit code";

/// `mhactl completions SHELL`: the script on standard output.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "mhactl", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `mhactl man [--dir DIR]`: mhactl.1 on standard output, or every page into DIR.
pub fn man(cmd: clap::Command, dir: Option<&Path>) -> Result<ExitCode> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd.clone(), dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            let top = dir.join("mhactl.1");
            std::fs::write(&top, top_man_page(cmd)?)
                .with_context(|| format!("cannot write {}", top.display()))?;
            if !crate::report::quiet() {
                crate::log_eprintln!("man pages written to {}", dir.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&top_man_page(cmd)?)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// mhactl.1: clap's page plus the EXIT STATUS and ENVIRONMENT sections a man page has
/// (clap knows neither; docs/errors.md is the longer form).
pub fn top_man_page(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    page.extend_from_slice(MAN_EXIT_AND_ENVIRONMENT.as_bytes());
    Ok(page)
}

/// The sections [`top_man_page`] adds, in roff.
const MAN_EXIT_AND_ENVIRONMENT: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success: bootstrap converged, verify found no error, failover\-test and switchover succeeded.
.TP
\fB1\fR
The command ran and something failed: a step, a check, a lost write, a refused or rolled\-back switchover, an unreachable node, a node locked by another run.
.TP
\fB2\fR
Usage or inventory error: nothing was done (a bad flag, an invalid inventory, a secret that cannot be resolved, a missing key file).
.TP
\fB3\fR
\fBbootstrap \-\-check\fR: changes are pending (nothing was changed).
.TP
\fB130\fR, \fB143\fR
Stopped by SIGINT or SIGTERM after undoing what the run had changed.
.PP
\fBmhactl lab ssh\fR passes the remote command's exit status through.
.SH ENVIRONMENT
.TP
\fBMHACTL_INVENTORY\fR
The inventory file when neither \fB\-i\fR nor a positional argument names one (default: inventory.yaml).
.TP
\fBMHACTL_LOG\fR
A tracing filter for the log on standard error (e.g. mhactl=debug); \fB\-v\fR and \fB\-q\fR otherwise.
.TP
\fBNO_COLOR\fR
Set: no colours. Output that is not a terminal has none either.
.TP
\fBMHACTL_STATS_FILE\fR
Each SSH connection appends a JSON line with its counters here when it closes (benchmarks): remote commands, exec channels, facts read in batches, forwards, SQL logins and round trips, bytes, estimated round trips.
.TP
\fBMHACTL_CACHE_DIR\fR
The lab's image cache (default /var/cache/mhactl).
.TP
\fBMHACTL_LAB_MIRROR\fR
A Debian mirror for building the lab's images (default: debootstrap's own).
.PP
The inventory's \fB*_env\fR fields name further variables that hold secrets; mhactl never prints them.
"#;

/// `mhactl adopt` examples.
pub const ADOPT: &str = "\
Examples:
  mhactl adopt minimal.yaml --out inventory.yaml              # read the pair, write inventory + report
  mhactl adopt minimal.yaml --out inventory.yaml --output json
  mhactl bootstrap --dry-run -i inventory.yaml                # then: what mhactl would change

minimal.yaml names only SSH access, the two nodes and the VIP (and where the passwords are):
  nodes: [{name: db1, address: 10.0.0.11}, {name: db2, address: 10.0.0.12}]
  vip: {address: 10.0.0.100}
Read-only: nothing changes on the nodes. Exit codes: 0 inventory written, 2 bad input or a
pair mhactl does not adopt (one-way replication, a third node, Galera), 1 replication
broken (a person repairs it first). docs/adopt.md.";

#[cfg(test)]
mod tests {
    #[test]
    fn the_man_page_has_exit_status_and_environment() {
        use clap::CommandFactory;
        let page = super::top_man_page(crate::cli::Cli::command()).unwrap();
        let page = String::from_utf8(page).unwrap();
        for want in [
            ".SH \"EXIT STATUS\"",
            "\\fB130\\fR",
            ".SH ENVIRONMENT",
            "MHACTL_INVENTORY",
            "NO_COLOR",
        ] {
            assert!(page.contains(want), "no {want} in mhactl.1");
        }
        // After clap's own sections, once.
        assert_eq!(page.matches(".SH ENVIRONMENT").count(), 1);
        assert!(page.find(".SH SYNOPSIS") < page.find(".SH \"EXIT STATUS\""));
    }
}
