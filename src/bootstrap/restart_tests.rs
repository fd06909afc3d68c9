//! The two nodes' server restarts never overlap (so one server always answers while a
//! re-run restarts both), and a failed restart quotes the server's error log.

use super::steps::restart_and_wait;
use crate::engine::NodeHandle;
use crate::os::ServiceManager;
use crate::transport::fake::FakeSql;
use crate::transport::{CommandOutput, ForwardTarget, RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A node whose `service ... restart` takes 150 ms, counting how many restarts run at
/// the same time across nodes.
struct SlowRestart {
    name: String,
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Transport for SlowRestart {
    fn node(&self) -> &str {
        &self.name
    }
    fn run(&self, cmd: &RemoteCommand) -> Result<CommandOutput> {
        if cmd.script == "service mariadb restart" {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(150));
            self.running.fetch_sub(1, Ordering::SeqCst);
        } else if !cmd
            .script
            .starts_with("stat -c %s /var/log/mysql/error.log")
        {
            // Like the shared fakes: a command this test did not expect fails it.
            panic!("{}: unexpected command {:?}", self.name, cmd.script);
        }
        // The restart succeeds; the error log's mark is empty (nothing to quote).
        Ok(CommandOutput::default())
    }
    fn forward(&self, _target: &ForwardTarget) -> Result<PathBuf> {
        bail!("no forwarding in this test")
    }
}

#[test]
fn the_two_nodes_servers_never_restart_at_the_same_time() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let sql = FakeSql::new();
    sql.on("SELECT 1", vec![]); // the server answers once restarted
    let nodes: Vec<NodeHandle> = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = Arc::new(SlowRestart {
                name: name.to_string(),
                running: running.clone(),
                most: most.clone(),
            });
            NodeHandle::new(i, name, t as Arc<dyn Transport>, Some(sql.connector()))
        })
        .collect();
    std::thread::scope(|scope| {
        for node in &nodes {
            scope.spawn(move || {
                restart_and_wait(
                    node,
                    ServiceManager::SysV,
                    "mariadb",
                    "/var/log/mysql/error.log",
                )
                .unwrap()
            });
        }
    });
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "both nodes' servers were restarting at once"
    );
}
