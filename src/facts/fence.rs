//! The write fence as a node shows it (`writes: vip-holder`): whether keepalived runs the
//! fence agent, and whether the agent's login works. The option file holds a password,
//! so it is never read as a fact: only the login's outcome is.

use super::{get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use anyhow::Result;

/// Is a fence agent process running (`pgrep`)?
pub struct AgentRunning;

impl Fact for AgentRunning {
    type Arg = ();
    type Value = bool;
    const NAME: &'static str = "fence-agent-running";
    const KIND: FactKind = FactKind::Service;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::fence::agent_running_command(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<bool> {
        Ok(crate::os::fence::parse_agent_running(&raw.output()?.stdout))
    }
}

/// The agent's login through its option file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceLogin {
    /// No option file.
    NoFile,
    /// The file exists and the server accepts the login.
    Works,
    /// The file exists but the login fails (no account, another password, server down).
    Fails,
}

/// The outcome of logging in with the agent's option file (the argument: its path).
pub struct LoginWorks;

impl Fact for LoginWorks {
    type Arg = str;
    type Value = FenceLogin;
    const NAME: &'static str = "fence-login";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(path: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::fence::login_works_command(path, crate::dialect::ping_sql()),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<FenceLogin> {
        Ok(match raw.output()?.status {
            0 => FenceLogin::Works,
            3 => FenceLogin::NoFile,
            _ => FenceLogin::Fails,
        })
    }
}

/// Whether the fence agent runs on `node`.
pub fn agent_running(node: &NodeHandle) -> Result<bool> {
    get::<AgentRunning>(node, &())
}

/// The agent's login on `node` with the option file `path`.
pub fn login(node: &NodeHandle, path: &str) -> Result<FenceLogin> {
    get::<LoginWorks>(node, path)
}
