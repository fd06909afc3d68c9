//! The write fence agent (templates/fence-agent.sh.tera) run for real with bash against
//! a fake client, a fake `ip` and a real FIFO: ordered keepalived lines, the catch-up
//! wait, the 1 s reconciliation against the truth, and fencing on termination.

use mhactl::dialect::Dialect;
use mhactl::render::render_fence_agent;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

#[path = "common/render_inventory.rs"]
mod render_inventory;
use render_inventory::fixture_inventory;

const FAKE_CLIENT: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
for a in "$@"; do q=$a; done
[ -e "$D/down" ] && { echo "$q" >> "$D/down"; echo "ERROR 2002 (HY000): Can't connect to local server" >&2; exit 1; }
case "$q" in
    "SELECT @@GLOBAL.read_only")
        # A test's one-shot hook: what happens elsewhere while this client runs.
        [ -e "$D/on_ro_read" ] && { sh "$D/on_ro_read"; rm -f "$D/on_ro_read"; }
        cat "$D/ro" ;;
    "SET GLOBAL read_only = ON") echo 1 > "$D/ro"; echo "$q" >> "$D/log" ;;
    "SET GLOBAL read_only = OFF") echo 0 > "$D/ro"; echo "$q" >> "$D/log" ;;
    # Semi-sync's source side following the VIP: the dump threads ($D/dumps, `ID HOST`
    # lines), killing one (noted, it stays listed until a test removes it), the switch.
    "SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
        cat "$D/dumps" 2>/dev/null ;;
    "KILL CONNECTION "*) echo "$q" >> "$D/log" ;;
    "SELECT @@GLOBAL.rpl_semi_sync_master_enabled") cat "$D/source" 2>/dev/null || echo 0 ;;
    "SET GLOBAL rpl_semi_sync_master_enabled = ON") echo 1 > "$D/source"; echo "$q" >> "$D/log" ;;
    "SET GLOBAL rpl_semi_sync_master_enabled = OFF") echo 0 > "$D/source"; echo "$q" >> "$D/log" ;;
    "SET GLOBAL rpl_semi_sync_master_enabled = ON; SET GLOBAL read_only = OFF")
        echo 1 > "$D/source"; echo 0 > "$D/ro"; echo "$q" >> "$D/log" ;;
    SHOW*STATUS*)
        # Like the real client: -N drops the column names, even in vertical output.
        case " $* " in
            *" -N "*) sed 's/^ *[A-Za-z_]*: //' "$D/status" ;;
            *" --vertical "*) cat "$D/status" ;;
            *) echo "fake client: status without --vertical" >&2; exit 1 ;;
        esac ;;
    "SELECT HOST, COMMAND, ID = CONNECTION_ID() FROM information_schema.PROCESSLIST")
        # The peer's client list, as a test left it (the real client prints tabs).
        case " $* " in
            *"clients.cnf"*) cat "$D/processlist" ;;
            *) echo "fake client: client list without the peer's option file" >&2; exit 1 ;;
        esac ;;
    *) echo "fake client: no rule for $q" >&2; exit 1 ;;
esac
"#;

/// Stands in for the tickle script: notes its arguments and the list it was given.
const FAKE_TICKLE: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
{ echo "args $*"; cat; } >> "$D/tickled"
echo "2 connections, 4 segments"
"#;

const FAKE_IP: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
echo "1: lo    inet 127.0.0.1/8 scope host lo"
[ -e "$D/vip" ] && echo "2: eth0    inet 192.168.50.100/24 scope global secondary eth0"
exit 0
"#;

fn status(read: u64, exec: u64) -> String {
    format!(
        "*************************** 1. row ***************************\n\
         \x20             Master_Log_File: mysql-bin.000002\n\
         \x20         Read_Master_Log_Pos: {read}\n\
         \x20       Relay_Master_Log_File: mysql-bin.000002\n\
         \x20         Exec_Master_Log_Pos: {exec}\n"
    )
}

