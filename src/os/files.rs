//! Plain file operations on a node that are not one tool's business (removing a file
//! mhactl wrote). Writing files goes through the transport (`write_file`: atomic, content
//! on stdin).

use crate::transport::shell_quote;

/// Removes the file `path` (no error when it is gone already).
pub fn remove_file_command(path: &str) -> String {
    format!("rm -f {}", shell_quote(path))
}
