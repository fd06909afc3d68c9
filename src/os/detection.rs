//! How fast keepalived notices a failure, from one inventory setting (`vip.detection`):
//! the VRRP advertisement interval and version, the health check's query timeout, the
//! process watcher's and the arbiter probe's timings, and the arithmetic that ties them
//! together (docs/failover.md, "Detection timers").
//!
//! keepalived runs a `vrrp_script` at most once a second on the releases the
//! distributions ship (decimal `interval`s arrived in keepalived 2.3.2, commit
//! 6f9ace3c, 2024-10-08; Debian 12 has 2.2.7, EL9 2.2.8). So the two checks that must
//! react in well under a second, the process watcher and the arbiter probe, are
//! *long-polling* runs: each run keeps polling for most of the second and exits 1 the
//! moment it sees the failure, 0 at the end of its window; keepalived starts the next
//! run on the next whole second. The gap between two runs is the worst extra delay.

use crate::inventory::Detection;

/// keepalived's `vrrp_script` interval for every check, in seconds (its smallest on
/// the releases before 2.3.2).
pub const CHECK_INTERVAL_S: u32 = 1;
/// Seconds keepalived gives a check run before it kills it (and counts a failure): a
/// polling run ends within [`CHECK_INTERVAL_S`], a health-check run within its attempts;
/// this only catches a stuck one.
pub const CHECK_TIMEOUT_S: u32 = 3;
/// A long-polling run stops this long before the next run is due, so keepalived never
/// finds it still running (it would skip that run: one second without a check); the
/// lab's loaded nodes took up to 0.1 s more than the window and one poll.
pub const RUN_SLACK_MS: u32 = 150;
/// What the worst-case arithmetic adds for scheduling (forks, a loaded host).
pub const SCHED_SLACK_MS: u32 = 50;
/// The process watcher polls the server's listening socket this often.
pub const WATCH_POLL_MS: u32 = 100;
/// The arbiter probe's echo requests to each target go this far apart.
pub const ARBITER_REQUEST_GAP_MS: u32 = 100;
/// The health check's attempts per run: one slow answer is not a failure, two are.
pub const SQL_ATTEMPTS: u32 = 2;
/// Priority a switchover gives the node about to take the VIP (`vip-take` file): the
/// lower node's 253 becomes 254, the higher node's stays at keepalived's ceiling. The
/// arbiter invariant is kept against 254 ([`HIGHER_PRIORITY`]), so a boosted peer takes
/// over no sooner than the invariant counts (docs/failover.md, "Detection timers").
pub const BOOSTED_PRIORITY: u8 = crate::os::switchover::TAKE_BOOST;

/// keepalived priority of the node the inventory ranks higher (`nodes[].priority`).
/// Only the order of the two priorities is the inventory's: keepalived gets the two
/// highest it allows (255 is the address owner's), because a BACKUP's priority sets its
/// skew time, `(256 - priority) / 256 x advert_int`, which is its whole wait after the
/// holder's priority-0 advertisement (the holder's FAULT: a server that stopped or died).
/// No node holds the VIP meanwhile, and a client's connection attempt sent in that
/// window is answered only by TCP's SYN retransmission a second later: at priority 90
/// and `advert_int` 0.45 s the window was 0.29 s and the writer's gap 1.1 s for a 0.4 s
/// VIP move; at 253 it is 5 ms.
pub const HIGHER_PRIORITY: u8 = 254;
/// keepalived priority of the node the inventory ranks lower ([`HIGHER_PRIORITY`]).
pub const LOWER_PRIORITY: u8 = 253;

/// The keepalived priority of a node whose inventory priority is `own`, its peer's `peer`
/// (the inventory refuses equal ones).
pub fn vrrp_priority(own: u8, peer: u8) -> u8 {
    if own > peer {
        HIGHER_PRIORITY
    } else {
        LOWER_PRIORITY
    }
}

