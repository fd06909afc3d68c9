//! The checks behind `mhactl verify`. Each reads facts only (SELECT, SHOW, cat, ip) and
//! turns them into a [`Check`]; a fact that cannot be read is a failed check with the
//! reason, never an abort, so one broken thing does not hide the others.

use super::Check;
use crate::dialect::{quote_account, Dialect};
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use crate::os::{OsTarget, KEEPALIVED_SERVICE};
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Result};
use secrecy::ExposeSecret;
use std::path::Path;
use std::time::Duration;

/// Replication lag above this many seconds is a warning.
const LAG_WARNING_S: u64 = 30;
/// Clock skew between the nodes above this is a warning (replication lag and logs lie).
const SKEW_WARNING_S: f64 = 1.0;

/// Every check: both nodes in parallel, then the checks about the pair.
pub fn run_all(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
) -> Vec<Check> {
    let per_node: Vec<Vec<Check>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cluster
            .nodes
            .iter()
            .map(|node| scope.spawn(move || node_checks(cluster, inv, secrets, node.index)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread panicked"))
            .collect()
    });
    let mut out: Vec<Check> = per_node.into_iter().flatten().collect();
    out.extend(cluster_checks(cluster, inv, secrets, checksum));
    out
}

/// Run `f`; an error becomes a failed check named `name` on `node`.
fn guarded(name: &str, node: &str, f: impl FnOnce() -> Result<Check>) -> Check {
    f().unwrap_or_else(|e| Check::fail(name, node, format!("{e:#}")))
}

pub(super) fn node_checks(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    i: usize,
) -> Vec<Check> {
    let node = &cluster.nodes[i];
    let n = node.name.as_str();
    let mut out = vec![guarded("root", n, || {
        let uid = node
            .transport
            .run_ok(&RemoteCommand::new(crate::os::host::USER_ID_QUERY))?;
        Ok(if uid.trim() == "0" {
            Check::pass("root", n, "commands run as root")
        } else {
            Check::fail(
                "root",
                n,
                format!("commands run as uid {} (sudo -n not working?)", uid.trim()),
            )
        })
    })];
    let target = match facts::os_target(node, inv.mysql.flavor) {
        Ok((t, _)) => t,
        Err(e) => {
            out.push(Check::fail("os", n, format!("{e:#}")));
            return out;
        }
    };
    let dialect = match facts::dialect(node) {
        Ok(d) => {
            out.push(
                match d
                    .version()
                    .mismatch(inv.mysql.flavor, inv.mysql.version.as_deref())
                {
                    None => Check::pass("mysqld", n, format!("{} answers SQL", d.version())),
                    Some(problem) => Check::fail("mysqld", n, problem),
                },
            );
            d
        }
        Err(e) => {
            out.push(Check::fail("mysqld", n, format!("{e:#}")));
            // Without SQL only the keepalived checks can still say something; the
            // others are listed as not run rather than left out.
            out.extend(super::partial::without_sql(n, inv));
            out.extend(keepalived_checks(node, inv, secrets, &target));
            return out;
        }
    };
    out.push(guarded("server-id", n, || {
        let id = facts::variable(node, "server_id")?.unwrap_or_default();
        let want = inv.server_id(i).to_string();
        Ok(match id.as_str() {
            "0" | "" => Check::fail("server-id", n, "server_id is not set"),
            x if x == want => Check::pass("server-id", n, format!("server_id {x}")),
            x => Check::fail(
                "server-id",
                n,
                format!("server_id {x}, the inventory says {want}"),
            ),
        })
    }));
    out.push(guarded("auto-increment", n, || {
        let inc = facts::variable(node, "auto_increment_increment")?.unwrap_or_default();
        let off = facts::variable(node, "auto_increment_offset")?.unwrap_or_default();
        let want_off = inv.auto_increment_offset(i).to_string();
        Ok(if inc == "2" && off == want_off {
            Check::pass("auto-increment", n, format!("increment {inc}, offset {off}"))
        } else {
            Check::fail(
                "auto-increment",
                n,
                format!("increment {inc}, offset {off}; want increment 2, offset {want_off} (ids from the two nodes would collide)"),
            )
        })
    }));
    out.push(guarded("binlog", n, || {
        let log_bin = facts::variable(node, "log_bin")?.unwrap_or_default();
        let option = dialect.log_replica_updates_option();
        let updates = facts::variable(node, option)?.unwrap_or_default();
        Ok(if log_bin == "1" && updates == "1" {
            Check::pass("binlog", n, format!("log_bin ON, {option} ON"))
        } else {
            Check::fail(
                "binlog",
                n,
                format!("log_bin {log_bin}, {option} {updates}: both must be ON for master/master"),
            )
        })
    }));
    out.push(guarded("read-only", n, || {
        let ro = facts::variable(node, "read_only")?.unwrap_or_default();
        Ok(if ro == "0" {
            Check::pass(
                "read-only",
                n,
                "read_only OFF (writable: the VIP decides where writes go)",
            )
        } else {
            Check::warn(
                "read-only",
                n,
                format!(
                    "read_only ON: writes through the VIP fail while this node holds it; {}",
                    super::server_options::who_sets(node, &dialect, &target, &["read_only"])
                ),
            )
        })
    }));
    out.extend(replication_checks(node, inv, &dialect, i));
    out.push(guarded("gtid", n, || gtid_check(cluster, &dialect, i)));
    out.push(guarded("semi-sync", n, || {
        semi_sync_check(node, inv, &dialect)
    }));
    out.push(guarded(super::durability::NAME, n, || {
        super::durability::durability_check(node, inv, &dialect)
    }));
    out.push(guarded("replication-user", n, || {
        replication_user_check(node, inv, &dialect, i)
    }));
    out.push(guarded("access-defaults", n, || {
        super::access_defaults::access_defaults_check(node, &dialect)
    }));
    if !inv.access.users.is_empty() {
        out.push(guarded("access-users", n, || {
            access_users_check(node, inv, &dialect)
        }));
    }
    out.push(guarded("my-cnf", n, || {
        let wanted = crate::render::render_my_cnf(inv, i, &dialect, &target)?;
        let check = drift_check("my-cnf", node, target.config_path(), &wanted)?;
        // The MySQL RPMs' /etc/my.cnf reads no drop-in directory: a right file that the
        // server never reads is still wrong.
        if let (true, Some((main, line))) = (check.ok, target.config_include()) {
            let text = node
                .transport
                .read_file(Path::new(main))?
                .unwrap_or_default();
            if !crate::os::has_include_line(&text, line) {
                return Ok(Check::fail(
                    "my-cnf",
                    n,
                    format!(
                        "{main} lacks `{line}`, so the server does not read {} (bootstrap adds it)",
                        target.config_path()
                    ),
                ));
            }
        }
        Ok(check)
    }));
    // The values in force, wherever they come from (the file above may be overridden).
    out.push(guarded("server-options", n, || {
        super::server_options::check(node, inv, &dialect, &target)
    }));
    out.extend(keepalived_checks(node, inv, secrets, &target));
    out
}

