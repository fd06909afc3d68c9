//! Semantic checks of an inventory beyond what the YAML types enforce: two nodes,
//! unique names and addresses, the VIP in the nodes' subnet, VRRP and MySQL settings,
//! and exactly one source per secret. Also the non-fatal [`Inventory::warnings`].

use super::Inventory;
use packages::check_packages;
use server::{check_character_set, check_credentials, check_mysql};
use topology::{check_cluster, check_nodes, check_ssh, check_vip};

mod packages;
mod server;
mod topology;
mod warnings;

pub(crate) use server::normalize_charset;
pub use topology::{cluster_name_problem, interface_name_problem};

/// Check `inv` and return every problem found, one per line, each naming its field
/// (`nodes[1].address: ...`). With one problem the message is just that problem; with
/// several it starts with "N problems:". Never panics.
pub fn validate(inv: &Inventory) -> Result<(), String> {
    collect(inv).into_result()
}

/// Every problem of `inv` as (field path, `field: message` line), in the order found:
/// [`super::diagnostics`] points each at its place in the file.
pub(crate) fn problems(inv: &Inventory) -> Vec<(String, String)> {
    collect(inv).0
}

fn collect(inv: &Inventory) -> Problems {
    let mut p = Problems::default();
    check_cluster(inv, &mut p);
    check_nodes(inv, &mut p);
    check_ssh("ssh", &inv.ssh, &mut p);
    for (field, msg) in super::limits::check_ranges(inv) {
        p.add(&field, msg);
    }
    check_vip(inv, &mut p);
    check_mysql(inv, &mut p);
    check_credentials(&inv.credentials, &mut p);
    check_character_set(inv, &mut p);
    check_packages(inv, &mut p);
    for (field, msg) in super::access::check_access(inv) {
        p.add(&field, msg);
    }
    for (field, msg) in super::tls::check_tls(inv) {
        p.add(&field, msg);
    }
    p
}

/// (field path, `field: message`) per problem.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

/// Problems listed in one message; the rest are counted.
pub(crate) const MAX_SHOWN: usize = 30;
/// Longest problem shown, in bytes.
const MAX_PROBLEM_BYTES: usize = 600;

impl Problems {
    fn add(&mut self, field: &str, msg: impl std::fmt::Display) {
        let mut line = format!("{field}: {msg}");
        // A hostile value (a 90 KB "version") is quoted in its message: keep it readable.
        if line.len() > MAX_PROBLEM_BYTES {
            let mut end = MAX_PROBLEM_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push_str("... (cut)");
        }
        self.0.push((field.to_string(), line));
    }

    fn into_result(self) -> Result<(), String> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.into_iter().next().unwrap_or_default().1),
            n => {
                // A hostile file can hold thousands of bad entries: the first ones say enough.
                let mut s = format!("{n} problems:");
                for (_, m) in self.0.iter().take(MAX_SHOWN) {
                    s.push_str("\n  - ");
                    s.push_str(m);
                }
                if n > MAX_SHOWN {
                    s.push_str(&format!("\n  ... and {} more", n - MAX_SHOWN));
                }
                Err(s)
            }
        }
    }
}

/// A character as shown in messages: `x`, or "a space" / "a tab" / "a control character".
pub(super) fn describe(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => "a control character".into(),
        c => format!("`{c}`"),
    }
}
