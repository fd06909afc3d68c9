//! The questions `mhactl init` asks on a terminal, for whatever the flags did not give.

use super::{
    derived_router_id, parse_node, parse_vip, password_from_flags, usage, Answers, InitArgs,
    InitFlavor, PasswordSource, DEFAULT_PASSWORD_ENV,
};
use anyhow::Result;
use std::path::PathBuf;

/// Ask on the terminal for everything the flags did not give.
pub(super) fn ask(args: &InitArgs) -> Result<Answers> {
    use dialoguer::{Input, Select};
    let term_err = |e: dialoguer::Error| anyhow::anyhow!("cannot read the answer: {e}");
    eprintln!("mhactl init: a few questions (Enter keeps the [default]; flags skip questions)");
    let cluster = match &args.cluster {
        Some(c) => c.clone(),
        // Each answer is checked as it is given (asked again when wrong), not after the
        // last question.
        None => Input::<String>::new()
            .with_prompt("Cluster name")
            .default("shop-db".into())
            .validate_with(|s: &String| problem(crate::inventory::cluster_name_problem(s)))
            .interact_text()
            .map_err(term_err)?,
    };
    let mut nodes = args.nodes.clone();
    while nodes.len() < 2 {
        let n = nodes.len() + 1;
        let default = if n == 1 {
            "db1=10.0.0.11"
        } else {
            "db2=10.0.0.12"
        };
        let answer: String = Input::new()
            .with_prompt(format!("Node {n} as NAME=ADDRESS"))
            .default(default.into())
            .validate_with(|s: &String| parse_node(s).map(|_| ()))
            .interact_text()
            .map_err(term_err)?;
        nodes.push(parse_node(&answer).map_err(usage)?);
    }
    if nodes.len() > 2 {
        return Err(usage(
            "--node was given more than twice: a pair has exactly two nodes",
        ));
    }
    let vip = match args.vip {
        Some(v) => v,
        None => {
            let guess = {
                let o = nodes[0].1.octets();
                format!("{}.{}.{}.100/24", o[0], o[1], o[2])
            };
            let answer: String = Input::new()
                .with_prompt(
                    "Virtual IP as ADDRESS/PREFIX (an unused address in the nodes' subnet)",
                )
                .default(guess)
                .validate_with(|s: &String| {
                    let (vip, prefix) = parse_vip(s)?;
                    vip_subnet_problem(vip, prefix, &nodes)
                })
                .interact_text()
                .map_err(term_err)?;
            parse_vip(&answer).map_err(usage)?
        }
    };
    let interface = match &args.interface {
        Some(i) => i.clone(),
        None => Input::new()
            .with_prompt("Interface carrying the VIP on both nodes")
            .default("eth0".into())
            .validate_with(|s: &String| problem(crate::inventory::interface_name_problem(s)))
            .interact_text()
            .map_err(term_err)?,
    };
    let virtual_router_id = match args.virtual_router_id {
        Some(v) => v,
        None => Input::<u8>::new()
            .with_prompt("VRRP virtual router id (unique on the network segment, 1-255)")
            .default(derived_router_id(&cluster))
            .validate_with(|v: &u8| if *v >= 1 { Ok(()) } else { Err("1-255") })
            .interact_text()
            .map_err(term_err)?,
    };
    let flavor = match args.flavor {
        Some(f) => f,
        None => {
            let i = Select::new()
                .with_prompt("Server flavor")
                .items(["mariadb", "mysql"])
                .default(0)
                .interact()
                .map_err(term_err)?;
            if i == 0 {
                InitFlavor::Mariadb
            } else {
                InitFlavor::Mysql
            }
        }
    };
    let ssh_user = match &args.ssh_user {
        Some(u) => u.clone(),
        None => Input::new()
            .with_prompt("SSH user (root, or a user with sudo)")
            .default("root".into())
            .interact_text()
            .map_err(term_err)?,
    };
    let optional_path = |given: &Option<PathBuf>, prompt: &str| -> Result<Option<PathBuf>> {
        if given.is_some() {
            return Ok(given.clone());
        }
        let answer: String = Input::new()
            .with_prompt(prompt)
            .allow_empty(true)
            .interact_text()
            .map_err(term_err)?;
        Ok((!answer.trim().is_empty()).then(|| PathBuf::from(answer.trim())))
    };
    let identity_file = optional_path(
        &args.identity_file,
        "SSH private key (empty: ssh's defaults and agent)",
    )?;
    let known_hosts = optional_path(
        &args.known_hosts,
        "known_hosts file (empty: ~/.ssh/known_hosts)",
    )?;
    let password =
        if args.replication_password_env.is_some() || args.replication_password_file.is_some() {
            password_from_flags(args)
        } else {
            let i = Select::new()
                .with_prompt("Where does the replication password come from? (it is never written)")
                .items([
                    "an environment variable",
                    "a file (or a key in a YAML file)",
                    "ask on the terminal at each run",
                ])
                .default(0)
                .interact()
                .map_err(term_err)?;
            match i {
                0 => PasswordSource::Env(
                    Input::new()
                        .with_prompt("Variable name")
                        .default(DEFAULT_PASSWORD_ENV.into())
                        .interact_text()
                        .map_err(term_err)?,
                ),
                1 => PasswordSource::File(
                    Input::new()
                        .with_prompt("File (PATH or PATH#KEY, relative to the inventory)")
                        .default("secrets.yaml#repl".into())
                        .interact_text()
                        .map_err(term_err)?,
                ),
                _ => PasswordSource::Prompt,
            }
        };
    Ok(Answers {
        cluster,
        nodes: [nodes[0].clone(), nodes[1].clone()],
        vip,
        interface,
        virtual_router_id,
        flavor,
        ssh_user,
        identity_file,
        known_hosts,
        password,
    })
}