fn replication_checks(node: &NodeHandle, inv: &Inventory, d: &Dialect, i: usize) -> Vec<Check> {
    let n = node.name.as_str();
    let status = match facts::replica_status(node) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return vec![Check::fail(
                "replication-threads",
                n,
                "no replication source configured",
            )]
        }
        Err(e) => return vec![Check::fail("replication-threads", n, format!("{e:#}"))],
    };
    let mut out = Vec::new();
    out.push(if status.io_running && status.sql_running {
        Check::pass("replication-threads", n, "IO and SQL threads running")
    } else {
        let mut detail = format!(
            "IO thread {}, SQL thread {}",
            if status.io_running {
                "running"
            } else {
                "NOT running"
            },
            if status.sql_running {
                "running"
            } else {
                "NOT running"
            }
        );
        if status.last_io_errno != 0 {
            detail.push_str(&format!(
                "\nlast IO error {}: {}",
                status.last_io_errno, status.last_io_error
            ));
        }
        if status.last_sql_errno != 0 {
            detail.push_str(&format!(
                "\nlast SQL error {}: {}",
                status.last_sql_errno, status.last_sql_error
            ));
        }
        // An IO thread that cannot connect: is the peer's port reachable from here?
        if !status.io_running && facts::io_error_may_be_network(status.last_io_errno) {
            let peer = inv.peer(i);
            let peer_addr = peer.address.to_string();
            match facts::tcp_probe(node, &peer_addr, inv.mysql.port) {
                Ok(probe) => {
                    if let Some(problem) = probe.problem() {
                        detail.push('\n');
                        detail.push_str(&facts::peer_unreachable_message(
                            n,
                            &peer.name,
                            &peer_addr,
                            inv.mysql.port,
                            &inv.nodes[i].address.to_string(),
                            &problem,
                        ));
                    } else if probe == facts::TcpProbe::Open {
                        detail.push_str(&format!(
                            "\n{n} reaches {}'s port {peer_addr}:{}",
                            peer.name, inv.mysql.port
                        ));
                    }
                }
                Err(e) => detail.push_str(&format!(
                    "\ncannot check whether {n} reaches {peer_addr}:{}: {e:#}",
                    inv.mysql.port
                )),
            }
        }
        Check::fail("replication-threads", n, detail)
    });
    let peer = inv.peer(i);
    let peer_addr = peer.address.to_string();
    out.push(
        if status.source_host == peer_addr
            && status.source_port == inv.mysql.port
            && status.source_user == inv.mysql.replication_user
        {
            Check::pass(
                "replication-source",
                n,
                format!(
                    "replicates from {} ({peer_addr}) as {}",
                    peer.name, status.source_user
                ),
            )
        } else {
            Check::fail(
                "replication-source",
                n,
                format!(
                    "replicates from {}:{} as {}, but its peer is {} ({peer_addr}:{}) as {}",
                    status.source_host,
                    status.source_port,
                    status.source_user,
                    peer.name,
                    inv.mysql.port,
                    inv.mysql.replication_user
                ),
            )
        },
    );
    let positions = format!(
        "read {}:{}, executed {}:{}",
        status.source_log_file,
        status.read_source_log_pos,
        status.relay_source_log_file,
        status.exec_source_log_pos
    );
    out.push(match status.seconds_behind {
        Some(s) if s <= LAG_WARNING_S => {
            Check::pass("replication-lag", n, format!("{s} s behind; {positions}"))
        }
        Some(s) => Check::warn(
            "replication-lag",
            n,
            format!("{s} s behind (over {LAG_WARNING_S} s); {positions}"),
        ),
        None => Check::fail(
            "replication-lag",
            n,
            format!("lag unknown (a thread is stopped); {positions}"),
        ),
    });
    out.push(guarded("skip-errors", n, || {
        let option = d.skip_errors_option();
        let value = facts::variable(node, option)?.unwrap_or_else(|| "OFF".into());
        Ok(if value == "OFF" || value.is_empty() {
            Check::pass("skip-errors", n, format!("{option} OFF"))
        } else {
            Check::warn(
                "skip-errors",
                n,
                format!(
                    "{option} = {value}: replication errors are skipped, which hides divergence"
                ),
            )
        })
    }));
    out
}

