//! Signals to mhactl's own child processes on the control host (a fleet run forwards
//! SIGINT/SIGTERM to the per-cluster runs it started, so each undoes what it injected).

/// Send `signal` (`INT`, `TERM`) to local process `pid`; best effort (it may have ended).
pub fn signal_local_process(pid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}
