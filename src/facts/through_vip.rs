//! `@@server_id` of whichever server answers on the VIP, asked by the peer's own client
//! with its client-list login (issue 21): a command that goes in a batch with the node's
//! other reads, where a login through the VIP of its own costs 3-4 round trips
//! ([`super::server_id_through_vip`]).

use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use anyhow::Result;

/// `@@server_id` of whichever server answers on `host:port`, asked by the node's own
/// client with its client-list login (`[option file, host, port]`): a command, so it
/// goes in a batch with the node's other reads instead of a login of its own (the
/// forward's channel, TCP, TLS, the handshake). `None` when the node could not ask that
/// way (no such login yet, refused): the caller logs in itself. Never cached (a
/// switchover asks it after moving the VIP).
pub struct ServerIdByClient;

impl Fact for ServerIdByClient {
    type Arg = [String];
    type Value = Option<String>;
    const NAME: &'static str = "server-id-by-client";
    const KIND: FactKind = FactKind::SqlThroughVip;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source(arg: &[String], _: Option<&Dialect>) -> Source {
        server_id_by_client_source(arg)
    }
    fn parse(_: &[String], raw: &Raw) -> Result<Option<String>> {
        parse_server_id_by_client(raw)
    }
}

/// [`ServerIdByClient`] as a run reads it ahead, for the `vip` step of a run that
/// changed nothing before it (dropped with the volatile facts on every change).
pub struct ServerIdByClientAhead;

impl Fact for ServerIdByClientAhead {
    type Arg = [String];
    type Value = Option<String>;
    const NAME: &'static str = "server-id-by-client-ahead";
    const KIND: FactKind = FactKind::SqlThroughVip;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(arg: &[String], _: Option<&Dialect>) -> Source {
        server_id_by_client_source(arg)
    }
    fn parse(_: &[String], raw: &Raw) -> Result<Option<String>> {
        parse_server_id_by_client(raw)
    }
}

fn server_id_by_client_source(arg: &[String]) -> Source {
    let get = |i: usize| arg.get(i).map(String::as_str).unwrap_or("");
    Source::Command {
        script: crate::os::client_list::ask_through_command(
            get(0),
            get(1),
            get(2).parse().unwrap_or(3306),
            crate::dialect::server_id_sql(),
        ),
        must_succeed: false,
    }
}

fn parse_server_id_by_client(raw: &Raw) -> Result<Option<String>> {
    let out = raw.output()?;
    let id = out.stdout.trim();
    Ok(
        (out.success() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .then(|| id.to_string()),
    )
}