/// Semi-synchronous replication: active both ways when the inventory asks for it.
fn semi_sync_check(node: &NodeHandle, inv: &Inventory, d: &Dialect) -> Result<Check> {
    let n = node.name.as_str();
    if !inv.mysql.semi_sync {
        return Ok(Check::pass(
            "semi-sync",
            n,
            "off: asynchronous replication (a crash can lose the last acknowledged writes; docs/failover.md)",
        ));
    }
    let (source, replica) = d.semi_sync_status_variables();
    let rows = node
        .with_sql(|sql| sql.query(&crate::dialect::show_global_status_sql(&[source, replica])))?;
    let value = |name: &str| {
        rows.iter()
            .find(|r| crate::sql::get(r, "Variable_name") == Some(name))
            .and_then(|r| crate::sql::get(r, "Value"))
            .unwrap_or("missing")
            .to_string()
    };
    let (s, r) = (value(source), value(replica));
    Ok(if s == "ON" && r == "ON" {
        Check::pass("semi-sync", n, format!("{source} ON, {replica} ON"))
    } else {
        Check::fail(
            "semi-sync",
            n,
            format!("{source} {s}, {replica} {r}: commits are not waiting for the peer (it fell back to asynchronous after the timeout, or the replica threads need a restart)"),
        )
    })
}

