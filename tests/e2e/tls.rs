//! End-to-end on the lab (issue 19, item 1): replication over TLS, proven on the wire.
//!
//! A pair built with `tls.enabled: false` (an existing pair without TLS) replicates a
//! marker in clear text: a capture on the lab's bridge of the traffic between the two
//! node addresses finds it (the capture works). A re-run of bootstrap with the default
//! (TLS on) converges it without restarting the VIP holder while it holds the VIP (the
//! rolling restart hands the VIP over first; the VIP is never on both nodes); then a new
//! marker crosses the wire 0 times, a replication login without TLS is refused (1045)
//! while one with TLS and the cluster CA works, verify reports both channels over TLS and
//! the certificates valid, and the next run changes nothing.

use crate::rolling::VipWatch;
use crate::support::{changed_steps, converged_rows, mhactl_json, Lab, Scenario, UnderWriter};
use std::time::Duration;

/// Insert `marker` on the VIP holder and wait until the peer has it, while tcpdump
/// records the traffic between the two nodes' addresses on the lab's bridge; returns how
/// often the marker appears in the capture, and the packets captured.
fn marker_on_the_wire(lab: &Lab, holder: &str, marker: &str, rows: usize) -> (usize, usize) {
    let subnet = lab.subnet;
    let pcap = lab.dir.join(format!("{marker}.pcap"));
    let mut tcpdump = std::process::Command::new("tcpdump")
        .args(["-i", &format!("mhactl{subnet}br"), "-U", "-s", "0", "-w"])
        .arg(&pcap)
        .arg(format!(
            "tcp port 3306 and host 10.213.{subnet}.11 and host 10.213.{subnet}.12"
        ))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump (the lab host needs it)");
    std::thread::sleep(Duration::from_secs(2));
    lab.root_sql(
        holder,
        &format!("INSERT INTO e2etls.t (v) VALUES ('{marker}-a'), ('{marker}-b'), ('{marker}-c')"),
    );
    converged_rows(
        lab,
        "SELECT v FROM e2etls.t ORDER BY id",
        rows,
        |l, n, q| l.root_sql(n, q),
    );
    std::thread::sleep(Duration::from_secs(1));
    let _ = tcpdump.kill();
    let _ = tcpdump.wait();
    let bytes = std::fs::read(&pcap).expect("capture file");
    let count = bytes
        .windows(marker.len())
        .filter(|w| *w == marker.as_bytes())
        .count();
    // pcap: a 24-byte file header, then a 16-byte header per packet.
    let packets = count_packets(&bytes);
    (count, packets)
}

/// Packets in a pcap file (little- or big-endian headers).
fn count_packets(b: &[u8]) -> usize {
    let le = b.get(..4) == Some(&[0xd4, 0xc3, 0xb2, 0xa1]);
    let (mut at, mut n) = (24, 0);
    while at + 16 <= b.len() {
        let f = [b[at + 8], b[at + 9], b[at + 10], b[at + 11]];
        let caplen = if le {
            u32::from_le_bytes(f)
        } else {
            u32::from_be_bytes(f)
        } as usize;
        at += 16 + caplen;
        n += 1;
    }
    n
}

