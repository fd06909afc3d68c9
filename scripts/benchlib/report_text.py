"""The fixed part of docs/benchmarks.md: what each number means, targets, how to run."""

STATIC_TEXT = """## What each number means

- **bootstrap from bare nodes, total**: wall time of `mhactl bootstrap INVENTORY --output json`
  on a lab just brought up (`lab up`: no server, no keepalived, no configuration), from the
  process start to its exit: connecting, installing mariadb-server, mariadb-client and
  keepalived from the lab's offline repository, configuring, replication both ways,
  keepalived, and waiting until MySQL answers through the VIP.
- **`install-packages`**, **all steps but `install-packages`**: from the JSON report's
  per-step `ms`. Both nodes run a step in parallel and the next step starts when both
  finished, so per step the slower node counts; the sum over all steps except
  `install-packages` is what mhactl itself costs on top of the package manager.
- **baseline**: `scripts/baseline-runbook.sh` on another fresh lab in the same run, timed
  the same way: the runbook's commands (apt-get install, start, my.cnf through an ssh
  heredoc, restart, replication user, `SHOW MASTER STATUS`, `CHANGE MASTER`, `START SLAVE`,
  keepalived.conf, start keepalived), one `ssh` invocation per command, node-a then node-b,
  then waiting for the replicas and the VIP like bootstrap does. It checks nothing before
  acting, so it is a lower bound for the manual procedure (a person types slower). The
  ratio is mhactl's total over the baseline's total of the same run.
- **idempotent re-run**: bootstrap again on the converged pair; every step reads the
  node's state and finds nothing to do (`changed: 0`, checked by the script).
- **verify**: `mhactl verify --output json` on the healthy pair (all checks, both nodes in
  parallel). **verify --checksum**: the same plus `CHECKSUM TABLE … EXTENDED` of every
  replicated table on both nodes, here with a 100,000-row table `bench.t` (created on
  node-a with an `INSERT … SELECT` doubling loop through `mhactl lab ssh node-a -- mysql -e`,
  and replicated to node-b before the measurement).
- **SSH connections, remote commands, forwarded sockets**: counted by mhactl's SSH
  transport when `MHACTL_STATS_FILE` is set (one JSON line per node and connection when
  it closes, summed here). A remote command is one `sh -c` run on the node over the
  node's connection; SQL goes through forwarded unix sockets (a forward is one SQL
  connection, which then carries any number of statements, not counted).
- **peak memory**: "Maximum resident set size" from `/usr/bin/time -v`, and the mhactl
  process's own peak (`VmHWM` in /proc/PID/status, sampled); see the note under the table.
- **failover**: `failover-test --mode M --output json`, in the order stop-mysqld,
  kill-mysqld, stop-keepalived, partition, isolate on the same pair (each starts from whichever
  node holds the VIP after the previous one). *VIP moved*: from the fault until the peer
  holds the VIP; *write gap*: longest interval without an acknowledged write through the
  VIP (a write every 20 ms); *acked*/*failed*: writes acknowledged / attempts that
  failed; *lost*: acknowledged writes missing on the survivor when it took over (see
  [failover.md](failover.md)).
- **keepalived limit**: the longest keepalived itself may take to move the VIP (worst phase), from the
  configuration bootstrap writes. A failed server (stop/kill mysqld) is noticed after
  `fall` failed checks `interval` apart; the holder then goes to FAULT and gives up the
  VIP, and the peer takes it after its skew time `(256 − priority) / 256 × advert_int`.
  A stopped keepalived sends a priority-0 advertisement: only the skew. A partition is
  noticed by the peer only when three advertisements are missing: `3 × advert_int + skew`.
  "Close to" allows one client reconnect on top (1 s: the writer's reconnect and ARP
  update through the VIP).

## Targets

From issue 9: the idempotent re-run under 3 s and verify under 1 s on the lab (both are
dominated by round trips, so the SSH counts above are what to watch); the failover write
gap close to keepalived's detection limit (health-check interval × fall + advertisement
skew ≈ 2–3 s for a failed server); bootstrap limited by package installation, not by
mhactl (both nodes in parallel where the order allows).

## How to run

```sh
sudo scripts/bench                  # 3 runs, MariaDB lab, writes docs/benchmarks.md
sudo scripts/bench --runs 5         # more repetitions
sudo scripts/bench --no-build --out /tmp/b.md   # reuse the release build, write elsewhere
scripts/bench --from-results /tmp/mhactl-bench-*/results.json   # rewrite the doc only
sudo scripts/bench --only switchover --flavor mariadb,mysql --runs 6   # one section, both flavors
sudo scripts/bench --only isolate,rolling --debug-build   # measure target/debug/mhactl
sudo scripts/bench --only stress --stress-args="--duration 120"   # scripts/bench-stress only
```

Sections: `suite` (everything above), `switchover`, `isolate`, `rolling` (issue 16) and
`stress` (scripts/bench-stress, the false-failover stress benchmark, its own executable).
Without `--only` it runs all but `stress`. A day-2 section (switchover, isolate, rolling) runs
on one bootstrapped lab per flavor (6 runs unless `--runs`) and replaces only its own block
of this file, between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, and only its flavor's
row (the numbers of each row are kept in a `<!-- data NAME … -->` line of the block); a full
run of the suite rewrites the rest and keeps those blocks. A section that cannot run says
`SKIPPED` and why (rolling without rolling restarts in the build, stress without
scripts/bench-stress) and leaves its block as it was.

It needs what the lab needs (root, `scripts/install-deps`) and GNU time (`/usr/bin/time`,
installed with apt-get when missing); with a cached base image one run takes about
four minutes. It uses two free lab subnets (10.213.230-239.0/24: one for mhactl's lab, one for
the baseline's) and a directory under /tmp, and takes each lab down afterwards (also on
errors and Ctrl-C). `CARGO_TARGET_DIR` is honoured.
The raw measurements (every command's output, time and SSH statistics, and
`results.json`) stay in the `/tmp/mhactl-bench-*` directory the script names. Results
depend on the machine and its load: compare numbers from the same machine, and rerun when
the machine is quiet.

## Secrets in the baseline

The runbook leaks passwords into command lines (`mysql -uroot -p123456 -h VIP`) and
interactive client histories, and the usual way to script it,
`ssh node "mysql -e \\"GRANT … IDENTIFIED BY '$pw'\\""`, puts the replication password
into the argv of `ssh` on the control host and of `sh` and `mysql` on the node, visible to
every local user in `ps`. The baseline script avoids even that (it reads
`secrets.yaml` into shell variables and sends SQL and config text on ssh's standard
input), so that running the benchmark does not leak the lab's password; the naive way
would. mhactl never puts a secret in a command line: secrets travel on stdin or inside
the SQL protocol over the forwarded socket, and are masked as `***` in all output."""

