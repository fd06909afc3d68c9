//! Where packages come from: a mirror (`packages.repository`, its key) or, for a flavor
//! installed from its vendor's yum repository, that repository's setup RPM and key.

use super::Problems;
use crate::inventory::Inventory;

/// `utf8` is an alias of `utf8mb3` (3-byte UTF-8) on every supported server.
/// A `file:`/`http:`/`https:` URL without characters that would break a repo file or
/// a shell word.
fn url_problem(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    if !["file:/", "http://", "https://"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Some(format!(
            "{url:?} must be a file:///path (on the nodes) or an http:// or https:// URL"
        ));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"'`$;\\<>|".contains(c))
    {
        return Some(format!(
            "{url:?}: spaces, quotes, `$`, `;` and `|` are not allowed in URLs"
        ));
    }
    None
}

pub(super) fn check_packages(inv: &Inventory, p: &mut Problems) {
    let pk = &inv.packages;
    if let Some(url) = &pk.repository {
        if let Some(msg) =
            url_problem(url).or_else(|| crate::inventory::limits::repo_value_problem(url))
        {
            p.add("packages.repository", msg);
        }
    }
    if let Some(key) = &pk.gpg_key {
        if pk.repository.is_none() {
            p.add(
                "packages.gpg_key",
                "is the key of packages.repository, which is not set",
            );
        } else if let Some(msg) = crate::inventory::limits::repo_value_problem(key) {
            p.add("packages.gpg_key", msg);
        } else if key.starts_with('/') {
            if let Some(msg) = crate::inventory::paths::path_syntax_problem(key, false) {
                p.add("packages.gpg_key", msg);
            }
        } else if let Some(msg) = url_problem(key) {
            p.add("packages.gpg_key", msg);
        }
    }
    if let Some(rpm) = &pk.mysql_release_rpm {
        if !inv.mysql.flavor.installs_from_vendor_yum_repository() {
            p.add(
                "packages.mysql_release_rpm",
                "is the MySQL Yum repository's setup RPM: only for mysql.flavor mysql",
            );
        } else if pk.repository.is_some() {
            p.add(
                "packages.mysql_release_rpm",
                "and packages.repository exclude each other: with a mirror, bootstrap installs from the mirror only",
            );
        } else if !rpm.ends_with(".rpm") {
            p.add(
                "packages.mysql_release_rpm",
                format!("{rpm:?} must name an .rpm file (URL or path on the nodes)"),
            );
        } else if !rpm.starts_with('/') {
            if let Some(msg) = url_problem(rpm) {
                p.add("packages.mysql_release_rpm", msg);
            }
        } else if rpm
            .chars()
            .any(|c| c.is_whitespace() || "\"'`$;\\<>|".contains(c))
        {
            p.add(
                "packages.mysql_release_rpm",
                format!("{rpm:?}: spaces, quotes, `$`, `;` and `|` are not allowed in paths"),
            );
        }
    }
    if let Some(key) = &pk.mysql_gpg_key {
        let bad_char = |k: &str| {
            k.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'`$;\\<>|".contains(c))
        };
        if !inv.mysql.flavor.installs_from_vendor_yum_repository() || pk.repository.is_some() {
            p.add(
                "packages.mysql_gpg_key",
                "is the MySQL Yum repository's signing key: only for mysql.flavor mysql without packages.repository",
            );
        } else if key.starts_with('/') {
            if bad_char(key) {
                p.add(
                    "packages.mysql_gpg_key",
                    format!("{key:?}: spaces, quotes, `$`, `;` and `|` are not allowed in paths"),
                );
            }
        } else if let Some(msg) = url_problem(key) {
            p.add("packages.mysql_gpg_key", msg);
        }
    }
}
