//! Quoting a word for a POSIX shell: a pure string function, below every layer, so the
//! transport (commands it runs) and inventory (commands it suggests in a message, such
//! as `chmod 600 PATH`) quote the same way.

/// Quote a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    /// What `sh` makes of the quoted word is the word itself, whatever it holds.
    #[test]
    fn sh_reads_back_every_word() {
        for word in [
            "",
            "plain",
            "a b",
            "it's",
            "'",
            "''",
            "$(id)",
            "`id`",
            "a\nb",
            "*",
            "-n",
            "é ü",
            "\\",
            "\"q\"",
            "x;rm -rf /",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(word)))
                .output()
                .expect("sh");
            assert_eq!(String::from_utf8_lossy(&out.stdout), word, "{word:?}");
        }
    }
}