struct Agent {
    dir: PathBuf,
    child: Child,
    fifo: fs::File,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
}

fn ro(dir: &Path) -> String {
    fs::read_to_string(dir.join("ro"))
        .unwrap()
        .trim()
        .to_string()
}

fn wait_for(what: &str, timeout_s: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(timeout_s);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout_s}s waiting for: {what}");
}

fn start(name: &str) -> Agent {
    let dir = std::env::temp_dir().join(format!("mhactl-fence-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    start_in(dir)
}

/// [`start`] in a directory a test prepared (files the agent finds as it starts).
fn start_in(dir: PathBuf) -> Agent {
    fs::create_dir_all(dir.join("bin")).unwrap();
    for (file, text) in [
        ("mariadb", FAKE_CLIENT),
        ("ip", FAKE_IP),
        ("logger", "#!/bin/sh\n"),
        // The peer's server answers while $D/peer_up exists (never the network).
        (
            "mariadb-admin",
            "#!/bin/sh\n[ -e \"$(dirname \"$0\")/../peer_up\" ]\n",
        ),
        ("tickle", FAKE_TICKLE),
        // The agent creates mhactl's runtime directory: not on the machine running tests.
        ("install", "#!/bin/sh\n"),
        // Never the machine's own nftables: each call is noted.
        (
            "nft",
            "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/../nft.log\"\n",
        ),
    ] {
        write(&dir.join("bin").join(file), text);
        let ok = Command::new("chmod")
            .arg("755")
            .arg(dir.join("bin").join(file))
            .status();
        assert!(ok.unwrap().success());
    }
    write(&dir.join("ro"), "0\n");
    write(&dir.join("status"), &status(100, 100));
    let inv = fixture_inventory("good.yaml");
    let dialect = Dialect::from_version_string("10.11.18-MariaDB-0+deb12u1").unwrap();
    let script = render_fence_agent(&inv, &dialect, "/etc/mysql/mhactl-fence.cnf").unwrap();
    assert!(script.contains("PATH=/usr/local/sbin"), "{script}");
    // The agent sets its own PATH; put the fakes first.
    let script = script.replacen(
        "PATH=/usr/local/sbin",
        &format!("PATH={}/bin:/usr/local/sbin", dir.display()),
        1,
    );
    // The switchover's fence hold file, inside the test's directory.
    let hold_line = format!("HOLD={}", mhactl::os::switchover::FENCE_HOLD_PATH);
    assert!(script.contains(&hold_line), "{script}");
    let script = script.replacen(&hold_line, &format!("HOLD={}/hold", dir.display()), 1);
    // The takeover record and the transitions' log too.
    let events_line = format!("EVENTS={}", mhactl::os::fence::EVENTS_PATH);
    assert!(script.contains(&events_line), "{script}");
    let script = script.replacen(&events_line, &format!("EVENTS={}/events", dir.display()), 1);
    let takeover_line = format!("TAKEOVER={}", mhactl::os::fence::TAKEOVER_PATH);
    assert!(script.contains(&takeover_line), "{script}");
    let script = script.replacen(
        &takeover_line,
        &format!("TAKEOVER={}/takeover", dir.display()),
        1,
    );
    // The semi-sync verdict file, and the passive node's delay before it turns the
    // source side off (5 s: shortened to 1 s here).
    let ss_line = format!("SS_FILE={}/semi-sync-verdict", mhactl::os::fence::RUN_DIR);
    assert!(script.contains(&ss_line), "{script}");
    let script = script.replacen(&ss_line, &format!("SS_FILE={}/verdict", dir.display()), 1);
    let delay = "ss_off_due=$((SECONDS + 5))";
    assert!(script.contains(delay), "{script}");
    let script = script.replacen(delay, "ss_off_due=$((SECONDS + 1))", 1);
    // Tickle ACKs: the peer's option file, the client list and the script, in here too
    // (the option file exists only where a test writes it: no poll otherwise).
    let script = script
        .replace(
            "/etc/mysql/mhactl-clients.cnf",
            &format!("{}/clients.cnf", dir.display()),
        )
        .replace(
            mhactl::os::client_list::TICKLE_PATH,
            &format!("{}/bin/tickle", dir.display()),
        );
    let clients_line = format!("CLIENTS={}", mhactl::os::client_list::CLIENTS_PATH);
    assert!(script.contains(&clients_line), "{script}");
    let script = script.replacen(
        &clients_line,
        &format!("CLIENTS={}/clients", dir.display()),
        1,
    );
    let record_line = format!(
        "TICKLE_RECORD={}",
        mhactl::os::client_list::TICKLE_RECORD_PATH
    );
    assert!(script.contains(&record_line), "{script}");
    let script = script.replacen(
        &record_line,
        &format!("TICKLE_RECORD={}/tickle-last", dir.display()),
        1,
    );
    write(&dir.join("agent"), &script);
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let child = Command::new("bash")
        .arg(dir.join("agent"))
        .arg(&fifo)
        .spawn()
        .unwrap();
    let fifo = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    Agent { dir, child, fifo }
}

fn line(a: &mut Agent, state: &str) {
    writeln!(a.fifo, "INSTANCE \"VI_shop-db\" {state} 100").unwrap();
}

/// A loaded host: the agent's read timed out in the middle of keepalived's MASTER line
/// (bash drops what it read so far). The line is completed by the next read, so the new
/// VIP holder becomes writable instead of staying read-only for good.
#[test]
fn a_line_split_by_a_read_timeout_is_not_lost() {
    let mut a = start("split");
    let d = a.dir.clone();
    line(&mut a, "BACKUP");
    wait_for("fenced on BACKUP", 3, || ro(&d) == "1");
    // The VIP arrives before keepalived's line says MASTER: still fenced (last word BACKUP).
    write(&d.join("vip"), "");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        ro(&d),
        "1",
        "unfenced while keepalived's last line was BACKUP"
    );
    write!(a.fifo, "INSTANCE \"VI_shop-db\" MAS").unwrap();
    a.fifo.flush().unwrap();
    // Longer than the agent's read timeout (1 s while nothing is pending).
    std::thread::sleep(Duration::from_millis(1600));
    writeln!(a.fifo, "TER 100").unwrap();
    wait_for("writable once the whole MASTER line is read", 4, || {
        ro(&d) == "0"
    });
}

#[test]
fn agent_fences_unfences_in_order_and_reconciles() {
    let mut a = start("order");
    let d = a.dir.clone();
    // Not the VIP holder at start: fenced by the first reconciliation.
    wait_for("fenced at start", 3, || ro(&d) == "1");
    // MASTER with a relay log not yet executed: stays read-only.
    write(&d.join("status"), &status(200, 100));
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(ro(&d), "1", "writable before the SQL thread caught up");
    // Caught up: writable.
    write(&d.join("status"), &status(200, 200));
    wait_for("writable once caught up", 3, || ro(&d) == "0");
    // Holding the VIP again, it no longer refuses connections to it (the health check
    // may have drained it when this node's server hung a moment ago).
    wait_for("the draining set flushed on MASTER", 3, || {
        fs::read_to_string(d.join("nft.log"))
            .unwrap_or_default()
            .contains("flush set ip mhactl draining")
    });
    // BACKUP fences at once, even while the VIP is still on the interface.
    line(&mut a, "BACKUP");
    wait_for("fenced on BACKUP", 2, || ro(&d) == "1");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ro(&d), "1", "unfenced again after BACKUP");
    // MASTER again; then a restarted server comes up read-only: repaired.
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    write(&d.join("ro"), "1\n");
    wait_for("restarted server made writable again", 3, || ro(&d) == "0");
    // A missed event: the VIP left this node without a line. Fenced within ~1 s.
    fs::remove_file(d.join("vip")).unwrap();
    wait_for("fenced when the VIP is gone", 3, || ro(&d) == "1");
    write(&d.join("vip"), "");
    wait_for("writable when the VIP is back", 3, || ro(&d) == "0");
    // keepalived stops: the VIP is gone, then the agent gets SIGTERM and fences before
    // exiting (whether its trap or its last reconciliation sees it first).
    fs::remove_file(d.join("vip")).unwrap();
    terminate(&mut a);
    assert_eq!(ro(&d), "1", "not fenced on SIGTERM");
    let log = fs::read_to_string(d.join("log")).unwrap();
    assert!(
        log.lines()
            .all(|l| l.starts_with("SET GLOBAL read_only = ")),
        "{log}"
    );
}

