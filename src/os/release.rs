//! Recognising an OS family from `/etc/os-release`: which distribution a node runs and
//! which family mhactl handles it as (Debian, Ubuntu, EL7, EL8, EL9, or Unknown: refused).

use std::collections::BTreeMap;

/// A family of Linux distributions that mhactl handles the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OsFamily {
    /// Debian and derivatives that are not Ubuntu (apt).
    Debian,
    /// Ubuntu and its derivatives (apt).
    Ubuntu,
    /// RHEL/CentOS 7 and clones, Amazon Linux 2 (yum).
    El7,
    /// RHEL 8 and clones (dnf).
    El8,
    /// RHEL 9 and later, clones, Fedora, Amazon Linux 2023 (dnf).
    El9,
    /// Anything else: mhactl refuses to guess.
    Unknown,
}

impl OsFamily {
    /// True for the Debian and Ubuntu families.
    pub fn is_debian_like(self) -> bool {
        matches!(self, OsFamily::Debian | OsFamily::Ubuntu)
    }

    /// True for the Enterprise Linux families.
    pub fn is_el(self) -> bool {
        matches!(self, OsFamily::El7 | OsFamily::El8 | OsFamily::El9)
    }
}

/// What `/etc/os-release` says about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// The family mhactl derives from `ID`, `ID_LIKE` and `VERSION_ID`.
    pub family: OsFamily,
    /// `ID` (e.g. `debian`, `rocky`).
    pub id: String,
    /// `VERSION_ID` (e.g. `12`, `8.9`); empty when absent (Debian sid).
    pub version_id: String,
    /// `PRETTY_NAME`, for messages.
    pub pretty_name: String,
}

/// Parser for `/etc/os-release` (see os-release(5)).
#[derive(Debug, Clone, Copy)]
pub struct OsRelease;

impl OsRelease {
    /// Parses the text of `/etc/os-release`. Never fails: unrecognised systems get
    /// [`OsFamily::Unknown`].
    pub fn parse(text: &str) -> OsInfo {
        let vars = parse_os_release_vars(text);
        let get = |k: &str| vars.get(k).cloned().unwrap_or_default();
        let id = get("ID").to_ascii_lowercase();
        let id_like: Vec<String> = get("ID_LIKE")
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let version_id = get("VERSION_ID");
        let pretty_name = match get("PRETTY_NAME") {
            p if p.is_empty() => get("NAME"),
            p => p,
        };
        let family = family_of(&id, &id_like, &version_id);
        OsInfo {
            family,
            id,
            version_id,
            pretty_name,
        }
    }
}

fn family_of(id: &str, id_like: &[String], version_id: &str) -> OsFamily {
    let like = |name: &str| id == name || id_like.iter().any(|l| l == name);
    let major: Option<u32> = version_id
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok());
    if id == "ubuntu" || (id != "debian" && like("ubuntu")) {
        return OsFamily::Ubuntu;
    }
    if like("debian") {
        return OsFamily::Debian;
    }
    if id == "amzn" {
        return match version_id {
            "2" => OsFamily::El7,
            _ if major.is_some_and(|m| m >= 2022) => OsFamily::El9,
            _ => OsFamily::Unknown,
        };
    }
    if id == "fedora" {
        return OsFamily::El9;
    }
    let el_ids = ["rhel", "centos", "rocky", "almalinux", "ol", "fedora"];
    if el_ids.iter().any(|n| like(n)) {
        return match major {
            Some(7) => OsFamily::El7,
            Some(8) => OsFamily::El8,
            Some(m) if m >= 9 => OsFamily::El9,
            _ => OsFamily::Unknown,
        };
    }
    OsFamily::Unknown
}

/// `KEY=value` pairs of an os-release file, with shell quoting removed.
fn parse_os_release_vars(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let unquoted = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            let inner = &v[1..v.len() - 1];
            if v.starts_with('"') {
                unescape_double_quoted(inner)
            } else {
                inner.to_string()
            }
        } else {
            v.to_string()
        };
        out.insert(k.trim().to_string(), unquoted);
    }
    out
}

fn unescape_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::sh_quote;

    fn fam(text: &str) -> OsFamily {
        OsRelease::parse(text).family
    }

    #[test]
    fn families_from_id_and_id_like() {
        assert_eq!(fam("ID=debian\nVERSION_ID=\"12\""), OsFamily::Debian);
        assert_eq!(fam("ID=debian\n"), OsFamily::Debian); // sid has no VERSION_ID
        assert_eq!(
            fam("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\""),
            OsFamily::Ubuntu
        );
        assert_eq!(
            fam("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=21"),
            OsFamily::Ubuntu
        );
        assert_eq!(fam("ID=raspbian\nID_LIKE=debian\n"), OsFamily::Debian);
        assert_eq!(
            fam("ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\""),
            OsFamily::El7
        );
        assert_eq!(
            fam("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.9\""),
            OsFamily::El8
        );
        assert_eq!(
            fam("ID=\"ol\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.10\""),
            OsFamily::El8
        );
        assert_eq!(fam("ID=\"rhel\"\nVERSION_ID=\"10.0\""), OsFamily::El9);
        assert_eq!(fam("ID=fedora\nVERSION_ID=40"), OsFamily::El9);
        assert_eq!(
            fam("ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\""),
            OsFamily::El7
        );
        assert_eq!(
            fam("ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\""),
            OsFamily::El9
        );
        assert_eq!(fam("ID=\"centos\"\nVERSION_ID=\"6\""), OsFamily::Unknown);
        assert_eq!(fam("ID=alpine\nVERSION_ID=3.19.1"), OsFamily::Unknown);
        assert_eq!(fam(""), OsFamily::Unknown);
    }

    #[test]
    fn fixtures() {
        let cases = [
            (
                include_str!("../../tests/fixtures/os/debian-12"),
                OsFamily::Debian,
                "debian",
                "12",
            ),
            (
                include_str!("../../tests/fixtures/os/ubuntu-22.04"),
                OsFamily::Ubuntu,
                "ubuntu",
                "22.04",
            ),
            (
                include_str!("../../tests/fixtures/os/centos-7"),
                OsFamily::El7,
                "centos",
                "7",
            ),
            (
                include_str!("../../tests/fixtures/os/rocky-8"),
                OsFamily::El8,
                "rocky",
                "8.9",
            ),
            (
                include_str!("../../tests/fixtures/os/almalinux-9"),
                OsFamily::El9,
                "almalinux",
                "9.4",
            ),
        ];
        for (text, family, id, version) in cases {
            let info = OsRelease::parse(text);
            assert_eq!(info.family, family, "{id}");
            assert_eq!(info.id, id);
            assert_eq!(info.version_id, version);
            assert!(!info.pretty_name.is_empty());
        }
        assert_eq!(
            OsRelease::parse(include_str!("../../tests/fixtures/os/debian-12")).pretty_name,
            "Debian GNU/Linux 12 (bookworm)"
        );
    }

    #[test]
    fn quoting_in_os_release() {
        let i = OsRelease::parse("# c\nPRETTY_NAME=\"A \\\"quoted\\\" name\"\nID='debian'\n");
        assert_eq!(i.pretty_name, "A \"quoted\" name");
        assert_eq!(i.id, "debian");
        assert_eq!(sh_quote("mariadb-server"), "mariadb-server");
        assert_eq!(sh_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(sh_quote(""), "''");
    }
}
