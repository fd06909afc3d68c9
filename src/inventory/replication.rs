//! The inventory's `replication:` section (issue 19 item 2): how a replica positions in
//! its source's log. `positioning: gtid` (GTIDs: MariaDB `MASTER_USE_GTID=slave_pos`,
//! MySQL `SOURCE_AUTO_POSITION=1`) or `file` (binary log file and offset). Unset, a new
//! pair gets GTIDs and a pair that already replicates by file and position keeps doing
//! so (`crate::positioning` decides once per run, from the nodes; docs/inventory.md).

use serde::{Deserialize, Serialize};

/// `replication:`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReplicationSettings {
    /// How replicas position; `None`: GTIDs for a new pair, an existing pair's own
    /// way for a pair that already replicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positioning: Option<Positioning>,
}

/// `replication.positioning`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Positioning {
    /// Global transaction IDs.
    Gtid,
    /// Binary log file and offset (the runbook's way).
    File,
}

impl ReplicationSettings {
    /// True when replicas are to position by GTID: asked for, or unset (the default for
    /// a new pair; a command that connects has already replaced "unset" by what the
    /// pair runs, see `crate::positioning::resolve`).
    pub fn gtid(&self) -> bool {
        self.positioning != Some(Positioning::File)
    }

    /// True when the section is as a default inventory has it (not written back).
    pub fn is_default(&self) -> bool {
        self == &ReplicationSettings::default()
    }
}

impl std::fmt::Display for Positioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Positioning::Gtid => "gtid",
            Positioning::File => "file",
        })
    }
}
