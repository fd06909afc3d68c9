//! The option files a MySQL/MariaDB server reads, in the order it reads them: the
//! compiled-in list (`mysqld --verbose --help`), the `!include`/`!includedir` chain from
//! there, and what each file sets in the groups the server reads. The commands are built
//! here; the parsers are pure. verify uses it to name the file that overrides mhactl's.

use crate::inventory::{Flavor, ServerFamily};
use crate::transport::shell_quote;
use anyhow::Result;

/// Prints the server's compiled-in list of option files (one line, in reading order).
pub const DEFAULT_FILES_COMMAND: &str = "PATH=$PATH:/usr/sbin:/usr/libexec:/sbin; \
     for b in mariadbd mysqld; do p=$(command -v $b) || continue; \
     \"$p\" --verbose --help 2>/dev/null | sed -n '/Default options are read from/{n;p;q;}'; exit 0; done";

/// The list when the server binary does not say (both flavors' Unix default).
pub const FALLBACK_DEFAULT_FILES: &[&str] = &["/etc/my.cnf", "/etc/mysql/my.cnf"];

/// The check `mysqld --validate-config` (MySQL 8.0.16+) makes of the option files as
/// they are now on the node; it exits non-zero with the server's `[ERROR]` lines on
/// stderr (an unknown or removed variable, a bad value) without touching the running
/// server or the data directory.
pub const VALIDATE_CONFIG_COMMAND: &str =
    "\"$(command -v mysqld || echo /usr/sbin/mysqld)\" --validate-config";

/// The component variables (`validate_password.policy`: a dotted name) that
/// [`VALIDATE_CONFIG_COMMAND`] rejected as unknown, when they are all it rejected
/// (`None` otherwise, also when it rejected nothing). `--validate-config` loads no
/// component, so it calls every component variable in an option file unknown, although
/// the server (which loads its installed components at start) accepts them: the caller
/// asks the running server whether it knows them.
pub fn unknown_component_variables(stderr: &str, stdout: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for line in stderr.lines().chain(stdout.lines()) {
        let Some((_, rest)) = line.split_once("[ERROR]") else {
            continue;
        };
        if rest.trim_end().ends_with("Aborting") {
            continue;
        }
        let quoted = rest.split_once("unknown variable '")?.1;
        let setting = quoted.rsplit_once('\'')?.0;
        let name = setting.split('=').next().unwrap_or("").trim();
        let (component, variable) = name.split_once('.')?;
        if component.is_empty() || variable.is_empty() {
            return None;
        }
        // The server's own spelling: option files allow `-` for `_`.
        names.push(name.replace('-', "_").to_ascii_lowercase());
    }
    (!names.is_empty()).then_some(names)
}

/// Lists the entries of an `!includedir` directory, one a line (nothing if it is absent).
pub fn list_dir_command(dir: &str) -> String {
    format!("ls -1 -- {} 2>/dev/null || true", shell_quote(dir))
}

/// The files of [`DEFAULT_FILES_COMMAND`]'s output (`~` is root's home: mhactl starts the
/// server as root, and the server reads the files before it drops to the mysql user).
pub fn parse_default_files(out: &str) -> Vec<String> {
    let files: Vec<String> = out
        .split_whitespace()
        .filter(|f| f.starts_with('/') || f.starts_with("~/"))
        .map(|f| match f.strip_prefix("~/") {
            Some(rest) => format!("/root/{rest}"),
            None => f.to_string(),
        })
        .collect();
    if files.is_empty() {
        FALLBACK_DEFAULT_FILES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        files
    }
}

/// The files of an `!includedir` listing that the server reads (`*.cnf`), sorted.
pub fn included_dir_files(dir: &str, listing: &str) -> Vec<String> {
    let mut names: Vec<&str> = listing
        .lines()
        .map(str::trim)
        .filter(|n| n.ends_with(".cnf") && !n.contains('/'))
        .collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| format!("{}/{n}", dir.trim_end_matches('/')))
        .collect()
}

