//! SQL of failover-test's `isolate` mode: the split-brain writer's table, where each
//! node's own writer inserts a row per accepted attempt (replicated like the probe's
//! `writes` table; rows from the two sides never collide: auto-increment id with the
//! pair's offsets, plus the node's name).

/// (Re)creates `{db}.local_writes` (run on one node with the binary log on).
pub fn local_writes_table_sql(db: &str) -> Vec<String> {
    vec![
        format!("DROP TABLE IF EXISTS {db}.local_writes"),
        format!(
            "CREATE TABLE {db}.local_writes (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
             node VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) \
             ENGINE=InnoDB"
        ),
    ]
}

/// The split-brain writer's statement on node `node` (a node name: letters, digits, `-`).
pub fn local_write_sql(db: &str, node: &str) -> String {
    format!("INSERT INTO {db}.local_writes (node) VALUES ('{node}')")
}

/// Rows per writer (`node`, `n`): equal on both nodes once each has applied the other's
/// split-brain writes (each node always has all of its own).
pub fn local_writes_per_node_sql(db: &str) -> String {
    format!("SELECT node, COUNT(*) AS n FROM {db}.local_writes GROUP BY node ORDER BY node")
}
