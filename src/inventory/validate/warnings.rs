//! Non-fatal concerns about an inventory ([`Inventory::warnings`]).

use crate::inventory::{normalize_charset, BinlogFormat, Inventory};

impl Inventory {
    /// Non-fatal concerns about this inventory, as sentences for the user (the caller
    /// prints them). Empty for a clean inventory.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.mysql.skip_errors.is_empty() {
            let codes: Vec<String> = self
                .mysql
                .skip_errors
                .iter()
                .map(|c| c.to_string())
                .collect();
            w.push(format!(
                "mysql.skip_errors is set ({}): replication will silently skip these errors, \
                 which hides divergence between the two nodes; fix the cause instead and \
                 remove it once the pair is consistent",
                codes.join(", ")
            ));
        }
        if self.mysql.binlog_format == BinlogFormat::Statement {
            w.push(
                "mysql.binlog_format is `statement`: non-deterministic statements can make \
                 the two masters diverge; `row` is the safe choice for master/master"
                    .to_string(),
            );
        }
        if normalize_charset(&self.mysql.character_set) == "utf8mb3" {
            w.push(format!(
                "mysql.character_set is `{}`: that is the 3-byte utf8mb3, which cannot store \
                 emoji or other characters outside the Basic Multilingual Plane (inserts fail \
                 or truncate them) and is deprecated; use `utf8mb4` (the default)",
                self.mysql.character_set
            ));
        }
        let statement_based = matches!(
            self.mysql.binlog_format,
            BinlogFormat::Statement | BinlogFormat::Mixed
        );
        if statement_based && !self.mysql.replicate_databases.is_empty() {
            w.push(format!(
                "mysql.replicate_databases with binlog_format `{}`: binlog-do-db and \
                 replicate-do-db then filter statements by the *default database* (USE), \
                 not by the tables they change, so `USE other; INSERT INTO {db}.t ...` is \
                 silently not replicated and `USE {db}; UPDATE other.t ...` is; use \
                 binlog_format `row`, or always USE the database you write to (docs/inventory.md)",
                if self.mysql.binlog_format == BinlogFormat::Mixed {
                    "mixed"
                } else {
                    "statement"
                },
                db = self.mysql.replicate_databases[0]
            ));
        } else if statement_based && !self.mysql.ignore_databases.is_empty() {
            w.push(format!(
                "mysql.ignore_databases with binlog_format `{}`: replicate-ignore-db then \
                 filters statements by the *default database* (USE), so a statement run \
                 with another default database that writes to an ignored one is still \
                 replicated; use binlog_format `row` (docs/inventory.md)",
                if self.mysql.binlog_format == BinlogFormat::Mixed {
                    "mixed"
                } else {
                    "statement"
                }
            ));
        }
        for u in &self.access.users {
            let any = u.networks.iter().any(|n| {
                crate::inventory::parse_network(n)
                    .is_ok_and(|n| n == crate::inventory::Network::Any)
            });
            if any && u.allow_any_host {
                w.push(format!(
                    "access.users: {:?} may log in from any host (`%`, allow_any_host): \
                     anyone who can reach port {} can try its password; prefer client networks",
                    u.name, self.mysql.port
                ));
            }
            if u.admin {
                w.push(format!(
                    "access.users: {:?} is an administrative account (admin: true) reachable \
                     over the network from {}",
                    u.name,
                    u.networks.join(", ")
                ));
            }
        }
        let accept_new = (0..self.nodes.len()).any(|i| {
            self.nodes[i]
                .ssh
                .merged_over(&self.ssh)
                .host_key_check
                .is_some_and(|h| h == crate::inventory::HostKeyCheck::AcceptNew)
        });
        if accept_new {
            w.push(
                "ssh.host_key_check is `accept-new`: the first connection trusts whatever \
                 host key it is offered; prefer `strict` with a known_hosts file"
                    .to_string(),
            );
        }
        w
    }
}