/// Every timer keepalived.conf and the check script use, derived from `vip.detection`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timers {
    /// The level these timers come from (`legacy` when `vip.advert_int_s` is set).
    pub level: &'static str,
    /// VRRP version: 3 for sub-second advertisements, 2 for whole seconds (legacy).
    pub vrrp_version: u8,
    /// Seconds between VRRP advertisements (VRRPv3: multiples of 0.01 s).
    pub advert_int_cs: u32,
    /// The health check's client timeout per attempt, in milliseconds; the same value
    /// is the server-side limit of its query.
    pub sql_timeout_ms: u32,
    /// The arbiter probe fails once neither the peer nor the arbiter answered for this long.
    pub arbiter_silence_ms: u32,
    /// How long one echo request of the arbiter probe waits for its answer.
    pub arbiter_probe_ms: u32,
    /// Successful health-check runs before a node in FAULT is eligible again.
    pub rise: u32,
}

/// The levels' own numbers (before the arbiter rule in [`timers`]).
fn level_timers(level: Detection) -> Timers {
    match level {
        Detection::Fast => Timers {
            level: "fast",
            vrrp_version: 3,
            advert_int_cs: 10,
            sql_timeout_ms: 250,
            arbiter_silence_ms: 300,
            arbiter_probe_ms: 200,
            rise: 1,
        },
        Detection::Default => Timers {
            level: "default",
            vrrp_version: 3,
            advert_int_cs: 30,
            sql_timeout_ms: 500,
            arbiter_silence_ms: 450,
            arbiter_probe_ms: 200,
            rise: 2,
        },
        Detection::Relaxed => Timers {
            level: "relaxed",
            vrrp_version: 3,
            advert_int_cs: 100,
            sql_timeout_ms: 1000,
            arbiter_silence_ms: 800,
            arbiter_probe_ms: 400,
            rise: 2,
        },
    }
}

/// The timers for `vip.detection` (`None`: `default`) or, for an inventory that still
/// sets `vip.advert_int_s` (whole seconds), the relaxed checks with that interval over
/// VRRPv2 as before. With an arbiter (`arbiter_peer_priority`: the higher of the two
/// nodes' keepalived priorities, the peer that can take over soonest) the advertisement
/// interval is raised, in 0.01 s steps (VRRPv3; whole seconds for v2), until a cut-off
/// holder provably lets the VIP go before its peer takes it ([`arbiter_margin_s`] >=
/// [`MARGIN_S`]).
pub fn timers(
    detection: Option<Detection>,
    legacy_advert_s: Option<u8>,
    arbiter_peer_priority: Option<u8>,
) -> Timers {
    let mut t = match legacy_advert_s {
        Some(s) => Timers {
            level: "legacy",
            vrrp_version: 2,
            advert_int_cs: u32::from(s.max(1)) * 100,
            ..level_timers(Detection::Relaxed)
        },
        None => level_timers(detection.unwrap_or_default()),
    };
    if let Some(p) = arbiter_peer_priority {
        while arbiter_margin_s(&t, p) < MARGIN_S {
            // VRRPv2 counts whole seconds.
            t.advert_int_cs += if t.vrrp_version == 2 { 100 } else { 1 };
        }
    }
    t
}

/// Safety margin the arbiter rule keeps between the cut-off holder's worst release
/// and the peer's earliest takeover: scheduling on a loaded host stretches the probe
/// (on the lab at a load of 45, 0.1 s was not enough: the peer took the VIP while the
/// cut-off holder still had it).
pub const MARGIN_S: f64 = 0.2;

impl Timers {
    /// The advertisement interval in seconds.
    pub fn advert_int_s(&self) -> f64 {
        f64::from(self.advert_int_cs) / 100.0
    }

    /// keepalived.conf's `advert_int` value: `0.3`, `1`.
    pub fn advert_int_text(&self) -> String {
        let cs = self.advert_int_cs;
        if cs.is_multiple_of(100) {
            (cs / 100).to_string()
        } else if cs.is_multiple_of(10) {
            format!("{}.{}", cs / 100, (cs % 100) / 10)
        } else {
            format!("{}.{:02}", cs / 100, cs % 100)
        }
    }

    /// The health check's client timeout as `timeout(1)` takes it: `0.5`.
    pub fn sql_timeout_text(&self) -> String {
        seconds_text(self.sql_timeout_ms)
    }

