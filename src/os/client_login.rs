//! Running a MySQL client program on the node with a login that never reaches its argv:
//! an option file passed on stdin, written to a 0600 temporary file for the program.

use anyhow::{bail, Result};

/// The command-line client, whichever name the installed packages give it.
pub const CLIENT: &str = "$(command -v mariadb || command -v mysql)";

/// The dump program, whichever name the installed packages give it.
pub const DUMP: &str = "$(command -v mariadb-dump || command -v mysqldump)";

/// A MySQL option file (`[client]`, user and password) to hand to a client program on
/// the node through its stdin; see [`with_client_login`]. Never in argv.
pub fn client_option_file(user: &str, password: Option<&str>) -> Result<String> {
    let mut text = format!("[client]\nuser={user}\n");
    if let Some(pw) = password {
        if pw.contains(['\n', '\r']) {
            bail!("a password with a line break cannot be written to a MySQL option file");
        }
        text.push_str(&format!(
            "password=\"{}\"\n",
            // Quotes are stripped at both ends only; inside, `\\` is the one escape needed.
            pw.replace('\\', "\\\\")
        ));
    } else {
        text.push_str("# socket authentication\n");
    }
    Ok(text)
}

/// Wrap `command` (a client program and its arguments, `--defaults-extra-file=F` is
/// inserted after its first word) so that it reads its login from the first three
/// lines of stdin ([`client_option_file`]), written to a 0600 temporary file removed
/// afterwards; the rest of stdin is the program's.
pub fn with_client_login(program: &str, args: &str) -> String {
    format!(
        "umask 077; f=$(mktemp); trap 'rm -f \"$f\"' EXIT; \
         IFS= read -r l1; IFS= read -r l2; IFS= read -r l3; printf '%s\\n' \"$l1\" \"$l2\" \"$l3\" > \"$f\"; \
         {program} --defaults-extra-file=\"$f\" {args}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_file_keeps_the_password_out_of_argv() {
        let f = client_option_file("root", Some(r#"p"a\ss"#)).unwrap();
        assert_eq!(f, "[client]\nuser=root\npassword=\"p\"a\\\\ss\"\n");
        assert_eq!(f.lines().count(), 3);
        assert_eq!(client_option_file("root", None).unwrap().lines().count(), 3);
        assert!(client_option_file("root", Some("a\nb")).is_err());
        let script = with_client_login("mysqldump", "--all-databases");
        assert!(script.contains("mysqldump --defaults-extra-file=\"$f\" --all-databases"));
        assert!(!script.contains("password"));
    }
}
