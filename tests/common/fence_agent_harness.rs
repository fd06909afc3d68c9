//! The fence agent's test harness (tests/fence_agent.rs, tests/fence_agent_takeover.rs):
//! the agent rendered from the shop inventory, run for real with bash against a fake
//! client, fake `ip`, `nft`, `mariadb-admin` and tickle script and a real FIFO, every
//! path it writes moved into the test's own directory.
#![allow(dead_code)]

pub use mhactl::dialect::Dialect;
pub use mhactl::render::render_fence_agent;
pub use std::fs;
pub use std::io::Write;
pub use std::path::{Path, PathBuf};
pub use std::process::{Child, Command};
pub use std::time::{Duration, Instant};

pub use crate::render_inventory::fixture_inventory;

pub const FAKE_CLIENT: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
ARGS=" $* "
answer() {
q=$1
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
        case "$ARGS" in
            *" -N "*) sed 's/^ *[A-Za-z_]*: //' "$D/status" ;;
            *" --vertical "*) cat "$D/status" ;;
            *) echo "fake client: status without --vertical" >&2; exit 1 ;;
        esac ;;
    "SELECT HOST, COMMAND, ID = CONNECTION_ID() FROM information_schema.PROCESSLIST")
        # The peer's client list, as a test left it (the real client prints tabs).
        case "$ARGS" in
            *"clients.cnf"*) cat "$D/processlist" ;;
            *) echo "fake client: client list without the peer's option file" >&2; exit 1 ;;
        esac ;;
    *) echo "fake client: no rule for $q" >&2; exit 1 ;;
esac
}
case "$ARGS" in
    *" -e "*) for a in "$@"; do q=$a; done; answer "$q" ;;
    *)
        # A long-lived client (the agent's reconciliation): a statement per line on
        # stdin; like the real one in batch mode, it ends at the first error. Each start
        # is noted in $D/client-starts, its pid in $D/client-pid.
        echo started >> "$D/client-starts"
        echo $$ > "$D/client-pid"
        [ -e "$D/down" ] && { echo "(long-lived client)" >> "$D/down"; echo "ERROR 2002 (HY000): Can't connect to local server" >&2; exit 1; }
        while IFS= read -r line; do
            case "$line" in
                "SELECT 'mhactl-end';") echo mhactl-end ;;
                *) answer "${line%;}" ;;
            esac
        done ;;
esac
"#;

/// Stands in for the tickle script: notes its arguments and the list it was given.
pub const FAKE_TICKLE: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
{ echo "args $*"; cat; } >> "$D/tickled"
echo "2 connections, 4 segments"
"#;

pub const FAKE_IP: &str = r#"#!/bin/sh
D=$(dirname "$0")/..
echo "1: lo    inet 127.0.0.1/8 scope host lo"
[ -e "$D/vip" ] && echo "2: eth0    inet 192.168.50.100/24 scope global secondary eth0"
exit 0
"#;

pub fn status(read: u64, exec: u64) -> String {
    format!(
        "*************************** 1. row ***************************\n\
         \x20             Master_Log_File: mysql-bin.000002\n\
         \x20         Read_Master_Log_Pos: {read}\n\
         \x20       Relay_Master_Log_File: mysql-bin.000002\n\
         \x20         Exec_Master_Log_Pos: {exec}\n"
    )
}

pub struct Agent {
    pub dir: PathBuf,
    pub child: Child,
    pub fifo: fs::File,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
}

pub fn ro(dir: &Path) -> String {
    fs::read_to_string(dir.join("ro"))
        .unwrap()
        .trim()
        .to_string()
}

pub fn wait_for(what: &str, timeout_s: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(timeout_s);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout_s}s waiting for: {what}");
}

pub fn start(name: &str) -> Agent {
    let dir = std::env::temp_dir().join(format!("mhactl-fence-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    start_in(dir)
}

/// [`start`] in a directory a test prepared (files the agent finds as it starts).
pub fn start_in(dir: PathBuf) -> Agent {
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

pub fn line(a: &mut Agent, state: &str) {
    writeln!(a.fifo, "INSTANCE \"VI_shop-db\" {state} 100").unwrap();
}