/// One line of an option file that means something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `key[=value]` in `group` (key normalised by [`normalise_key`]).
    Setting {
        /// The `[group]` it is in (lower case).
        group: String,
        /// Normalised option name.
        key: String,
        /// The value, unquoted; `None` for a bare option (`skip-name-resolve`).
        value: Option<String>,
    },
    /// `!include FILE`.
    Include(String),
    /// `!includedir DIR`.
    IncludeDir(String),
}

/// An option name as the server matches it: `-` and `_` alike, no `loose-` prefix.
pub fn normalise_key(key: &str) -> String {
    let k = key.trim().to_ascii_lowercase().replace('-', "_");
    k.strip_prefix("loose_").unwrap_or(&k).to_string()
}

/// The lines of an option file, in order.
pub fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut group = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("!includedir") {
            out.push(Line::IncludeDir(rest.trim().to_string()));
        } else if let Some(rest) = line.strip_prefix("!include") {
            out.push(Line::Include(rest.trim().to_string()));
        } else if let Some(g) = group_header(line) {
            group = g;
        } else {
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k, Some(unquote(v))),
                None => (line, None),
            };
            out.push(Line::Setting {
                group: group.clone(),
                key: normalise_key(key),
                value,
            });
        }
    }
    out
}

/// The group a `[group]` line opens (lower case); `None` for any other line.
pub fn group_header(line: &str) -> Option<String> {
    let g = line.trim().strip_prefix('[')?;
    Some(
        g.split(']')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// An option value without its quotes or trailing comment.
fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q) {
            if let Some(end) = inner.find(q) {
                return inner[..end].to_string();
            }
        }
    }
    match v.find(" #").or_else(|| v.find("\t#")) {
        Some(c) => v[..c].trim_end().to_string(),
        None => v.to_string(),
    }
}

/// Does the server (`flavor`, release `major.minor`) read option group `group`?
pub fn server_reads_group(group: &str, flavor: Flavor, major: u32, minor: u32) -> bool {
    let version = format!("{major}.{minor}");
    let versioned = |prefix: &str| group.strip_prefix(prefix) == Some(version.as_str());
    match flavor.family() {
        ServerFamily::Mariadb => {
            matches!(
                group,
                "mysqld" | "server" | "mariadb" | "mariadbd" | "client-server" | "galera"
            ) || versioned("mysqld-")
                || versioned("mariadb-")
                || versioned("mariadbd-")
        }
        ServerFamily::Mysql => matches!(group, "mysqld" | "server") || versioned("mysqld-"),
    }
}

/// One setting of the server, and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetting {
    /// The option file.
    pub path: String,
    /// Normalised option name.
    pub key: String,
    /// Its value (`None`: a bare option).
    pub value: Option<String>,
}

/// Every setting the server reads, in reading order, starting from `defaults` and
/// following includes; `read` returns a file's text (`None`: absent), `list` an
/// `!includedir` listing. `reads_group` says which groups the server reads.
pub fn server_settings(
    defaults: &[String],
    reads_group: &dyn Fn(&str) -> bool,
    read: &mut dyn FnMut(&str) -> Result<Option<String>>,
    list: &mut dyn FnMut(&str) -> Result<String>,
) -> Result<(Vec<String>, Vec<ServerSetting>)> {
    let mut files = Vec::new();
    let mut settings = Vec::new();
    for path in defaults {
        visit(path, 0, reads_group, read, list, &mut files, &mut settings)?;
    }
    Ok((files, settings))
}

/// Includes deeper than this are a loop (the server itself stops at 10).
const MAX_INCLUDE_DEPTH: usize = 10;

