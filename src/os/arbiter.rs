//! The arbiter check (`vip.arbiter`): the probe keepalived's `chk_arbiter` runs (echo
//! requests to the arbiter and to the peer at once, polled for most of each second),
//! its keepalived settings, and verify's one-off reach probe. Its timings derive from
//! `vip.detection` in [`crate::os::detection`], whose unit test holds the invariant that
//! a cut-off VIP holder gives the VIP up before its peer's master-down timer can expire
//! (docs/failover.md, "Split brain" and "Detection timers").

/// `chk_arbiter`'s `interval` (seconds between runs; keepalived before 2.3.2 takes
/// whole seconds): each run polls for most of it ([`crate::os::detection`]).
pub const INTERVAL_S: u32 = crate::os::detection::CHECK_INTERVAL_S;
/// `chk_arbiter`'s `timeout`: a run ends within its interval, this only catches a stuck one.
pub const TIMEOUT_S: u32 = crate::os::detection::CHECK_TIMEOUT_S;
/// One failed run puts the node in FAULT: the run itself already waited for
/// [`crate::os::detection::Timers::arbiter_silence_ms`] without any answer.
pub const FALL: u32 = 1;
/// Two good runs in a row before a node leaves FAULT, so a flapping link does not make
/// it flap between BACKUP and FAULT.
pub const RISE: u32 = 2;

/// Echo requests per target in verify's one-off probe; it passes when any one is answered.
const PROBES: u32 = 2;
/// Seconds between its echo requests (0.2 s is the smallest iputils allows every user).
const PROBE_GAP_S: f64 = 0.2;
/// Seconds ping waits for an answer after its last request when none came (iputils'
/// `-W`; whole seconds, which every iputils since EL7 accepts).
const WAIT_S: u32 = 1;

/// verify's one-off probe of one address (the address follows as the last word).
/// Numeric output only (`-n`: no DNS lookup that could hang).
pub fn ping_command() -> String {
    format!("ping -n -q -c {PROBES} -i {PROBE_GAP_S} -W {WAIT_S}")
}

/// keepalived's probe of one target (the address follows as the last word): echo
/// requests every [`crate::os::detection::ARBITER_REQUEST_GAP_MS`] until the run's window
/// (`window_ms`) ends, one line per answer and, with `-O`, a `no answer yet` line for each
/// request unanswered when the next is sent (without it ping prints nothing at all, not
/// even its header, which stdio holds back until the first answer). One process per
/// target and run, not one per request: the probe runs every second on every node (`-i`
/// below 0.2 s needs root, which keepalived's scripts are; `timeout(1)` takes fractions
/// of a second).
pub fn stream_command(window_ms: u32) -> String {
    use crate::os::detection::{seconds_text, ARBITER_REQUEST_GAP_MS};
    format!(
        "timeout {} ping -n -O -i {}",
        seconds_text(window_ms),
        seconds_text(ARBITER_REQUEST_GAP_MS)
    )
}

/// What verify's `arbiter` check asks a node: one run of the probe against `address`.
/// The last line is `mhactl-arbiter: no-ping` (the node has no ping) or ping's exit status.
pub fn reach_command(address: &str) -> String {
    format!(
        "if ! command -v ping >/dev/null 2>&1; then echo 'mhactl-arbiter: no-ping'; exit 0; fi; \
         {} {} >/dev/null 2>&1; echo \"mhactl-arbiter: $?\"",
        ping_command(),
        crate::transport::shell_quote(address)
    )
}

/// Whether a node reaches the arbiter ([`reach_command`]'s answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// At least one echo request was answered.
    Answers,
    /// No answer (or ping failed otherwise: its exit status).
    NoAnswer(String),
    /// The node has no `ping`: keepalived's check cannot tell it is cut off.
    NoPing,
}

/// Parses [`reach_command`]'s output.
pub fn parse_reach(out: &str) -> Reach {
    match out
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("mhactl-arbiter: "))
    {
        Some("0") => Reach::Answers,
        Some("no-ping") => Reach::NoPing,
        Some(status) => Reach::NoAnswer(format!("ping exited {status}")),
        None => Reach::NoAnswer("no answer from the probe".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes() {
        assert_eq!(ping_command(), "ping -n -q -c 2 -i 0.2 -W 1");
        let t = crate::os::detection::timers(None, None, Some(254));
        let window = crate::os::detection::Timers::window_ms(t.arbiter_poll_ms());
        assert_eq!(stream_command(window), "timeout 0.55 ping -n -O -i 0.1");
    }

    #[test]
    fn reach_answers_parse() {
        assert_eq!(parse_reach("mhactl-arbiter: 0\n"), Reach::Answers);
        assert_eq!(parse_reach("mhactl-arbiter: no-ping\n"), Reach::NoPing);
        assert_eq!(
            parse_reach("mhactl-arbiter: 1\n"),
            Reach::NoAnswer("ping exited 1".into())
        );
        assert!(reach_command("10.0.0.1").contains("ping -n -q -c 2 -i 0.2 -W 1 10.0.0.1"));
    }
}