/// A replication login from `from` to `to`'s server, with or without TLS: the client's
/// output and exit status. The password goes through stdin into a temporary option file.
fn replication_login(lab: &Lab, from: &str, to_addr: &str, tls: bool) -> (bool, String) {
    let flags = match (lab.flavor() == "mysql", tls) {
        (true, true) => "--ssl-mode=VERIFY_CA --ssl-ca=/etc/mysql/mhactl-tls/ca.pem",
        (true, false) => "--ssl-mode=DISABLED",
        (false, true) => "--ssl --ssl-ca=/etc/mysql/mhactl-tls/ca.pem",
        (false, false) => "--skip-ssl",
    };
    let script = format!(
        "f=$(mktemp); cat > \"$f\"; \
         $(command -v mariadb || command -v mysql) --defaults-extra-file=\"$f\" -h {to_addr} \
         -P 3306 {flags} -N -e 'SELECT 1' 2>&1; rc=$?; rm -f \"$f\"; exit $rc"
    );
    let login = format!(
        "[client]\nuser=repl\npassword=\"{}\"\n",
        lab.secret("replication_password")
    );
    let out = lab.ssh_stdin(from, &script, &login);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn replication_is_encrypted_on_the_wire(lab: Lab) {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(&inv, format!("{text}tls:\n  enabled: false\n")).unwrap();
    lab.bootstrap_ok();
    let (holder, _) = lab.vip_holder();
    lab.root_sql(
        holder,
        "CREATE DATABASE e2etls; CREATE TABLE e2etls.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64))",
    );

    // TLS off: the marker crosses the wire (the capture sees replication).
    let (clear, packets) = marker_on_the_wire(&lab, holder, "E2eMarkerClear7", 3);
    eprintln!("TLS off: marker {clear} times in {packets} packets");
    assert!(clear > 0, "TLS off, yet the marker is not in the capture ({packets} packets): the capture does not see replication");

    // TLS on (the default): bootstrap converges the running pair, the VIP stays served.
    std::fs::write(&inv, &text).unwrap();
    let watch = VipWatch::start(&lab, holder);
    let (out, report) = mhactl_json(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    let (samples, wrong, holders) = watch.stop();
    assert!(
        out.status.success(),
        "bootstrap turning TLS on failed:\n{report:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let changed = changed_steps(&report);
    for node in ["node-a", "node-b"] {
        for step in ["tls-files", "server-config", "replication-tls"] {
            assert!(
                changed.contains(&format!("{node}/{step}")),
                "{node}/{step} not changed: {changed:?}"
            );
        }
    }
    let holder_config = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "server-config" && s["node"] == holder)
        .map(|s| s["detail"].to_string())
        .unwrap();
    assert!(
        holder_config.contains("switchover"),
        "the VIP holder was restarted without handing the VIP over first: {holder_config}"
    );
    assert!(samples >= 3, "only {samples} VIP samples");
    assert!(wrong.is_empty(), "VIP on both nodes: {wrong:?}");
    eprintln!("VIP holders while TLS was turned on: {holders:?}");

    // Encrypted: the new marker crosses the wire 0 times.
    let (holder, passive) = lab.vip_holder();
    let (encrypted, packets) = marker_on_the_wire(&lab, holder, "E2eMarkerTls9", 6);
    eprintln!("TLS on: marker {encrypted} times in {packets} packets");
    assert!(packets > 0, "nothing captured with TLS on");
    assert_eq!(
        encrypted, 0,
        "the marker crossed the wire in clear text with TLS on"
    );

    // The replication account refuses a login without TLS, accepts one with it.
    let holder_addr = lab.addr(if holder == "node-a" { 11 } else { 12 });
    let (ok, output) = replication_login(&lab, passive, &holder_addr, false);
    assert!(
        !ok && output.contains("1045"),
        "login without TLS not refused: {output}"
    );
    let (ok, output) = replication_login(&lab, passive, &holder_addr, true);
    assert!(
        ok && output.trim() == "1",
        "login with TLS failed: {output}"
    );

    // verify: both channels over TLS, certificates valid; the next run changes nothing.
    let (out, report) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    assert!(out.status.success(), "verify:\n{report:#}");
    for check in ["replication-tls", "tls-certificate"] {
        let ok: Vec<_> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == check && c["ok"] == true)
            .collect();
        assert_eq!(ok.len(), 2, "{check} not ok on both nodes: {report:#}");
    }
    let (out, report) = mhactl_json(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    assert!(out.status.success());
    assert!(changed_steps(&report).is_empty(), "{report:#}");
}

/// The serial of the certificate a server presents (`openssl s_client -starttls mysql`
/// from the lab host, which the application account lets in), or of a PEM file.
fn served_serial(addr: &str) -> String {
    let script = format!(
        "openssl s_client -connect {addr}:3306 -starttls mysql </dev/null 2>/dev/null \
         | openssl x509 -noout -serial"
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn file_serial(path: &std::path::Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `mhactl rotate-certs` under a writer through the VIP: every acknowledged write is on
/// both nodes, no write fails, the VIP never moves, no server restarts, and both servers
/// present their new certificates.
fn rotate_certs_under_a_writer_loses_nothing(lab: Lab) {
    crate::rolling::bootstrap_with_app_user(&lab);
    let (holder, _) = lab.vip_holder();
    lab.root_sql(
        holder,
        "CREATE DATABASE rolling; CREATE TABLE rolling.t (id INT AUTO_INCREMENT PRIMARY KEY, seq BIGINT NOT NULL)",
    );
    let addr = |n: &str| lab.addr(if n == "node-a" { 11 } else { 12 });
    let tls_dir = lab.dir.join(format!("tls-lab{}", lab.subnet));
    let before: Vec<String> = ["node-a", "node-b"]
        .iter()
        .map(|n| served_serial(&addr(n)))
        .collect();
    for (i, n) in ["node-a", "node-b"].iter().enumerate() {
        assert!(
            before[i].starts_with("serial="),
            "{n}: no certificate served: {before:?}"
        );
        assert_eq!(
            before[i],
            file_serial(&tls_dir.join(format!("{n}.pem"))),
            "{n}"
        );
    }
    let under = UnderWriter::start(&lab, holder);
    let started = std::time::Instant::now();
    let (out, report) = mhactl_json(&["-i", &lab.inventory(), "rotate-certs", "--output", "json"]);
    let took = started.elapsed();
    assert!(out.status.success(), "rotate-certs failed:\n{report:#}");
    let acked = under.finish("the rotation");
    eprintln!("rotate-certs took {took:?}; {acked} writes acknowledged through the VIP");
    for (i, n) in ["node-a", "node-b"].iter().enumerate() {
        let now = served_serial(&addr(n));
        assert_ne!(now, before[i], "{n} still presents its old certificate");
        assert_eq!(now, file_serial(&tls_dir.join(format!("{n}.pem"))), "{n}");
    }
    let (out, report) = mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]);
    assert!(
        out.status.success(),
        "verify after rotate-certs:\n{report:#}"
    );
}

fn rotate_certs_under_a_writer_loses_nothing_mysql(lab: Lab) {
    rotate_certs_under_a_writer_loses_nothing(lab)
}

fn replication_is_encrypted_on_the_wire_mysql(lab: Lab) {
    replication_is_encrypted_on_the_wire(lab)
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(replication_is_encrypted_on_the_wire),
        scenario!(replication_is_encrypted_on_the_wire_mysql).flavor("mysql"),
        scenario!(rotate_certs_under_a_writer_loses_nothing),
        scenario!(rotate_certs_under_a_writer_loses_nothing_mysql).flavor("mysql"),
    ]
}
