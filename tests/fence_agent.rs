//! The write fence agent (templates/fence-agent.sh.tera) run for real with bash against
//! a fake client, a fake `ip` and a real FIFO: ordered keepalived lines, the catch-up
//! wait, the 1 s reconciliation against the truth, and fencing on termination.

#[path = "common/fence_agent_harness.rs"]
mod harness;
#[path = "common/render_inventory.rs"]
mod render_inventory;
use harness::*;

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

/// keepalived writes `MASTER_RX_LOWER_PRI` to the FIFO when the MASTER receives a lower
/// priority's advert (a loaded peer that missed adverts): not a state. The VIP holder
/// stays writable; a real state after it still counts.
#[test]
fn a_lower_priority_advert_does_not_fence_the_vip_holder() {
    let mut a = start("rxlower");
    let d = a.dir.clone();
    write(&d.join("vip"), "");
    line(&mut a, "MASTER");
    wait_for("writable on MASTER", 3, || ro(&d) == "0");
    line(&mut a, "MASTER_RX_LOWER_PRI");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        ro(&d),
        "0",
        "the VIP holder was fenced by MASTER_RX_LOWER_PRI"
    );
    line(&mut a, "DELETED");
    wait_for("fenced when the instance is deleted", 3, || ro(&d) == "1");
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

/// The reconciliation asks its question every second through one long-lived client, not
/// a client process per question (each cost 8 ms of CPU on every node, every second). A
/// client that ends (its session killed) is replaced; meanwhile the question goes
/// through a one-off client, so the node is still reconciled.
#[test]
fn the_reconciliation_keeps_one_client_and_replaces_it_when_it_ends() {
    let mut a = start("one-client");
    let d = a.dir.clone();
    line(&mut a, "BACKUP");
    wait_for("fenced on BACKUP", 3, || ro(&d) == "1");
    let starts = || {
        fs::read_to_string(d.join("client-starts"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(), 1, "a new client for each reconciliation");
    let pid = fs::read_to_string(d.join("client-pid")).unwrap();
    assert!(Command::new("kill")
        .arg(pid.trim())
        .status()
        .unwrap()
        .success());
    // Unfenced behind the agent's back: the next reconciliation fences again.
    write(&d.join("ro"), "0\n");
    wait_for("fenced again after the client ended", 3, || ro(&d) == "1");
    wait_for("a new long-lived client", 3, || starts() == 2);
    terminate(&mut a);
}