/// The agent's takeover record as (field, value) pairs.
fn takeover(dir: &Path) -> Vec<(String, String)> {
    fs::read_to_string(dir.join("takeover"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn a_takeover_records_its_backlog_and_when_the_holder_became_writable() {
    let mut a = start("takeover");
    let d = a.dir.clone();
    wait_for("fenced at start", 3, || ro(&d) == "1");
    assert!(takeover(&d).is_empty(), "a record without a takeover");
    // The new VIP holder is 4096 bytes behind: recorded as waiting, still read-only.
    write(&d.join("status"), &status(5096, 1000));
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("takeover recorded", 3, || !takeover(&d).is_empty());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ro(&d), "1", "writable before the SQL thread caught up");
    let waiting = takeover(&d);
    assert_eq!(waiting[0].0, "vip");
    assert_eq!(waiting[1], ("behind_bytes".into(), "4096".into()));
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    // Caught up: writable, and the record gains the time it happened (the backlog stays
    // the one seen at the takeover).
    write(&d.join("status"), &status(5096, 5096));
    wait_for("writable once caught up", 3, || ro(&d) == "0");
    wait_for("writable recorded", 2, || takeover(&d).len() == 3);
    let done = takeover(&d);
    assert_eq!(done[0], waiting[0], "the takeover's start changed");
    assert_eq!(done[1], waiting[1]);
    let vip: f64 = done[0].1.parse().unwrap();
    let writable: f64 = done[2].1.parse().unwrap();
    assert_eq!(done[2].0, "writable");
    assert!(
        writable - vip >= 0.5 && writable - vip < 5.0,
        "catch-up {:.3} s",
        writable - vip
    );
    // A holder that was writable all along (a reload's new agent) records nothing new.
    line(&mut a, "MASTER");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(takeover(&d), done);
    // Every transition is in the events log, with its time, in order.
    line(&mut a, "FAULT");
    wait_for("fenced on FAULT", 2, || ro(&d) == "1");
    let events = fs::read_to_string(d.join("events")).unwrap();
    let states: Vec<&str> = events
        .lines()
        .map(|l| l.split_once(' ').unwrap().1)
        .collect();
    assert_eq!(states, ["MASTER", "MASTER", "FAULT"], "{events}");
    let times: Vec<f64> = events
        .lines()
        .map(|l| l.split_once(' ').unwrap().0.parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{events}");
}

fn terminate(a: &mut Agent) {
    send_term(a);
    wait_exit(a);
}

fn send_term(a: &Agent) {
    let pid = a.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
}

fn wait_exit(a: &mut Agent) {
    let end = Instant::now() + Duration::from_secs(5);
    let exited = loop {
        if let Some(st) = a.child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > end {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exited.is_some(), "agent did not exit on SIGTERM");
}

#[test]
fn sigterm_while_holding_the_vip_is_a_reload_and_keeps_the_holder_writable() {
    // keepalived reloading its configuration terminates the agent and starts a new one
    // at once, the VIP staying where it is (keepalived 2.2.7, measured on the lab).
    let mut a = start("reload");
    let d = a.dir.clone();
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    terminate(&mut a);
    assert_eq!(ro(&d), "0", "the VIP holder was fenced by a reload");
}

#[test]
fn fault_and_stop_fence_too() {
    for state in ["FAULT", "STOP"] {
        let mut a = start(&state.to_ascii_lowercase());
        let d = a.dir.clone();
        write(&d.join("vip"), "");
        line(&mut a, "MASTER");
        wait_for("writable on MASTER", 3, || ro(&d) == "0");
        line(&mut a, state);
        wait_for(state, 2, || ro(&d) == "1");
    }
}

#[test]
fn a_fence_hold_keeps_even_the_vip_holder_fenced_until_it_is_removed() {
    let mut a = start("hold");
    let d = a.dir.clone();
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    // A switchover holds the fence on this node, still the VIP holder and MASTER:
    // fenced by the next reconciliation, and never unfenced while the hold exists.
    write(&d.join("hold"), "");
    wait_for("fenced under the hold", 3, || ro(&d) == "1");
    line(&mut a, "MASTER");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(ro(&d), "1", "unfenced while the fence hold exists");
    // The switchover made it writable itself (its rollback): fenced again at once.
    write(&d.join("ro"), "0\n");
    wait_for("re-fenced under the hold", 3, || ro(&d) == "1");
    // The hold is gone and it still holds the VIP: writable again.
    fs::remove_file(d.join("hold")).unwrap();
    wait_for("writable once the hold is removed", 3, || ro(&d) == "0");
}

#[test]
fn mysql_agent_uses_super_read_only() {
    let inv = fixture_inventory("good.yaml");
    let script = render_fence_agent(
        &inv,
        &Dialect::from_version_string("8.4.3").unwrap(),
        "/etc/mysql/mhactl-fence.cnf",
    )
    .unwrap();
    assert!(
        script.contains("sql 'SET GLOBAL super_read_only = ON'"),
        "{script}"
    );
    assert!(script.contains("SHOW REPLICA STATUS"), "{script}");
    assert!(script.contains("--defaults-extra-file=/etc/mysql/mhactl-fence.cnf"));
    assert!(render_fence_agent(
        &inv,
        &Dialect::from_version_string("8.4.3").unwrap(),
        "/x y"
    )
    .is_err());
}

/// A VIP holder whose server hangs: keepalived says FAULT while the server answers
/// nothing, so the fence fails. The agent keeps asking every 0.1 s (not once a second),
/// so a server that resumes (writable, as it was) is fenced as soon as it answers.
#[test]
fn a_server_that_resumes_after_a_hang_is_fenced_at_once() {
    let mut a = start("resume");
    let d = a.dir.clone();
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    write(&d.join("down"), "");
    fs::remove_file(d.join("vip")).unwrap();
    line(&mut a, "FAULT");
    // The fake client notes each question it could not answer: count them over a second
    // once the FAULT line's own attempts are over.
    let asked = || fs::read_to_string(d.join("down")).unwrap().lines().count();
    std::thread::sleep(Duration::from_millis(500));
    let before = asked();
    std::thread::sleep(Duration::from_millis(1000));
    let in_a_second = asked() - before;
    assert_eq!(ro(&d), "0", "the fake server answered while down");
    assert!(
        in_a_second >= 4,
        "asked {in_a_second} times in a second while the server did not answer (once before)"
    );
    fs::remove_file(d.join("down")).unwrap();
    wait_for("fenced once the server answers", 3, || ro(&d) == "1");
    terminate(&mut a);
}

/// keepalived stopping terminates the agent while the VIP is still on the node and drops
/// the VIP a moment later: the agent fences on its way out (before, it took the signal
/// for a reload and left the old holder writable).
#[test]
fn sigterm_just_before_the_vip_goes_fences() {
    let mut a = start("stopping");
    let d = a.dir.clone();
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    send_term(&a);
    std::thread::sleep(Duration::from_millis(200));
    fs::remove_file(d.join("vip")).unwrap();
    wait_for("fenced after the VIP went", 3, || ro(&d) == "1");
    wait_exit(&mut a);
}

/// A planned switchover: keepalived adds the VIP, then writes MASTER to the FIFO, and the
/// switchover unfences the new holder at once. An agent inside its read-only query at
/// that moment (MySQL's client takes ~0.2 s) saw a writable VIP holder while its last
/// line still said BACKUP and fenced it: CI's switchover canary then failed with 1290.
/// It reads the lines waiting in the FIFO before fencing a writable VIP holder.
#[test]
fn a_writable_holder_is_not_fenced_on_a_stale_backup_line() {
    let mut a = start("stale");
    let d = a.dir.clone();
    line(&mut a, "BACKUP");
    wait_for("fenced on BACKUP", 3, || ro(&d) == "1");
    std::thread::sleep(Duration::from_millis(300));
    let fences = || {
        let log = fs::read_to_string(d.join("log")).unwrap();
        log.lines().filter(|l| l.ends_with("= ON")).count()
    };
    let before = fences();
    let fifo = d.join("fifo");
    write(
        &d.join("on_ro_read"),
        &format!(
            "touch {vip}; echo 0 > {ro}; echo 'INSTANCE \"VI_shop-db\" MASTER 100' > {fifo}\n",
            vip = d.join("vip").display(),
            ro = d.join("ro").display(),
            fifo = fifo.display()
        ),
    );
    wait_for("the hook ran", 3, || !d.join("on_ro_read").exists());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ro(&d), "0", "the new VIP holder ended read-only");
    let log = fs::read_to_string(d.join("log")).unwrap();
    assert_eq!(fences(), before, "fenced on a stale BACKUP line:\n{log}");
}

fn log(dir: &Path) -> String {
    fs::read_to_string(dir.join("log")).unwrap_or_default()
}

/// Semi-sync's source side follows the VIP. A new holder whose peer answers turns it on
/// (with its unfence when the verdict is ready by then); one whose peer does not answer
/// kills that replica's dump thread, becomes writable without it (no commit waits for a
/// peer that is gone) and turns it on once the thread is gone and the peer answers again.
/// The passive node turns it off a moment after its fence.
#[test]
fn semi_sync_source_side_follows_the_vip() {
    let mut a = start("semisync");
    let d = a.dir.clone();
    wait_for("fenced at start", 3, || ro(&d) == "1");
    // A takeover while the peer answers: on, with the unfence.
    write(&d.join("dumps"), "7\t10.0.0.12:40000\n");
    write(&d.join("peer_up"), "");
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable", 3, || ro(&d) == "0");
    // With the unfence when the verdict was ready by then, or a moment after it.
    wait_for("source side on", 3, || {
        log(&d).contains("SET GLOBAL rpl_semi_sync_master_enabled = ON")
    });
    assert!(!log(&d).contains("KILL"), "{}", log(&d));
    // Passive: off a moment after the fence.
    line(&mut a, "BACKUP");
    wait_for("fenced on BACKUP", 2, || ro(&d) == "1");
    wait_for("source side off on the passive node", 4, || {
        log(&d).contains("SET GLOBAL rpl_semi_sync_master_enabled = OFF")
    });
    // A takeover while the peer does not answer: its dump thread killed, writable at
    // once, the source side still off.
    write(&d.join("log"), "");
    fs::remove_file(d.join("peer_up")).unwrap();
    line(&mut a, "MASTER");
    wait_for("writable", 3, || ro(&d) == "0");
    assert!(log(&d).contains("KILL CONNECTION 7"), "{}", log(&d));
    assert!(
        log(&d).contains("SET GLOBAL read_only = OFF"),
        "{}",
        log(&d)
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !log(&d).contains("rpl_semi_sync_master_enabled = ON"),
        "on while the peer's dead replica was still counted: {}",
        log(&d)
    );
    // The killed thread is gone, the peer's replica is back: on.
    write(&d.join("dumps"), "9\t10.0.0.12:40002\n");
    write(&d.join("peer_up"), "");
    wait_for("source side on once the peer is back", 4, || {
        log(&d).contains("SET GLOBAL rpl_semi_sync_master_enabled = ON")
    });
    assert_eq!(log(&d).matches("KILL CONNECTION").count(), 1, "{}", log(&d));
}

/// Every rendering of the agent is a valid bash script (`bash -n`): with semi-sync on
/// and off, for both flavors. A template's whitespace control once glued a `}` to the
/// next comment when semi-sync was off, and keepalived could not run the agent at all.
#[test]
fn every_rendering_is_valid_bash() {
    for version in ["10.11.18-MariaDB-0+deb12u1", "9.7.4"] {
        let dialect = Dialect::from_version_string(version).unwrap();
        for semi_sync in [true, false] {
            let mut inv = fixture_inventory("good.yaml");
            inv.mysql.semi_sync = semi_sync;
            let script = render_fence_agent(&inv, &dialect, "/etc/mysql/mhactl-fence.cnf").unwrap();
            assert_eq!(
                script.contains("ss_holder"),
                semi_sync,
                "{version} {semi_sync}"
            );
            let out = Command::new("bash")
                .arg("-n")
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{version}, semi_sync {semi_sync}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Issue 17's tickle ACKs: while it does not hold the VIP the agent keeps the peer's TCP
/// clients (not its replication, not its own poll, not socket clients); taking the VIP
/// over from BACKUP it hands them to the tickle script once, with the VIP and the port.
#[test]
fn a_takeover_tickles_the_clients_the_peer_had() {
    let mut a = start("tickle");
    let d = a.dir.clone();
    write(
        &d.join("processlist"),
        "10.0.0.5:41000\tQuery\t0\n\
         192.168.50.11:50000\tBinlog Dump GTID\t0\n\
         localhost\tSleep\t0\n\
         192.168.50.11:3333\tQuery\t1\n\
         ::ffff:10.0.0.6:42000\tSleep\t0\n\
         \tDaemon\t0\n\
         app.example:43000\tSleep\t0\n",
    );
    write(&d.join("clients.cnf"), "[client]\n");
    let clients = || fs::read_to_string(d.join("clients")).unwrap_or_default();
    wait_for("the peer's clients listed", 4, || !clients().is_empty());
    assert_eq!(clients(), "10.0.0.5 41000\n10.0.0.6 42000\n");
    line(&mut a, "BACKUP");
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    let tickled = || fs::read_to_string(d.join("tickled")).unwrap_or_default();
    wait_for("tickled on the takeover", 3, || {
        tickled().lines().count() == 3
    });
    assert_eq!(
        tickled(),
        "args 192.168.50.100 3306\n10.0.0.5 41000\n10.0.0.6 42000\n"
    );
    let record = || fs::read_to_string(d.join("tickle-last")).unwrap_or_default();
    wait_for("the tickle recorded", 2, || !record().is_empty());
    let r = record();
    let fields: Vec<&str> = r.splitn(3, ' ').collect();
    assert_eq!(fields[2], "2 connections, 4 segments\n", "{r}");
    let (start, end): (f64, f64) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
    assert!(start <= end, "{r}");
    // Holding the VIP, it polls no more; a MASTER line again tickles nobody.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!d.join("clients").exists(), "polled while holding the VIP");
    line(&mut a, "MASTER");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(tickled().lines().count(), 3, "{}", tickled());
}

/// An agent started while its node holds the VIP (keepalived reloaded) tickles nobody on
/// its first MASTER line: nothing was taken over.
#[test]
fn an_agent_restarted_on_the_vip_holder_tickles_nobody() {
    let dir = std::env::temp_dir().join(format!("mhactl-fence-reload-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    write(&dir.join("vip"), "");
    write(&dir.join("clients"), "10.0.0.5 41000\n");
    let mut a = start_in(dir);
    let d = a.dir.clone();
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!d.join("tickled").exists(), "tickled after a reload");
}
