//! The MySQL conversion's planner: every state a run can stop in plans exactly what is
//! left, in the manual's order, and the state the moves leave plans nothing more.

use super::*;
use GtidConsistency as C;
use GtidMode as M;

fn node(mode: GtidMode, consistency: GtidConsistency, replica: Option<bool>) -> MysqlNode {
    MysqlNode {
        mode,
        consistency,
        replica,
    }
}

const FILE: Option<bool> = Some(false);
const AUTO: Option<bool> = Some(true);

/// The whole sequence from an 8.4 pair (GTIDs off), and each state a run stopped after
/// one move leaves: the moves left are the tail of the sequence.
#[test]
fn every_intermediate_state_plans_the_rest_of_the_manuals_sequence() {
    let full = [
        PairMove::Consistency(C::Warn),
        PairMove::Consistency(C::On),
        PairMove::Mode(M::OffPermissive),
        PairMove::Mode(M::OnPermissive),
        PairMove::DrainAnonymous,
        PairMove::Mode(M::On),
        PairMove::ConvertReplica(0),
        PairMove::ConvertReplica(1),
    ];
    let mut state = vec![node(M::Off, C::Off, FILE), node(M::Off, C::Off, FILE)];
    assert_eq!(pair_moves(&state), full);
    // Apply one move at a time (both nodes, as the actions do): what is left is the
    // sequence's tail, except the drain, which leaves no trace and is repeated until
    // gtid_mode is ON.
    for k in 0..full.len() {
        let left = pair_moves(&state);
        let expected: Vec<PairMove> = match full[k] {
            PairMove::Mode(M::On) => {
                let mut v = vec![PairMove::DrainAnonymous];
                v.extend_from_slice(&full[k..]);
                v
            }
            _ => full[k..].to_vec(),
        };
        assert_eq!(left, expected, "after {:?}", &full[..k]);
        state = after(&state, &full[k..=k]);
    }
    assert!(pair_moves(&state).is_empty(), "converted: Noop");
    assert_eq!(state, after(&state, &full));
}

/// A run stopped half-way through a level (one node raised, the other not) raises the
/// other first; nodes are never asked to skip a level.
#[test]
fn nodes_at_different_levels_come_together_first() {
    let s = [
        node(M::OffPermissive, C::On, FILE),
        node(M::Off, C::On, FILE),
    ];
    assert_eq!(
        pair_moves(&s),
        [
            PairMove::Mode(M::OffPermissive),
            PairMove::Mode(M::OnPermissive),
            PairMove::DrainAnonymous,
            PairMove::Mode(M::On),
            PairMove::ConvertReplica(0),
            PairMove::ConvertReplica(1),
        ]
    );
    let s = [node(M::Off, C::Warn, FILE), node(M::Off, C::Off, FILE)];
    assert_eq!(pair_moves(&s)[0], PairMove::Consistency(C::Warn));
    let s = [node(M::On, C::On, FILE), node(M::OnPermissive, C::On, FILE)];
    assert_eq!(
        pair_moves(&s)[..2],
        [PairMove::DrainAnonymous, PairMove::Mode(M::On)]
    );
}

/// MySQL 9.x (gtid_mode ON by default, replicas by file): only the replicas switch, one
/// at a time; a run stopped between them switches the other.
#[test]
fn a_pair_with_gtids_on_only_switches_its_replicas() {
    let s = [node(M::On, C::On, FILE), node(M::On, C::On, FILE)];
    assert_eq!(
        pair_moves(&s),
        [PairMove::ConvertReplica(0), PairMove::ConvertReplica(1)]
    );
    let s = [node(M::On, C::On, AUTO), node(M::On, C::On, FILE)];
    assert_eq!(pair_moves(&s), [PairMove::ConvertReplica(1)]);
    let s = [node(M::On, C::On, AUTO), node(M::On, C::On, AUTO)];
    assert!(pair_moves(&s).is_empty());
}

/// No replica by file: nothing (a new pair, or converted), whatever the levels say.
#[test]
fn nothing_by_file_plans_nothing() {
    assert!(pair_moves(&[node(M::Off, C::Off, None), node(M::Off, C::Off, None)]).is_empty());
    assert!(pair_moves(&[node(M::On, C::On, AUTO), node(M::On, C::On, None)]).is_empty());
}

#[test]
fn the_dry_run_diff_shows_each_nodes_settings_before_and_after() {
    let names = ["a".to_string(), "b".to_string()];
    let s = [node(M::Off, C::Off, FILE), node(M::Off, C::Off, FILE)];
    let moves = pair_moves(&s);
    let before = state_lines(&names, &s);
    let done = state_lines(&names, &after(&s, &moves));
    for line in [
        "a: gtid_mode = OFF",
        "b: enforce_gtid_consistency = OFF",
        "a: replica positions by binary log file and position",
    ] {
        assert!(
            before.lines().any(|l| l == line),
            "{line} not in:\n{before}"
        );
    }
    for line in [
        "a: gtid_mode = ON",
        "b: enforce_gtid_consistency = ON",
        "b: replica positions by GTID (SOURCE_AUTO_POSITION=1)",
    ] {
        assert!(done.lines().any(|l| l == line), "{line} not in:\n{done}");
    }
    let said: Vec<String> = moves.iter().map(|m| describe(*m, &names)).collect();
    assert_eq!(said[2], "gtid_mode OFF_PERMISSIVE on both");
    assert!(
        said[7].starts_with("b's replica positions by GTID"),
        "{}",
        said[7]
    );
}