/// GTIDs: reported when not used (mhactl replicates by file and position); when used on
/// MySQL, this node must contain every transaction its peer executed (after catch-up).
fn gtid_check(cluster: &Cluster, d: &Dialect, i: usize) -> Result<Check> {
    let node = &cluster.nodes[i];
    let n = node.name.as_str();
    if d.flavor().gtid_model() == crate::dialect::GtidModel::DomainServerSequence {
        let rows = node.with_sql(|sql| sql.query(&d.replica_status_sql()))?;
        let using = rows
            .first()
            .and_then(|r| crate::sql::get(r, "Using_Gtid"))
            .unwrap_or("No")
            .to_string();
        let pos = facts::variable(node, "gtid_slave_pos")?.unwrap_or_default();
        return Ok(if using == "No" {
            Check::pass(
                "gtid",
                n,
                "not used: replication by binary log file and position",
            )
        } else {
            Check::pass(
                "gtid",
                n,
                format!("Using_Gtid {using}, gtid_slave_pos {pos}"),
            )
        });
    }
    let mode = facts::variable(node, "gtid_mode")?.unwrap_or_else(|| "OFF".into());
    if mode != "ON" {
        return Ok(Check::pass(
            "gtid",
            n,
            format!("gtid_mode {mode}: replication by binary log file and position"),
        ));
    }
    let peer = cluster.peer(i);
    let peer_set = facts::variable(peer, "gtid_executed")?.unwrap_or_default();
    let sql = crate::dialect::gtid_subset_of_executed_sql(&peer_set);
    let subset = node
        .with_sql(|s| s.query(&sql))?
        .first()
        .and_then(|r| crate::sql::get(r, "s"))
        .map(str::to_string);
    Ok(if subset.as_deref() == Some("1") {
        Check::pass(
            "gtid",
            n,
            format!("has every transaction {} executed", peer.name),
        )
    } else {
        Check::fail(
            "gtid",
            n,
            format!("lacks transactions {} executed ({peer_set})", peer.name),
        )
    })
}

fn replication_user_check(
    node: &NodeHandle,
    inv: &Inventory,
    d: &Dialect,
    i: usize,
) -> Result<Check> {
    let n = node.name.as_str();
    let user = &inv.mysql.replication_user;
    let peer_addr = inv.peer(i).address.to_string();
    let hosts = crate::accounts::account_hosts(node, user)?;
    if !hosts.contains(&peer_addr) {
        return Ok(Check::fail(
            "replication-user",
            n,
            format!("{} does not exist", quote_account(user, &peer_addr)),
        ));
    }
    let others: Vec<&String> = hosts.iter().filter(|h| **h != peer_addr).collect();
    if !others.is_empty() {
        return Ok(Check::fail(
            "replication-user",
            n,
            format!("{user} also exists for hosts {others:?}: the account should be limited to the peer's address {peer_addr}"),
        ));
    }
    let lines = crate::accounts::grant_lines(node, d, user, &peer_addr)?;
    if !d.grants_cover_replication(&lines) {
        return Ok(Check::fail(
            "replication-user",
            n,
            format!("missing replication privileges: {}", lines.join("; ")),
        ));
    }
    let extra = d.extra_privileges(&lines);
    Ok(if extra.is_empty() {
        Check::pass(
            "replication-user",
            n,
            format!(
                "{} with replication privileges only",
                quote_account(user, &peer_addr)
            ),
        )
    } else {
        Check::fail(
            "replication-user",
            n,
            format!(
                "more privileges than replication needs: {}",
                extra.join(", ")
            ),
        )
    })
}

/// The inventory's `access.users`: one account per client network, none for other
/// hosts, and exactly the listed privileges. Passwords are not checked: on MySQL that
/// needs a short-lived account (bootstrap's `app-users` step does it), and verify
/// changes nothing.
fn access_users_check(node: &NodeHandle, inv: &Inventory, d: &Dialect) -> Result<Check> {
    let n = node.name.as_str();
    let mut problems = Vec::new();
    let mut fine = Vec::new();
    for (u, user) in inv.access.users.iter().enumerate() {
        let (wanted, hosts) = crate::accounts::wanted_account(u, user)?;
        let existing = crate::accounts::account_hosts(node, &user.name)?;
        for stale in existing.iter().filter(|h| !hosts.contains(h)) {
            problems.push(format!(
                "{} exists but access.users[{u}].networks does not list it",
                quote_account(&user.name, stale)
            ));
        }
        for host in &hosts {
            let account = quote_account(&user.name, host);
            if !existing.contains(host) {
                problems.push(format!("{account} does not exist"));
                continue;
            }
            let actual = crate::inventory::parse_show_grants(&crate::accounts::grant_lines(
                node, d, &user.name, host,
            )?);
            let changes = crate::dialect::grant_changes(&account, &wanted, &actual);
            if changes.is_empty() {
                fine.push(account);
            } else {
                problems.push(format!(
                    "privileges of {account} differ from access.users[{u}].privileges (bootstrap would run: {})",
                    changes.join("; ")
                ));
            }
        }
    }
    Ok(if problems.is_empty() {
        Check::pass(
            "access-users",
            n,
            format!(
                "{} with exactly the inventory's privileges",
                fine.join(", ")
            ),
        )
    } else {
        Check::fail("access-users", n, problems.join("; "))
    })
}