    /// How long a long-polling run keeps polling, in ms, when one poll (its sleep plus
    /// its probe) takes at most `poll_ms`: the run must end before the next one is due.
    pub fn window_ms(poll_ms: u32) -> u32 {
        CHECK_INTERVAL_S * 1000 - poll_ms - RUN_SLACK_MS
    }

    /// The arbiter probe's poll: the gap between two echo requests plus the wait for an
    /// answer.
    pub fn arbiter_poll_ms(&self) -> u32 {
        ARBITER_REQUEST_GAP_MS + self.arbiter_probe_ms
    }

    /// Worst time from a hang of the server to this node's FAULT: the hang comes just
    /// after a run passed, the next run starts a second later and its attempts each time
    /// out.
    pub fn hung_detection_s(&self) -> f64 {
        f64::from(CHECK_INTERVAL_S) + f64::from(SQL_ATTEMPTS * self.sql_timeout_ms) / 1000.0
    }

    /// Worst time from the server's exit to FAULT through the watcher: the gap between
    /// two runs plus one poll.
    pub fn process_detection_s(&self) -> f64 {
        f64::from(CHECK_INTERVAL_S * 1000 - Self::window_ms(WATCH_POLL_MS) + WATCH_POLL_MS) / 1000.0
    }

    /// Worst time from a cut to FAULT through the arbiter probe. The time of the last
    /// answer carries over from one run to the next, so a failure comes after the
    /// longer of the silence it waits for and the gap between two runs, plus the round
    /// of echo requests that notices it and the slack for scheduling.
    pub fn arbiter_detection_s(&self) -> f64 {
        let gap = CHECK_INTERVAL_S * 1000 - Self::window_ms(self.arbiter_poll_ms());
        f64::from(self.arbiter_silence_ms.max(gap) + self.arbiter_probe_ms + SCHED_SLACK_MS)
            / 1000.0
    }

    /// keepalived's master-down interval for a BACKUP of `priority` (RFC 5798 6.1):
    /// `3 × advert_int + skew`.
    pub fn master_down_s(&self, priority: u8) -> f64 {
        3.0 * self.advert_int_s() + self.skew_s(priority)
    }

    /// A BACKUP's skew time: `(256 − priority) / 256 × advert_int`; also its whole wait
    /// after a priority-0 advertisement (the holder's FAULT or keepalived stopping).
    pub fn skew_s(&self, priority: u8) -> f64 {
        (256.0 - f64::from(priority)) / 256.0 * self.advert_int_s()
    }

    /// The earliest a BACKUP of `priority` takes the VIP after the holder is cut off:
    /// the master-down interval counted from the last advertisement it received, which
    /// can be up to one `advert_int` before the cut.
    pub fn earliest_takeover_s(&self, priority: u8) -> f64 {
        self.master_down_s(priority) - self.advert_int_s()
    }
}

/// How much earlier a cut-off holder releases the VIP (arbiter probe) than a peer of
/// `priority` can take it: must stay positive.
pub fn arbiter_margin_s(t: &Timers, priority: u8) -> f64 {
    t.earliest_takeover_s(priority) - t.arbiter_detection_s()
}

