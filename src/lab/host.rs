//! Running commands on the control host for the lab (as root), with errors that name
//! the command and carry its stderr, and the prerequisite checks behind `lab up`.

use anyhow::{bail, Context, Result};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

/// Generate an ed25519 key pair without a passphrase at `path` (and `path`.pub).
pub fn ssh_keygen(path: &std::path::Path, comment: &str) -> Result<()> {
    let path = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("non-UTF-8 path {}", path.display()))?;
    run(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
    )?;
    Ok(())
}

/// Run `program args...` on this host; fail with its stderr if it exits non-zero.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !out.status.success() {
        bail!(
            "`{} {}` failed ({}): {}",
            program,
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run and ignore failure (for best-effort clean-up of things that may not exist).
pub fn run_quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Is `program` on PATH (or an absolute path that exists)?
pub fn has_program(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|dir| dir.join(program).is_file())
}

/// The lab creates namespaces, bridges and mounts: that needs root.
pub fn require_root() -> Result<()> {
    // The owner of /proc/self is the process's effective uid; no unsafe libc call needed.
    let uid = std::fs::metadata("/proc/self")
        .context("cannot read /proc/self: the lab needs Linux")?
        .uid();
    if uid != 0 {
        bail!(
            "`mhactl lab` needs root (it creates network namespaces, a bridge and mounts); \
             run it with sudo or as root"
        );
    }
    Ok(())
}

/// Host programs the lab uses, and the Debian package that provides each.
const PREREQUISITES: &[(&str, &str)] = &[
    ("debootstrap", "debootstrap"),
    ("dpkg-scanpackages", "dpkg-dev"),
    ("ip", "iproute2"),
    ("unshare", "util-linux"),
    ("chroot", "coreutils"),
    ("mount", "mount"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
];

/// Check every prerequisite at once and name all missing ones with the install command.
pub fn require_prerequisites() -> Result<()> {
    let mut missing_programs = Vec::new();
    let mut packages = Vec::new();
    for (program, package) in PREREQUISITES {
        if !has_program(program) {
            missing_programs.push(*program);
            if !packages.contains(package) {
                packages.push(*package);
            }
        }
    }
    if !missing_programs.is_empty() {
        bail!(
            "the lab needs {} on this host; install with: apt-get install -y {}",
            missing_programs.join(", "),
            packages.join(" ")
        );
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.contains("overlay") {
        // The module may just not be loaded yet.
        run_quiet("modprobe", &["overlay"]);
        let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
        if !filesystems.contains("overlay") {
            bail!("the kernel has no overlay filesystem (try `modprobe overlay`)");
        }
    }
    Ok(())
}