fn keepalived_checks(
    node: &NodeHandle,
    inv: &Inventory,
    secrets: &Secrets,
    target: &OsTarget,
) -> Vec<Check> {
    let n = node.name.as_str();
    let mut out = vec![guarded("keepalived", n, || {
        let services = facts::os_target(node, inv.mysql.flavor)?.1;
        Ok(
            if facts::service_active(node, services, KEEPALIVED_SERVICE)? {
                Check::pass("keepalived", n, "running")
            } else {
                Check::fail(
                    "keepalived",
                    n,
                    "keepalived is not running: this node cannot take the VIP",
                )
            },
        )
    })];
    out.push(guarded("keepalived-config", n, || {
        let wanted = crate::render::render_keepalived_conf(
            inv,
            node.index,
            secrets.vrrp_password.expose_secret(),
        )?;
        let conf = drift_check(
            "keepalived-config",
            node,
            target.keepalived_conf_path(),
            &wanted,
        )?;
        if !conf.ok {
            return Ok(conf);
        }
        // The health check keepalived runs: the script as rendered, and under SELinux
        // with the type that lets it reach mysqld.
        let script_path = target.check_script_path();
        let script = crate::render::render_check_script(inv, target)?;
        let script_check = drift_check("keepalived-config", node, script_path, &script)?;
        if !script_check.ok {
            return Ok(script_check);
        }
        let probe = crate::os::selinux::check_script_label_probe(script_path);
        if let crate::os::selinux::CheckScriptLabel::Enforcing(ty) =
            crate::os::selinux::parse_check_script_label(
                &node.transport.run_ok(&RemoteCommand::new(probe))?,
                script_path,
            )
        {
            let want = crate::os::selinux::CHECK_SCRIPT_SELINUX_TYPE;
            if ty != want {
                return Ok(Check::fail(
                    "keepalived-config",
                    n,
                    format!(
                        "{script_path} has SELinux type {ty}, not {want}: keepalived runs it \
                         confined and the health check cannot reach mysqld (bootstrap relabels it)"
                    ),
                ));
            }
        }
        Ok(Check::pass(
            "keepalived-config",
            n,
            format!(
                "{} and {script_path} match the inventory",
                target.keepalived_conf_path()
            ),
        ))
    }));
    out
}

/// Compare a file on the node with what bootstrap would render.
fn drift_check(name: &str, node: &NodeHandle, path: &str, wanted: &str) -> Result<Check> {
    let n = node.name.as_str();
    Ok(match node.transport.read_file(Path::new(path))? {
        None => Check::fail(name, n, format!("{path} is missing (run bootstrap)")),
        Some(current) if current == wanted => {
            Check::pass(name, n, format!("{path} matches the inventory"))
        }
        Some(current) => {
            // From what the inventory renders to what is on disk: `+` lines are hand edits.
            // Secrets are masked on both sides (a changed one as `***(node)`).
            let diff = crate::engine::file_diff_labeled(
                path,
                Some(wanted),
                &current,
                ("inventory", "node"),
            );
            let changed: Vec<&str> = diff
                .lines()
                .filter(|l| {
                    (l.starts_with('-') || l.starts_with('+'))
                        && !l.starts_with("---")
                        && !l.starts_with("+++")
                })
                .take(6)
                .collect();
            Check::fail(
                name,
                n,
                format!(
                    "{path} differs from the inventory (drift; bootstrap repairs it):\n{}",
                    changed.join("\n")
                ),
            )
        }
    })
}

