//! The probe writer: a client that inserts numbered rows through the VIP at a steady
//! rate, reconnecting as a real application would, and records every acknowledged write.

use mysql::prelude::Queryable;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the writer saw.
#[derive(Debug, Default, Clone)]
pub struct WriteLog {
    /// (sequence number, seconds since the writer started) of each acknowledged insert.
    pub acked: Vec<(u64, f64)>,
    /// Attempts that returned an error or timed out (outcome unknown to the client).
    pub failed: usize,
    /// The last error, for messages.
    pub last_error: Option<String>,
    /// Seconds since start when the writer stopped.
    pub stopped_at: f64,
}

/// A running writer thread.
pub struct Writer {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<WriteLog>>,
    started: Instant,
    handle: JoinHandle<()>,
}

impl Writer {
    /// Start writing to `host:port` every `interval`; with `tls_ca`, over TLS, the
    /// server's certificate verified against that CA for `host` (the node certificates
    /// name the VIP), as an application must when the servers require TLS.
    pub fn start(
        host: Ipv4Addr,
        port: u16,
        user: &str,
        password: &str,
        tls_ca: Option<&std::path::Path>,
        interval: Duration,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(WriteLog::default()));
        let started = Instant::now();
        let opts =
            mysql::OptsBuilder::new()
                .ip_or_hostname(Some(host.to_string()))
                .tcp_port(port)
                .user(Some(user))
                .pass(Some(password))
                // A loopback-looking trap does not apply here, but never silently switch to a
                // local socket: the point is to go through the VIP.
                .prefer_socket(false)
                .tcp_connect_timeout(Some(Duration::from_secs(1)))
                .read_timeout(Some(Duration::from_secs(2)))
                .write_timeout(Some(Duration::from_secs(2)))
                .ssl_opts(tls_ca.map(|ca| {
                    mysql::SslOpts::default().with_root_cert_path(Some(ca.to_path_buf()))
                }));
        let (stop2, log2) = (Arc::clone(&stop), Arc::clone(&log));
        let handle = std::thread::spawn(move || {
            let mut conn: Option<mysql::Conn> = None;
            let mut seq = 0u64;
            // A signal stops the writer too: the probe account is about to be dropped.
            while !stop2.load(Ordering::Relaxed) && crate::interrupt::requested().is_none() {
                let tick = Instant::now();
                seq += 1;
                if conn.is_none() {
                    conn = mysql::Conn::new(opts.clone())
                        .map_err(|e| record_failure(&log2, e))
                        .ok();
                }
                if let Some(c) = conn.as_mut() {
                    let sql = crate::dialect::probe_write_sql(
                        super::PROBE_DB,
                        seq,
                        started.elapsed().as_millis(),
                    );
                    match c.query_drop(sql) {
                        Ok(()) => {
                            let t = started.elapsed().as_secs_f64();
                            log2.lock().expect("log").acked.push((seq, t));
                        }
                        Err(e) => {
                            record_failure(&log2, e);
                            conn = None; // reconnect, as an application's pool would
                        }
                    }
                }
                if let Some(rest) = interval.checked_sub(tick.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
            log2.lock().expect("log").stopped_at = started.elapsed().as_secs_f64();
        });
        Writer {
            stop,
            log,
            started,
            handle,
        }
    }

    /// Seconds since the writer started.
    pub fn now_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Acknowledged writes so far.
    pub fn acked_count(&self) -> usize {
        self.log.lock().map(|l| l.acked.len()).unwrap_or(0)
    }

    /// The last error seen.
    pub fn last_error(&self) -> Option<String> {
        self.log.lock().ok().and_then(|l| l.last_error.clone())
    }

    /// Stop and return the log.
    pub fn stop(self) -> WriteLog {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn record_failure(log: &Mutex<WriteLog>, e: mysql::Error) {
    if let Ok(mut l) = log.lock() {
        l.failed += 1;
        l.last_error = Some(crate::sql_error::SqlError(e).to_string());
    }
}

/// The longest interval without an acknowledged write, from the last acknowledged write
/// before the fault to the end (a writer that never recovered counts until it stopped).
pub fn longest_gap(log: &WriteLog, fault_at: f64) -> f64 {
    let mut times: Vec<f64> = log.acked.iter().map(|(_, t)| *t).collect();
    times.sort_by(f64::total_cmp);
    let start = times
        .iter()
        .rev()
        .find(|t| **t <= fault_at)
        .copied()
        .unwrap_or(fault_at);
    let mut points: Vec<f64> = vec![start];
    points.extend(times.into_iter().filter(|t| *t > start));
    points.push(log.stopped_at.max(start));
    points.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

pub use crate::accounts::random_password;

#[cfg(test)]
mod tests {
    use super::*;

    fn log(times: &[f64], stopped_at: f64) -> WriteLog {
        WriteLog {
            acked: times
                .iter()
                .enumerate()
                .map(|(i, t)| (i as u64 + 1, *t))
                .collect(),
            stopped_at,
            ..Default::default()
        }
    }

    #[test]
    fn probe_passwords_meet_validate_password_strong() {
        let pw = random_password().unwrap();
        assert!(pw.len() >= 8, "{pw}");
        assert!(pw.chars().any(|c| c.is_ascii_uppercase()), "{pw}");
        assert!(pw.chars().any(|c| c.is_ascii_lowercase()), "{pw}");
        assert!(pw.chars().any(|c| c.is_ascii_digit()), "{pw}");
        assert!(pw.chars().any(|c| !c.is_ascii_alphanumeric()), "{pw}");
        assert_ne!(pw, random_password().unwrap());
    }

    #[test]
    fn gap_spans_the_fault() {
        let l = log(&[0.0, 0.1, 0.2, 3.2, 3.3], 3.4);
        assert!((longest_gap(&l, 0.25) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn writer_that_never_recovers_counts_until_it_stopped() {
        let l = log(&[0.0, 0.1], 10.0);
        assert!((longest_gap(&l, 0.15) - 9.9).abs() < 1e-9);
    }
}
