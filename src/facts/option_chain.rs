//! The option-file chain read ahead in one command (issue 21), for
//! [`super::option_sources`] while it plans ahead ([`super::prefetch`]): the compiled-in
//! list, the files, the `!includedir` listings and the files in them come in one pass
//! instead of one pass per level, and the pid file with the `/proc/PID/cmdline` it names
//! in one more. Each record goes into the cache as the fact that reads it alone
//! ([`DefaultOptionFiles`], [`OptionFile`], [`OptionDirListing`]) would have put it, so
//! the walk, and everything that decides, reads exactly those facts as before; what the
//! chain did not read (a path spelled differently, a file it could not read) is read on
//! its own. Outside planning ahead (the golden transcripts) nothing here runs.

use super::host::{DefaultOptionFiles, OptionDirListing, OptionFile};
use super::{cache, get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::os::option_chain::{self, OptionFileReads};
use anyhow::Result;
use std::path::Path;

/// The whole chain from the compiled-in list ([`option_chain::chain_command`]).
pub struct OptionFileChain;

impl Fact for OptionFileChain {
    type Arg = ();
    type Value = OptionFileReads;
    const NAME: &'static str = "option-file-chain";
    const KIND: FactKind = FactKind::OptionFiles;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: option_chain::chain_command(),
            must_succeed: false,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<OptionFileReads> {
        Ok(option_chain::parse(&raw.output()?.stdout))
    }
}

/// The server's pid file (the argument) and the command line of the pid in it
/// ([`option_chain::process_command`]).
pub struct ServerProcessFiles;

impl Fact for ServerProcessFiles {
    type Arg = str;
    type Value = OptionFileReads;
    const NAME: &'static str = "server-process-files";
    const KIND: FactKind = FactKind::OptionFiles;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(pid_file: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: option_chain::process_command(pid_file),
            must_succeed: false,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<OptionFileReads> {
        Ok(option_chain::parse(&raw.output()?.stdout))
    }
}

/// While planning ahead: the chain, read in this pass's batch (`Err`: wanted now, the
/// plan stops here as on any read not made yet) or put into the cache as the separate
/// facts. Does nothing otherwise.
pub fn read_ahead_chain(node: &NodeHandle) -> Result<()> {
    if !node.transport.is_speculating() {
        return Ok(());
    }
    let reads = get::<OptionFileChain>(node, &())?;
    seed(node, &reads);
    Ok(())
}

/// While planning ahead: the pid file and the command line it names, as
/// [`read_ahead_chain`] does the chain.
pub fn read_ahead_process(node: &NodeHandle, pid_file: &str) -> Result<()> {
    if !node.transport.is_speculating() {
        return Ok(());
    }
    let reads = get::<ServerProcessFiles>(node, pid_file)?;
    seed(node, &reads);
    Ok(())
}

/// Each record as the fact that reads it alone would keep it; a value already kept this
/// round stays (the plans of a round see one value).
fn seed(node: &NodeHandle, reads: &OptionFileReads) {
    let Ok(mut c) = node.facts.lock() else {
        return;
    };
    if let Some(list) = &reads.defaults {
        c.put_if_absent::<DefaultOptionFiles>(cache::key::<DefaultOptionFiles>(&()), || {
            crate::os::option_files::parse_default_files(list)
        });
    }
    for (path, text) in &reads.files {
        c.put_if_absent::<OptionFile>(cache::key::<OptionFile>(Path::new(path)), || text.clone());
    }
    for (dir, listing) in &reads.listings {
        c.put_if_absent::<OptionDirListing>(cache::key::<OptionDirListing>(dir.as_str()), || {
            listing.clone()
        });
    }
}
