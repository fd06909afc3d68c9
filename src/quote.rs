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
