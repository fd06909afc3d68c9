//! The fence agent on a takeover (issue 17, tests/common/fence_agent_harness.rs): semi-sync's
//! source side following the VIP, the tickle of the old holder's clients, and every
//! rendering of the agent being valid bash.

#[path = "common/fence_agent_harness.rs"]
mod harness;
#[path = "common/render_inventory.rs"]
mod render_inventory;
use harness::*;

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
