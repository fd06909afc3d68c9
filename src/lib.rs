//! mhactl turns two Linux hosts into a dual-master MySQL/MariaDB pair behind a
//! keepalived virtual IP, verifies it, and proves that the VIP fails over.
//!
//! Layout (one concept per module):
//! - [`cli`]: the command line; [`error`]: usage errors and exit codes;
//! - [`inventory`]: the YAML inventory, its validation and credential references
//!   ([`inventory_check`]: `mhactl inventory check`, which touches no node);
//! - [`transport`]: running commands on a node (SSH, or a fake for tests);
//! - [`engine`]: facts → operations → apply → re-plan;
//! - [`session`]: load the inventory, resolve secrets, connect (every command that
//!   talks to the nodes); [`global`]: the flags every command accepts;
//! - [`dialect`] and [`os`]: what differs between server flavors and OS families;
//! - [`render`]: my.cnf, keepalived.conf and the health-check script from templates;
//! - [`lab`]: two real local test hosts built from namespaces;
//! - [`interrupt`]: SIGINT/SIGTERM, undo on the way out, private temporary directories;
//! - [`switchover`]: the planned switchover (also a library function for bootstrap);
//!   [`write_probe`]: the writer through the VIP failover-test and switchover share;
//! - [`status`], [`init`], [`help`]: the one-screen status, the inventory writer,
//!   completions, man pages and help examples.

pub mod accounts;
pub mod adopt;
pub mod bootstrap;
pub mod cli;
pub mod confirm;
pub mod connect;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod facts;
pub mod failover;
pub mod fleet;
pub mod global;
pub mod grammar;
pub mod help;
pub mod init;
pub mod interrupt;
pub mod inventory;
pub mod inventory_check;
pub mod json_out;
pub mod lab;
pub mod limit;
pub mod log_file;
pub mod mask;
pub mod os;
pub mod poll;
pub mod positioning;
pub mod quote;
pub mod reinit;
pub mod render;
pub mod replication_confirm;
pub mod report;
pub mod schemas;
pub mod session;
pub mod sql;
pub mod sql_error;
pub mod status;
pub mod switchover;
pub mod table_compare;
pub mod tls;
pub mod transport;
pub mod verify;
pub mod write_probe;