fn visit(
    path: &str,
    depth: usize,
    reads_group: &dyn Fn(&str) -> bool,
    read: &mut dyn FnMut(&str) -> Result<Option<String>>,
    list: &mut dyn FnMut(&str) -> Result<String>,
    files: &mut Vec<String>,
    settings: &mut Vec<ServerSetting>,
) -> Result<()> {
    if depth > MAX_INCLUDE_DEPTH {
        return Ok(());
    }
    let Some(text) = read(path)? else {
        return Ok(());
    };
    files.push(path.to_string());
    for line in parse(&text) {
        match line {
            Line::Setting { group, key, value } if reads_group(&group) => {
                settings.push(ServerSetting {
                    path: path.to_string(),
                    key,
                    value,
                })
            }
            Line::Setting { .. } => {}
            Line::Include(file) => {
                visit(&file, depth + 1, reads_group, read, list, files, settings)?
            }
            Line::IncludeDir(dir) => {
                for file in included_dir_files(&dir, &list(&dir)?) {
                    visit(&file, depth + 1, reads_group, read, list, files, settings)?;
                }
            }
        }
    }
    Ok(())
}

/// What the running server's command line (`/proc/PID/cmdline`, NUL-separated) says
/// about option files and options.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// `--no-defaults`: no option file at all.
    pub no_defaults: bool,
    /// `--defaults-file=F`: only F (instead of the compiled-in list).
    pub defaults_file: Option<String>,
    /// `--defaults-extra-file=F`: F after the global files, before the user's.
    pub extra_file: Option<String>,
    /// Every other `--name[=value]` (normalised name), which wins over the files.
    pub settings: Vec<(String, Option<String>)>,
}

/// Parse a server's `/proc/PID/cmdline`.
pub fn parse_cmdline(cmdline: &str) -> CommandLine {
    let mut out = CommandLine::default();
    for arg in cmdline.split('\0').skip(1).filter(|a| !a.is_empty()) {
        let Some(opt) = arg.strip_prefix("--") else {
            continue;
        };
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (opt, None),
        };
        match (normalise_key(name).as_str(), value) {
            ("no_defaults", _) => out.no_defaults = true,
            ("defaults_file", Some(f)) => out.defaults_file = Some(f),
            ("defaults_extra_file", Some(f)) => out.extra_file = Some(f),
            (key, value) => out.settings.push((key.to_string(), value)),
        }
    }
    out
}

/// The files the server reads first: the compiled-in `defaults`, as its command line
/// changes them.
pub fn start_files(defaults: Vec<String>, cmdline: &CommandLine) -> Vec<String> {
    if cmdline.no_defaults {
        return Vec::new();
    }
    if let Some(f) = &cmdline.defaults_file {
        return vec![f.clone()];
    }
    let mut files = defaults;
    if let Some(extra) = &cmdline.extra_file {
        // After the global files, before the user's own (~/.my.cnf).
        let at = files
            .iter()
            .position(|f| f.starts_with("/root/"))
            .unwrap_or(files.len());
        files.insert(at, extra.clone());
    }
    files
}

/// MySQL's `SET PERSIST` file in the data directory, read after every option file.
pub const PERSISTED_FILE: &str = "mysqld-auto.cnf";

/// The settings of a `mysqld-auto.cnf` (JSON: `{"mysql_server": {"mysql_dynamic_variables":
/// {"read_only": {"Value": "ON", ...}}, ...}}`; older versions nest the same way), as
/// (normalised name, value); nothing when it is not JSON.
pub fn parse_persisted(json: &str) -> Vec<(String, String)> {
    fn walk(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        if let serde_json::Value::Object(map) = v {
            for (k, v) in map {
                match v.get("Value") {
                    Some(serde_json::Value::String(s)) => out.push((normalise_key(k), s.clone())),
                    Some(other) if !other.is_object() => {
                        out.push((normalise_key(k), other.to_string()))
                    }
                    _ => walk(v, out),
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json) {
        walk(&v, &mut out);
    }
    out
}

#[cfg(test)]
#[path = "option_files_tests.rs"]
mod tests;