fn cluster_checks(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
) -> Vec<Check> {
    let mut out = Vec::new();
    let ids: Vec<Option<String>> = cluster
        .nodes
        .iter()
        .map(|n| facts::variable(n, "server_id").ok().flatten())
        .collect();
    out.push(match (&ids[0], &ids[1]) {
        (Some(a), Some(b)) if a != b => {
            Check::pass("server-id-distinct", "cluster", format!("{a} and {b}"))
        }
        (Some(a), Some(b)) => Check::fail(
            "server-id-distinct",
            "cluster",
            format!("both nodes have server_id {a}={b}: replication loops"),
        ),
        _ => Check::fail(
            "server-id-distinct",
            "cluster",
            "server_id unreadable on a node",
        ),
    });
    out.push(guarded("clock-skew", "cluster", || clock_skew(cluster)));
    out.push(guarded("keepalived-pair", "cluster", || {
        keepalived_pair(cluster, inv)
    }));
    let holders = match facts::vip_holders(cluster, inv) {
        Ok(h) => h,
        Err(e) => {
            out.push(Check::fail("vip", "cluster", format!("{e:#}")));
            return out;
        }
    };
    let vip = inv.vip.address;
    match holders.as_slice() {
        [] => out.push(Check::fail(
            "vip",
            "cluster",
            format!("no node holds the VIP {vip}: clients cannot connect (outage)"),
        )),
        [h] => {
            let holder = &cluster.nodes[*h];
            out.push(Check::pass(
                "vip",
                "cluster",
                format!("{vip} held by {}", holder.name),
            ));
            out.push(guarded("vip-sql", "cluster", || {
                vip_sql(cluster, inv, secrets, *h)
            }));
        }
        _ => out.push(Check::fail(
            "vip",
            "cluster",
            format!(
                "split brain: both {} and {} hold the VIP {vip}",
                cluster.nodes[0].name, cluster.nodes[1].name
            ),
        )),
    }
    if checksum {
        out.extend(checksum_checks(cluster, inv));
    }
    out
}

/// The two keepalived.conf files as they are on disk (whoever wrote them) agree on
/// what makes failover safe: same router id, distinct priorities, BACKUP + nopreempt,
/// a health check, the inventory's VIP.
fn keepalived_pair(cluster: &Cluster, inv: &Inventory) -> Result<Check> {
    let mut parsed = Vec::new();
    for node in &cluster.nodes {
        let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
        let path = target.keepalived_conf_path();
        let text = node
            .transport
            .read_file(Path::new(path))?
            .ok_or_else(|| anyhow!("{}: {path} is missing", node.name))?;
        parsed.push(
            super::keepalived_conf::parse(&text)
                .ok_or_else(|| anyhow!("{}: {path} has no vrrp_instance", node.name))?,
        );
    }
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let problems = super::keepalived_conf::pair_problems(
        &parsed[0],
        &parsed[1],
        names,
        &inv.vip.address.to_string(),
    );
    Ok(if problems.is_empty() {
        Check::pass(
            "keepalived-pair",
            "cluster",
            format!(
                "virtual_router_id {}, priorities {} and {}, BACKUP with nopreempt, health check tracked",
                parsed[0].virtual_router_id.unwrap_or(0),
                parsed[0].priority.unwrap_or(0),
                parsed[1].priority.unwrap_or(0)
            ),
        )
    } else {
        Check::fail("keepalived-pair", "cluster", problems.join("\n"))
    })
}

/// MySQL answers through the VIP with the holder's server_id (connecting from the other
/// node with the replication account, which the holder allows from exactly there).
fn vip_sql(cluster: &Cluster, inv: &Inventory, secrets: &Secrets, holder: usize) -> Result<Check> {
    let id = facts::server_id_through_vip(cluster, inv, &secrets.replication_password, holder)?;
    let want = inv.server_id(holder).to_string();
    Ok(if id == want {
        Check::pass(
            "vip-sql",
            "cluster",
            format!(
                "MySQL through {} answers with server_id {id} ({})",
                inv.vip.address, cluster.nodes[holder].name
            ),
        )
    } else {
        Check::fail(
            "vip-sql",
            "cluster",
            format!(
                "MySQL through {} answers with server_id {id}, the holder has {want}",
                inv.vip.address
            ),
        )
    })
}

