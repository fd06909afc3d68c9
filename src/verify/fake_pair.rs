//! Test support: one fake node of an EL9 + MySQL 8.4 pair, shared by the checks' tests
//! and the golden test of the whole check list. Its files are what the inventory
//! renders; callers add the rules their test is about (queries, keepalived, the VIP).

use crate::transport::fake::{FakeSql, FakeTransport};
use crate::transport::{CommandOutput, ForwardTarget, ReadAhead, RemoteCommand, Transport};
use std::sync::Arc;

const EL9: &str =
    "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.4\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";

/// Node `index` (`name`) of an EL9 + MySQL 8.4.3 pair: os-release, systemd, root,
/// mhactl's drop-in exactly as `inv` renders it, `/etc/my.cnf` with `my_cnf`, no
/// Debian option file, no keepalived.conf, and the server's option probes answering
/// nothing.
pub(super) fn el9_mysql84_node(
    inv: &crate::inventory::Inventory,
    index: usize,
    name: &str,
    my_cnf: &str,
) -> (FakeTransport, FakeSql) {
    let t = FakeTransport::new(name);
    t.on("/etc/os-release", 0, EL9);
    t.on("echo systemd; else echo sysv", 0, "systemd\n");
    t.on("id -u", 0, "0\n");
    let sql = FakeSql::new();
    sql.on("SELECT VERSION()", vec![vec![("version", Some("8.4.3"))]]);
    let target =
        crate::os::OsTarget::new(crate::os::OsFamily::El9, crate::inventory::Flavor::Mysql)
            .unwrap();
    let dialect = crate::dialect::Dialect::from_version_string("8.4.3").unwrap();
    let rendered = crate::render::render_my_cnf(inv, index, &dialect, &target).expect("renders");
    t.on("if [ -e /etc/my.cnf.d/zz-mhactl.cnf ]", 0, &rendered);
    t.on("if [ -e /etc/my.cnf ]", 0, my_cnf);
    t.on("--verbose --help", 0, "");
    t.on("ls -1 -- /etc/my.cnf.d/", 0, "zz-mhactl.cnf\n");
    t.on("if [ -e /etc/mysql/my.cnf ]", 3, "");
    t.on("if [ -e /etc/keepalived/keepalived.conf ]", 3, "");
    t.on(
        "keepalived --version",
        0,
        "Keepalived v2.2.8 (04/04,2023)\n",
    );
    // A host in the initial network namespace: keepalived's track_process works.
    t.on(
        "proc-events",
        0,
        "proc-events: yes\nserver-process: mysqld\n",
    );
    t.on("date +%s.%N", 0, "");
    // nftables without mhactl's table (the VIP refusal not loaded).
    t.on(crate::os::vip_refuse::TABLE_COMMAND, 0, "");
    // The node's own client cannot ask through the VIP (refused): vip-sql logs in itself.
    t.on("--protocol=TCP --connect-timeout=5 -N -B -e", 1, "");
    // keepalived runs the fence agent.
    t.on(&crate::os::fence::agent_running_command(), 0, "4242\n");
    (t, sql)
}

/// A fake node that reads ahead like the SSH transport ([`ReadAhead`]: the commands a
/// plan or a check runs itself come in the prefetch's batches, verify's reads of the
/// moment too). With `only_through_facts`, it fails any check that runs a command or
/// reads a file itself instead of through a fact (SQL is caught by
/// `NodeHandle::with_sql`; undeclared facts fail in `facts::scope` already): verify's
/// golden test holds every check to it. Also the converged re-run's budget
/// (`bootstrap::transcripts::rerun_budget`).
pub(crate) struct ReadingAhead {
    fake: Arc<FakeTransport>,
    ahead: ReadAhead,
    only_through_facts: bool,
}

impl ReadingAhead {
    /// `fake`, reading ahead.
    pub(crate) fn new(fake: Arc<FakeTransport>) -> Self {
        ReadingAhead {
            fake,
            ahead: ReadAhead::default(),
            only_through_facts: false,
        }
    }

    /// `fake`, reading ahead, and refusing reads made outside a fact.
    pub(crate) fn only_through_facts(fake: Arc<FakeTransport>) -> Self {
        ReadingAhead {
            only_through_facts: true,
            ..Self::new(fake)
        }
    }
}

impl Transport for ReadingAhead {
    fn node(&self) -> &str {
        self.fake.node()
    }
    fn run(&self, cmd: &RemoteCommand) -> anyhow::Result<CommandOutput> {
        if let Some(out) = self.ahead.answer(cmd, self.is_speculating())? {
            return Ok(out);
        }
        if self.only_through_facts {
            crate::facts::scope::raw_read(&cmd.script);
        }
        self.fake.run(cmd)
    }
    fn read_ahead(&self) -> Option<&ReadAhead> {
        Some(&self.ahead)
    }
    fn forward(&self, target: &ForwardTarget) -> anyhow::Result<std::path::PathBuf> {
        self.fake.forward(target)
    }
    fn speculation(&self) -> Option<&std::sync::atomic::AtomicBool> {
        self.fake.speculation()
    }
    fn stats(&self) -> Option<&crate::transport::stats::TransportStats> {
        self.fake.stats()
    }
}
