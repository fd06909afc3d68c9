//! `mhactl` binary: parse the command line, run, print errors with their causes.
//! Everything else lives in the library so tests can drive it directly.

use std::process::ExitCode;

fn main() -> ExitCode {
    mhactl::cli::main()
}
