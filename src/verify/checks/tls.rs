//! TLS for replication (issue 19): `replication-tls` (this node's replica connects to
//! its peer over TLS and verifies the peer's certificate against the cluster CA, and the
//! account this node holds for its peer requires TLS, so the peer's replica cannot log in
//! without it) and `tls-certificate` (the server runs mhactl's certificate, which does
//! not expire within 30 days).
//!
//! Together on both nodes, `replication-tls` proves both channels encrypted: a running
//! IO thread logged in as an account that refuses logins without TLS.

use crate::dialect::{quote_account, ReplicaTls};
use crate::facts;
use crate::os::tls::{tls_path, CA_FILE, CERT_FILE};
use crate::verify::registry::{CheckKind, Fact, Run, Scope, SqlCtx, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `replication-tls`.
pub const REPLICATION_TLS: CheckKind = CheckKind {
    name: "replication-tls",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus, Fact::Accounts],
    when: When::Always,
    run: Run::Sql {
        check: |c| replication_tls(c).transpose(),
        listed_when_sql_down: true,
    },
};

/// `tls-certificate`.
pub const TLS_CERTIFICATE: CheckKind = CheckKind {
    name: "tls-certificate",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::RenderedFile, Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| c.host.inv.tls.enabled.then(|| certificate(c)),
        listed_when_sql_down: true,
    },
};

/// `None` without a replica (`replication-threads` says so).
fn replication_tls(c: &SqlCtx) -> Result<Option<Check>> {
    let (node, inv, i) = (c.host.node, c.host.inv, c.host.i);
    let n = node.name.as_str();
    let peer = &inv.peer(i).name;
    let user = &inv.mysql.replication_user;
    let host = inv.peer(i).address.to_string();
    let account = quote_account(user, &host);
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
    let Some(tls) = ReplicaTls::from_rows(&state.rows)? else {
        return Ok(None);
    };
    let ssl_type = facts::tls::account_ssl_type(node, user, &host)?.unwrap_or_default();
    if !inv.tls.enabled {
        return Ok(Some(REPLICATION_TLS.pass(
            n,
            format!(
                "off (tls.enabled: false): replication from {peer} crosses the network in clear \
                 text, rows and all"
            ),
        )));
    }
    let ca = tls_path(c.host.target, CA_FILE);
    let mut problems = Vec::new();
    if !tls.ssl {
        problems.push(format!("the replica connects to {peer} without TLS"));
    }
    if !tls.verify || tls.ca_file != ca {
        problems.push(format!(
            "the replica does not verify {peer}'s certificate against {ca} \
             (verify server cert: {}, CA file: {:?})",
            if tls.verify { "Yes" } else { "No" },
            tls.ca_file
        ));
    }
    if !ssl_type.eq_ignore_ascii_case("ANY") {
        problems.push(format!(
            "{account} does not require TLS (ssl_type {ssl_type:?}): {peer}'s replica could \
             log in without it"
        ));
    }
    let io_running = state
        .status
        .as_ref()
        .ok()
        .and_then(|s| s.as_ref())
        .is_some_and(|s| s.io_running);
    Ok(Some(if problems.is_empty() {
        REPLICATION_TLS.pass(
            n,
            format!(
                "replicates from {peer} over TLS ({}), {peer}'s certificate verified against {ca}; \
                 {account} requires TLS",
                if io_running {
                    "connected"
                } else {
                    "IO thread not running: see replication-threads"
                }
            ),
        )
    } else {
        REPLICATION_TLS.fail(n, format!("{} (bootstrap sets it up)", problems.join("; ")))
    }))
}

fn certificate(c: &SqlCtx) -> Result<Check> {
    let node = c.host.node;
    let n = node.name.as_str();
    let want = tls_path(c.host.target, CERT_FILE);
    let cert = facts::variable(node, "ssl_cert")?.unwrap_or_default();
    if cert != want {
        return Ok(TLS_CERTIFICATE.fail(
            n,
            format!(
                "the server runs with ssl_cert {cert:?}, not {want}: restart pending or an \
                 option file overrides mhactl's (bootstrap restarts it)"
            ),
        ));
    }
    let Some(pem) = facts::host::rendered_file(node, &want)? else {
        return Ok(TLS_CERTIFICATE.fail(n, format!("{want} is missing")));
    };
    let not_after = match crate::tls::not_after(&pem) {
        Ok(t) => t,
        Err(e) => return Ok(TLS_CERTIFICATE.fail(n, format!("{want}: {e:#}"))),
    };
    // The control host's clock (clock-skew compares the nodes').
    let days = (not_after - time::OffsetDateTime::now_utc()).whole_days();
    let not_after = not_after.date();
    let warn_days = crate::tls::EXPIRY_WARNING_DAYS;
    Ok(if days < 0 {
        TLS_CERTIFICATE.fail(
            n,
            format!("{want} expired on {not_after}: replicas refuse the server"),
        )
    } else if days < warn_days {
        TLS_CERTIFICATE.warn(
            n,
            format!(
                "{want} expires on {not_after}, in {days} days (warning from {warn_days}): renew it"
            ),
        )
    } else {
        TLS_CERTIFICATE.pass(n, format!("{want}, valid until {not_after} ({days} days)"))
    })
}
