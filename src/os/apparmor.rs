//! AppArmor (Ubuntu, Debian's mysql-server): whether it confines mysqld, the profile's
//! local include where mhactl keeps its block of rules for the inventory's paths, and
//! reloading the profile. Which rules the inventory's paths need is bootstrap's
//! `apparmor` step's decision.

/// The AppArmor profile confining MySQL's mysqld (Ubuntu, Debian's mysql-server).
pub const APPARMOR_PROFILE: &str = "/etc/apparmor.d/usr.sbin.mysqld";

/// Its local include, for site additions.
pub const APPARMOR_LOCAL: &str = "/etc/apparmor.d/local/usr.sbin.mysqld";

/// Exit 0 when AppArmor is on and the mysqld profile is installed (exit 100 otherwise).
pub const APPARMOR_ENABLED: &str =
    "[ \"$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)\" = Y ] \
     && [ -f /etc/apparmor.d/usr.sbin.mysqld ] || exit 100";

/// First line of mhactl's block in the local include.
const APPARMOR_BEGIN: &str = "# BEGIN mhactl: paths from the inventory (managed, do not edit)";

/// Last line of mhactl's block.
const APPARMOR_END: &str = "# END mhactl";

/// `current` (the local include, if any) with mhactl's block set to `rules` (removed
/// when there are none); everything else in the file is kept.
pub fn apparmor_local(current: Option<&str>, rules: &[String]) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in current.unwrap_or("").lines() {
        if line == APPARMOR_BEGIN {
            inside = true;
        } else if line == APPARMOR_END && inside {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !rules.is_empty() {
        out.push_str(APPARMOR_BEGIN);
        out.push('\n');
        for r in rules {
            out.push_str("  ");
            out.push_str(r);
            out.push('\n');
        }
        out.push_str(APPARMOR_END);
        out.push('\n');
    }
    out
}

/// Reloads the mysqld profile (with its local include).
pub fn reload_profile_command() -> String {
    format!("apparmor_parser -r {APPARMOR_PROFILE}")
}