/// Clock skew: read both clocks at once and subtract, less half of the slower round trip.
fn clock_skew(cluster: &Cluster) -> Result<Check> {
    let readings: Vec<Result<(f64, f64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cluster
            .nodes
            .iter()
            .map(|node| {
                scope.spawn(move || {
                    let t0 = std::time::Instant::now();
                    let out = node
                        .transport
                        .run_ok(&RemoteCommand::new(crate::os::host::CLOCK_QUERY))?;
                    let rtt = t0.elapsed().as_secs_f64();
                    let t: f64 = out
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("{}: bad date output {out:?}", node.name))?;
                    Ok((t, rtt))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("clock thread"))
            .collect()
    });
    let (a, rtt_a) = readings[0].as_ref().map_err(|e| anyhow!("{e:#}"))?;
    let (b, rtt_b) = readings[1].as_ref().map_err(|e| anyhow!("{e:#}"))?;
    let skew = ((a - b).abs() - rtt_a.max(*rtt_b) / 2.0).max(0.0);
    Ok(if skew <= SKEW_WARNING_S {
        Check::pass("clock-skew", "cluster", format!("{skew:.3} s"))
    } else {
        Check::warn(
            "clock-skew",
            "cluster",
            format!("clocks differ by {skew:.1} s: use NTP on both nodes"),
        )
    })
}

/// Databases whose tables are compared (the replicated ones, never system schemas).
fn replicated_tables(node: &NodeHandle, inv: &Inventory) -> Result<Vec<String>> {
    let mut excluded = vec![
        "mysql".to_string(),
        "information_schema".into(),
        "performance_schema".into(),
        "sys".into(),
    ];
    excluded.extend(inv.ignored_databases());
    let sql = crate::dialect::base_tables_sql(&excluded, &inv.mysql.replicate_databases);
    Ok(node
        .with_sql(|s| s.query(&sql))?
        .iter()
        .filter_map(|r| crate::sql::get(r, "t"))
        .map(str::to_string)
        .collect())
}

/// Wait (briefly) until each node has executed everything its peer had written.
fn wait_caught_up(cluster: &Cluster) -> Result<()> {
    let targets: Vec<_> = cluster
        .nodes
        .iter()
        .map(facts::binlog_coordinates)
        .collect::<Result<_>>()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for node in &cluster.nodes {
        let want = &targets[1 - node.index];
        loop {
            let s = facts::replica_status(node)?
                .ok_or_else(|| anyhow!("{}: not a replica", node.name))?;
            if s.relay_source_log_file == want.file && s.exec_source_log_pos >= want.position {
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err(anyhow!(
                    "{} has not caught up with its peer within 10 s",
                    node.name
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// `CHECKSUM TABLE list EXTENDED` on one node: (table, checksum) in the server's order.
fn table_checksums(node: &NodeHandle, list: &str) -> Result<Vec<(String, Option<String>)>> {
    let rows = node.with_sql(|s| s.query(&format!("CHECKSUM TABLE {list} EXTENDED")))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                crate::sql::get(r, "Table").unwrap_or("").to_string(),
                crate::sql::get(r, "Checksum").map(str::to_string),
            )
        })
        .collect())
}

fn checksum_checks(cluster: &Cluster, inv: &Inventory) -> Vec<Check> {
    vec![guarded("checksum", "cluster", || {
        wait_caught_up(cluster)?;
        let tables = replicated_tables(&cluster.nodes[0], inv)?;
        let other_tables = replicated_tables(&cluster.nodes[1], inv)?;
        let mut problems = Vec::new();
        for t in tables.iter().filter(|t| !other_tables.contains(t)) {
            problems.push(format!("{t} exists only on {}", cluster.nodes[0].name));
        }
        for t in other_tables.iter().filter(|t| !tables.contains(t)) {
            problems.push(format!("{t} exists only on {}", cluster.nodes[1].name));
        }
        let common: Vec<&String> = tables.iter().filter(|t| other_tables.contains(t)).collect();
        for chunk in common.chunks(50) {
            let list = chunk
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            // Both nodes at once: CHECKSUM TABLE ... EXTENDED reads every row, so this
            // halves the time on large tables and narrows the window in which live
            // writes could make the two sides differ.
            let sums: Vec<Vec<(String, Option<String>)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = cluster
                    .nodes
                    .iter()
                    .map(|n| scope.spawn(|| table_checksums(n, &list)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("checksum thread panicked"))
                    .collect::<Result<_>>()
            })?;
            for ((table, a), (_, b)) in sums[0].iter().zip(&sums[1]) {
                if a != b {
                    problems.push(format!(
                        "{table} differs ({} on {}, {} on {})",
                        a.as_deref().unwrap_or("NULL"),
                        cluster.nodes[0].name,
                        b.as_deref().unwrap_or("NULL"),
                        cluster.nodes[1].name
                    ));
                }
            }
        }
        Ok(if problems.is_empty() {
            Check::pass(
                "checksum",
                "cluster",
                format!("{} tables identical on both nodes", common.len()),
            )
        } else {
            Check::fail(
                "checksum",
                "cluster",
                format!("data differs between the nodes:\n{}", problems.join("\n")),
            )
        })
    })]
}

#[cfg(test)]
mod tests {
    use crate::engine::{Cluster, NodeHandle};
    use crate::transport::fake::{FakeSql, FakeTransport};
    use std::sync::Arc;

    const EL9: &str =
        "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.4\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";

    /// EL9 + MySQL 8.4 with mhactl's drop-in exactly as the inventory renders it, and
    /// the RPM's /etc/my.cnf with or without the `!includedir` line.
    fn cluster(inv: &crate::inventory::Inventory, my_cnf: &str) -> Cluster {
        let nodes = ["db1", "db2"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let t = FakeTransport::new(name);
                t.on("/etc/os-release", 0, EL9);
                t.on("echo systemd; else echo sysv", 0, "systemd\n");
                t.on("id -u", 0, "0\n");
                let sql = FakeSql::new();
                sql.on("SELECT VERSION()", vec![vec![("version", Some("8.4.3"))]]);
                let target = crate::os::OsTarget::new(
                    crate::os::OsFamily::El9,
                    crate::inventory::Flavor::Mysql,
                )
                .unwrap();
                let dialect = crate::dialect::Dialect::from_version_string("8.4.3").unwrap();
                let rendered =
                    crate::render::render_my_cnf(inv, i, &dialect, &target).expect("renders");
                t.on("if [ -e /etc/my.cnf.d/zz-mhactl.cnf ]", 0, &rendered);
                t.on("if [ -e /etc/my.cnf ]", 0, my_cnf);
                // The rest of what verify reads finds an empty node (this test looks at
                // my-cnf only): no variables, no replica, no accounts, no keepalived.
                for query in [
                    "SELECT @@GLOBAL.",
                    "SHOW GLOBAL VARIABLES WHERE",
                    "SHOW REPLICA STATUS",
                    "SHOW BINARY LOG STATUS",
                    "FROM mysql.user WHERE",
                    "FROM information_schema.SCHEMATA",
                ] {
                    sql.on(query, vec![]);
                }
                t.on("--verbose --help", 0, "");
                t.on("ls -1 -- /etc/my.cnf.d/", 0, "zz-mhactl.cnf\n");
                t.on("if [ -e /etc/mysql/my.cnf ]", 3, "");
                t.on("if [ -e /etc/keepalived/keepalived.conf ]", 3, "");
                t.on("systemctl is-active --quiet keepalived", 3, "");
                t.on("ip -4 -o addr show dev eth0", 0, "");
                t.on("date +%s.%N", 0, "");
                NodeHandle::new(i, name, Arc::new(t), Some(sql.connector()))
            })
            .collect();
        Cluster {
            nodes,
            secrets: vec![],
        }
    }

    #[test]
    fn a_drop_in_that_el_mysql_never_reads_fails_my_cnf() {
        let inv = crate::inventory::parse(
            "cluster: t\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
             vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
             mysql:\n  flavor: mysql\n  version: \"8.4\"\n\
             credentials:\n  replication_password_env: MHACTL_TEST_VERIFY_PW\n  root_password_env: MHACTL_TEST_VERIFY_PW\n",
            "inventory.yaml",
        )
        .unwrap();
        std::env::set_var("MHACTL_TEST_VERIFY_PW", "Repl-pw-4-verify!");
        let secrets = crate::inventory::Secrets::resolve(&inv, false).unwrap();
        let rpm = "[mysqld]\ndatadir=/var/lib/mysql\nsocket=/var/lib/mysql/mysql.sock\n";
        for (my_cnf, ok) in [
            (rpm.to_string(), false),
            (format!("{rpm}!includedir /etc/my.cnf.d/\n"), true),
        ] {
            let checks =
                super::super::check_cluster(&cluster(&inv, &my_cnf), &inv, &secrets, false);
            let my = checks
                .iter()
                .find(|c| c.name == "my-cnf" && c.node == "db1")
                .expect("a my-cnf check");
            assert_eq!(my.ok, ok, "{my:?}");
            if !ok {
                assert!(
                    my.detail
                        .contains("/etc/my.cnf lacks `!includedir /etc/my.cnf.d`"),
                    "{my:?}"
                );
            }
        }
    }
}