/// Milliseconds as a decimal number of seconds (`250` -> `0.25`, `1000` -> `1`).
pub fn seconds_text(ms: u32) -> String {
    let s = format!("{}.{:03}", ms / 1000, ms % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Where the check scripts note a failure they detected (one line per failure, on the
/// transition from passing: `<epoch seconds> <source> <detail>`, the clock of
/// [`crate::os::host::CLOCK_QUERY`]), for failover-test's `detection`; tmpfs, gone after
/// a reboot.
pub const DETECTION_LOG: &str = "/run/mhactl/detection.log";

/// Prints [`DETECTION_LOG`] (nothing when there is none).
pub const READ_LOG_COMMAND: &str = "cat /run/mhactl/detection.log 2>/dev/null; true";

/// Prints `proc-events: yes` when keepalived's `track_process` can work here: its
/// process events come through the kernel's proc connector, which only serves the
/// initial network namespace (keepalived #1469: `Failed to set/clear process event
/// listen - errno 111`, and then every tracked process counts as down: FAULT). A node
/// in a container or a network namespace of its own (mhactl's lab) answers `no`; so
/// does a kernel built without CONFIG_PROC_EVENTS. Seen from the initial PID namespace,
/// pid 2 is the kernel's `kthreadd`, which lives in the initial network namespace.
/// Then `server-process: mariadbd` when the installed server is MariaDB 10.5 or later
/// (it ships a `mariadbd` binary, and runs under that name: `/proc/PID/comm`, what
/// `track_process` matches), else `mysqld` (MySQL, older MariaDB). Read from the
/// installed files, not the running server: the answer must not change while it is down.
pub const TRACK_PROCESS_PROBE: &str = "ok=no; \
    if [ \"$(cat /proc/2/comm 2>/dev/null)\" = kthreadd ] && \
    [ \"$(readlink /proc/2/ns/net 2>/dev/null)\" = \"$(readlink /proc/self/ns/net)\" ]; then ok=yes; \
    c=/boot/config-$(uname -r); \
    if [ -r \"$c\" ] && ! grep -q '^CONFIG_PROC_EVENTS=y' \"$c\"; then ok=no; fi; fi; \
    echo \"proc-events: $ok\"; \
    for f in /usr/sbin/mariadbd /usr/libexec/mariadbd /usr/bin/mariadbd; do \
    if [ -x \"$f\" ]; then echo 'server-process: mariadbd'; exit 0; fi; done; \
    echo 'server-process: mysqld'";

/// Parses [`TRACK_PROCESS_PROBE`]'s answer: the process name `track_process` can watch,
/// `None` when the node receives no process events.
pub fn parse_track_process(out: &str) -> Option<&'static str> {
    if !out.lines().any(|l| l.trim() == "proc-events: yes") {
        return None;
    }
    Some(
        if out.lines().any(|l| l.trim() == "server-process: mariadbd") {
            "mariadbd"
        } else {
            "mysqld"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Timers> {
        let mut v = Vec::new();
        for arbiter in [None, Some(HIGHER_PRIORITY)] {
            for level in [Detection::Fast, Detection::Default, Detection::Relaxed] {
                v.push(timers(Some(level), None, arbiter));
            }
            for legacy in [1, 2, 5] {
                v.push(timers(None, Some(legacy), arbiter));
            }
        }
        v
    }

    #[test]
    fn the_default_is_sub_second_vrrpv3() {
        let t = timers(None, None, None);
        assert_eq!(
            (t.level, t.vrrp_version, t.advert_int_text()),
            ("default", 3, "0.3".into())
        );
        // The master-down interval and skew of the two keepalived priorities.
        assert!((t.master_down_s(254) - (0.9 + 2.0 / 256.0 * 0.3)).abs() < 1e-9);
        assert!((t.master_down_s(253) - 0.903_515_625).abs() < 1e-9);
        assert!((t.skew_s(253) - 0.003_515_625).abs() < 1e-9);
        assert_eq!(t.sql_timeout_text(), "0.5");
        assert!((t.hung_detection_s() - 2.0).abs() < 1e-9);
        assert!((t.process_detection_s() - 0.35).abs() < 1e-9);
    }

    /// The inventory's priorities only rank the nodes: keepalived gets 254 and 253, so
    /// that the peer's wait after the holder's FAULT (its skew) is milliseconds.
    #[test]
    fn keepalived_priorities_rank_the_nodes() {
        assert_eq!(vrrp_priority(100, 90), HIGHER_PRIORITY);
        assert_eq!(vrrp_priority(90, 100), LOWER_PRIORITY);
        assert_eq!(vrrp_priority(1, 2), 253);
        let t = timers(None, None, Some(HIGHER_PRIORITY));
        assert!(
            t.skew_s(LOWER_PRIORITY) < 0.006,
            "{}",
            t.skew_s(LOWER_PRIORITY)
        );
    }

    #[test]
    fn an_arbiter_raises_the_interval_until_the_holder_lets_go_first() {
        // Default with an arbiter: a release within 0.7 s; a peer of priority 254 could
        // take over 2 x a + 2/256 x a after the cut: at 0.45 s after 0.9035 s (0.2 s margin;
        // 0.44 s would leave 0.1836 s).
        let t = timers(None, None, Some(254));
        assert_eq!(t.advert_int_text(), "0.45");
        assert!((t.arbiter_detection_s() - 0.7).abs() < 1e-9);
        assert!((t.earliest_takeover_s(254) - 0.903_515_625).abs() < 1e-9);
        // The partition's master-down at the lower priority: 1.355 s.
        assert!((t.master_down_s(253) - 1.355_273_437_5).abs() < 1e-9);
        assert_eq!(
            timers(Some(Detection::Fast), None, None).advert_int_text(),
            "0.1"
        );
        assert_eq!(
            timers(Some(Detection::Fast), None, Some(254)).advert_int_text(),
            "0.45"
        );
        assert_eq!(
            timers(Some(Detection::Relaxed), None, Some(254)).advert_int_text(),
            "1"
        );
        assert_eq!(timers(None, Some(1), Some(254)).advert_int_text(), "1");
        // A lower priority waits longer (its skew): a shorter interval keeps the margin.
        assert_eq!(timers(None, None, Some(100)).advert_int_text(), "0.35");
        // The invariant, for every level and legacy interval, against the priority given.
        for p in [1, 90, 100, 200, 253, 254] {
            for level in [Detection::Fast, Detection::Default, Detection::Relaxed] {
                let t = timers(Some(level), None, Some(p));
                assert!(arbiter_margin_s(&t, p) >= MARGIN_S - 1e-9, "{t:?} at {p}");
                // ... and every lower priority (the other node) takes over later still.
                assert!(
                    arbiter_margin_s(&t, p / 2) >= MARGIN_S - 1e-9,
                    "{t:?} at {p}"
                );
            }
            for legacy in [1, 2, 5] {
                let t = timers(None, Some(legacy), Some(p));
                assert!(arbiter_margin_s(&t, p) >= MARGIN_S - 1e-9, "{t:?} at {p}");
            }
        }
        // A switchover's boosted peer (254) is no sooner than the higher node already is.
        let boosted = arbiter_margin_s(&timers(None, None, Some(254)), BOOSTED_PRIORITY);
        assert!(boosted >= MARGIN_S - 1e-9, "{boosted}");
    }

    #[test]
    fn legacy_advert_int_keeps_vrrpv2_whole_seconds() {
        let t = timers(None, Some(2), None);
        assert_eq!(
            (t.level, t.vrrp_version, t.advert_int_text()),
            ("legacy", 2, "2".into())
        );
        assert_eq!(t.sql_timeout_text(), "1");
    }

    #[test]
    fn long_polling_runs_end_before_the_next_one_is_due() {
        for t in all() {
            for poll in [WATCH_POLL_MS, t.arbiter_poll_ms()] {
                assert!(Timers::window_ms(poll) + poll < CHECK_INTERVAL_S * 1000);
            }
            // A health-check run (its attempts) ends before keepalived kills it.
            assert!(
                SQL_ATTEMPTS * t.sql_timeout_ms < CHECK_TIMEOUT_S * 1000,
                "{t:?}"
            );
        }
    }

    #[test]
    fn texts() {
        assert_eq!(seconds_text(250), "0.25");
        assert_eq!(seconds_text(1000), "1");
        assert_eq!(seconds_text(1500), "1.5");
        let t = Timers {
            advert_int_cs: 5,
            ..timers(None, None, None)
        };
        assert_eq!(t.advert_int_text(), "0.05");
        assert_eq!(
            parse_track_process("proc-events: yes\nserver-process: mariadbd\n"),
            Some("mariadbd")
        );
        assert_eq!(
            parse_track_process("proc-events: yes\nserver-process: mysqld\n"),
            Some("mysqld")
        );
        assert_eq!(
            parse_track_process("proc-events: no\nserver-process: mariadbd\n"),
            None
        );
        assert_eq!(parse_track_process(""), None);
    }
}
