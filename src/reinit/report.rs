//! reinit's `--output json` report (docs/json.md, `$defs/reinit` of
//! docs/json-schema/mhactl.schema.json): what the rebuild did, then the bootstrap steps
//! that converged the pair, written through [`crate::json_out`] like every command's.

use crate::engine::{StepReport, StepStatus};
use serde::Serialize;

/// What the rebuild of the node did (known once it succeeded).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rebuilt {
    /// The databases copied from the peer.
    pub databases: Vec<String>,
    /// An interrupted earlier run's aside copy was reused.
    pub reused_aside: bool,
    /// Where the node's previous data directory is kept.
    pub previous_datadir: String,
    /// Aside copies of earlier runs that were removed.
    pub removed_asides: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ReinitReport {
    /// The rebuild succeeded and no bootstrap step failed.
    pub ok: bool,
    /// The node rebuilt.
    pub node: String,
    /// The peer its data came from.
    pub peer: String,
    /// What the rebuild did.
    #[serde(flatten)]
    pub rebuilt: Rebuilt,
    /// Bootstrap steps that changed something.
    pub changed: usize,
    /// The bootstrap steps, as bootstrap reports them.
    pub steps: Vec<StepReport>,
}

impl ReinitReport {
    /// The report of a rebuilt `node` whose pair the bootstrap `steps` converged.
    pub fn new(node: &str, peer: &str, rebuilt: Rebuilt, steps: Vec<StepReport>) -> Self {
        ReinitReport {
            ok: steps.iter().all(|r| r.status != StepStatus::Failed),
            node: node.into(),
            peer: peer.into(),
            rebuilt,
            changed: steps
                .iter()
                .filter(|r| r.status == StepStatus::Changed)
                .count(),
            steps,
        }
    }
}
