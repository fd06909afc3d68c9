//! End-to-end on the lab (issue 19, optional item): `mysql.require_secure_transport:
//! true`. A new pair bootstraps with it; a plain TCP login of an application account
//! through the VIP is refused and a TLS login (verified against the cluster CA) works;
//! verify and failover-test (its writer through the VIP over TLS) still pass.

use crate::support::{failover_test_json_for, mhactl_json, Lab, Scenario};

const APP: &str = "e2e_tls_app";
const APP_PW: &str = "e2e-Tls-app-7";

fn a_pair_that_requires_tls_refuses_plain_tcp_logins_and_still_fails_over(lab: Lab) {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    assert!(text.contains("\nmysql:\n"), "{text}");
    std::fs::write(
        &inv,
        text.replacen(
            "\nmysql:\n",
            "\nmysql:\n  require_secure_transport: true\n",
            1,
        ),
    )
    .unwrap();
    lab.bootstrap_ok();
    for node in ["node-a", "node-b"] {
        assert_eq!(
            lab.sql(node, "SELECT @@GLOBAL.require_secure_transport")
                .trim(),
            "1"
        );
    }
    lab.sql(
        "node-a",
        &format!("CREATE USER '{APP}'@'%' IDENTIFIED BY '{APP_PW}'"),
    );
    let vip = lab.addr(100);
    let login = |tls: &str| {
        lab.ssh(
            "node-b",
            &format!(
                "mysql --no-defaults {tls} --host={vip} --user={APP} --password={APP_PW} \
                 -N -B -e \"SHOW STATUS LIKE 'Ssl_cipher'\" 2>&1"
            ),
        )
    };
    let plain = login("--skip-ssl");
    let said = String::from_utf8_lossy(&plain.stdout);
    assert!(
        !plain.status.success() && said.contains("ERROR"),
        "a plain TCP login through the VIP was not refused: {said}"
    );
    let tls = login("--ssl-ca=/etc/mysql/mhactl-tls/ca.pem");
    let said = String::from_utf8_lossy(&tls.stdout);
    assert!(
        tls.status.success() && said.contains("TLS"),
        "a TLS login through the VIP failed: {said}"
    );

    let (out, report) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    assert!(out.status.success(), "{report:#}");
    let (out, report) = failover_test_json_for(&lab, "stop-mysqld", 8);
    assert!(
        out.status.success() && report["writes_lost"] == 0,
        "{report:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (out, report) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    assert!(out.status.success(), "{report:#}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        a_pair_that_requires_tls_refuses_plain_tcp_logins_and_still_fails_over
    )]
}