/// `Err(problem)` for dialoguer's `validate_with`.
fn problem(p: Option<String>) -> Result<(), String> {
    p.map_or(Ok(()), Err)
}

/// The VIP must be in both nodes' subnet (keepalived adds it to their interface).
fn vip_subnet_problem(
    vip: std::net::Ipv4Addr,
    prefix: u8,
    nodes: &[(String, std::net::Ipv4Addr)],
) -> Result<(), String> {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    for (name, address) in nodes {
        if u32::from(*address) & mask != u32::from(vip) & mask {
            return Err(format!(
                "{name} ({address}) is not in {vip}/{prefix}: the VIP must be an unused \
                 address in the nodes' subnet"
            ));
        }
        if *address == vip {
            return Err(format!(
                "{vip} is {name}'s own address: the VIP must be unused"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vip_answer_must_be_in_the_nodes_subnet() {
        let nodes = [
            ("db1".to_string(), "10.0.0.11".parse().unwrap()),
            ("db2".to_string(), "10.0.0.12".parse().unwrap()),
        ];
        assert!(vip_subnet_problem("10.0.0.100".parse().unwrap(), 24, &nodes).is_ok());
        let err = vip_subnet_problem("10.0.1.100".parse().unwrap(), 24, &nodes).unwrap_err();
        assert!(
            err.contains("db1 (10.0.0.11) is not in 10.0.1.100/24"),
            "{err}"
        );
        assert!(vip_subnet_problem("10.0.0.12".parse().unwrap(), 24, &nodes).is_err());
        assert!(vip_subnet_problem("10.0.1.100".parse().unwrap(), 16, &nodes).is_ok());
    }

    #[test]
    fn cluster_and_interface_answers_are_checked_as_the_inventory_would() {
        assert!(problem(crate::inventory::cluster_name_problem("shop db")).is_err());
        assert!(problem(crate::inventory::cluster_name_problem("shop-db")).is_ok());
        assert!(problem(crate::inventory::interface_name_problem("eth0 ")).is_err());
        assert!(problem(crate::inventory::interface_name_problem("bond0.12")).is_ok());
    }
}
