//! The arbiter check (`vip.arbiter`): the probe keepalived's `chk_arbiter` runs (a
//! `ping` of the arbiter and of the peer at once), its timers, and the arithmetic that
//! says a cut-off VIP holder gives the VIP up before its peer's master-down timer can
//! expire (docs/failover.md, "Split brain").

/// `chk_arbiter`'s `interval` (seconds between runs; keepalived takes whole seconds).
pub const INTERVAL_S: u32 = 1;
/// `chk_arbiter`'s `timeout`: keepalived kills a run after this long (a run takes at
/// most [`probe_fail_s`]).
pub const TIMEOUT_S: u32 = 2;
/// One failed run puts the node in FAULT: a second one would come after the peer took
/// the VIP (see [`worst_detection_s`]). One run is several echo requests, so a single
/// lost packet does not fail it.
pub const FALL: u32 = 1;
/// Two good runs in a row before a node leaves FAULT, so a flapping link does not make
/// it flap between BACKUP and FAULT.
pub const RISE: u32 = 2;

/// Echo requests per target and run; the run passes when any one is answered.
const PROBES: u32 = 2;
/// Seconds between a run's echo requests (0.2 s is the smallest iputils allows every user).
const PROBE_GAP_S: f64 = 0.2;
/// Seconds ping waits for an answer after its last request when none came (iputils'
/// `-W`; whole seconds, which every iputils since EL7 accepts).
const WAIT_S: u32 = 1;

/// The ping command line keepalived's check runs against one address (the address
/// follows as the last word). Numeric output only (`-n`: no DNS lookup that could hang).
pub fn ping_command() -> String {
    format!("ping -n -q -c {PROBES} -i {PROBE_GAP_S} -W {WAIT_S}")
}

/// Seconds a failing run takes: the requests go out over `(PROBES - 1) × gap`, then
/// ping waits `-W` for an answer. The arbiter and the peer are probed at once.
pub fn probe_fail_s() -> f64 {
    f64::from(PROBES - 1) * PROBE_GAP_S + f64::from(WAIT_S)
}

/// The longest time from a cut to FAULT: the cut comes just after a run passed, the
/// next starts `interval` later and fails after [`probe_fail_s`]; `fall` such runs.
pub fn worst_detection_s() -> f64 {
    f64::from(FALL) * (f64::from(INTERVAL_S) + probe_fail_s())
}

/// The earliest a BACKUP whose priority is `peer_priority` takes the VIP after the
/// holder is cut off: keepalived's master-down interval is `3 × advert_int + skew`
/// with `skew = (256 − priority) / 256 × advert_int`, counted from the last
/// advertisement received, which can be up to one `advert_int` before the cut.
pub fn earliest_takeover_s(advert_int_s: u8, peer_priority: u8) -> f64 {
    let a = f64::from(advert_int_s);
    let skew = (256.0 - f64::from(peer_priority)) / 256.0 * a;
    3.0 * a + skew - a
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
    fn the_cut_off_holder_gives_up_the_vip_before_the_peer_takes_it() {
        assert_eq!(ping_command(), "ping -n -q -c 2 -i 0.2 -W 1");
        assert!((probe_fail_s() - 1.2).abs() < 1e-9);
        assert!(probe_fail_s() < f64::from(TIMEOUT_S));
        assert!((worst_detection_s() - 2.2).abs() < 1e-9);
        // The defaults (priorities 100/90, advert_int 1): 2.61 s and 2.65 s.
        for peer_priority in [100, 90] {
            assert!(worst_detection_s() < earliest_takeover_s(1, peer_priority));
        }
        assert!((earliest_takeover_s(1, 100) - 2.609_375).abs() < 1e-9);
        // A peer with priority 254 could take over after 2.01 s: documented limit.
        assert!(worst_detection_s() > earliest_takeover_s(1, 254));
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
