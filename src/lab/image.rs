//! The lab's base image: a debootstrapped Debian root filesystem with sshd, plus an
//! offline package repository (`file:/srv/mhactl-repo`) holding everything bootstrap
//! installs. Built once and cached, keyed by suite and package set, so that a second
//! `lab up` takes seconds. Nodes mount it read-only as the lower layer of an overlay.

use super::host;
use super::LabFlavor;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// Bump when the way the image is built changes, so old caches are not reused.
const RECIPE_VERSION: &str = "1";

/// Packages in the base system itself: what any bare server has, plus sshd. `ping`
/// (keepalived's arbiter check, `vip.arbiter`) and `nft` (failover-test's `isolate`
/// fault) are in every standard Debian install (priority "important") but not in
/// debootstrap's minbase. `sudo` is on every server that forbids root logins: `lab up
/// --ssh-user` gives its user sudo rights.
const BASE_PACKAGES: &[&str] = &[
    "openssh-server",
    "iproute2",
    "procps",
    "iputils-ping",
    "nftables",
    "sudo",
];

/// Where the offline repository lives inside the image.
pub const REPO_DIR_IN_IMAGE: &str = "srv/mhactl-repo";

/// What goes into one image: the Debian suite and the packages its repository carries.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Debian suite (`bookworm`, `sid`).
    pub suite: &'static str,
    /// Packages (with dependencies) the offline repository must hold.
    pub repo_packages: &'static [&'static str],
    /// Packages installed in the base system after debootstrap, with apt (the MySQL
    /// image's daemonless `systemctl`, so nodes have a service manager like real hosts;
    /// apt replaces systemd, which it conflicts with).
    pub base_extra: &'static [&'static str],
}

impl ImageSpec {
    /// The image for a server flavor.
    pub fn for_flavor(flavor: LabFlavor) -> ImageSpec {
        match flavor {
            LabFlavor::Mariadb => ImageSpec {
                suite: "bookworm",
                repo_packages: &["mariadb-server", "mariadb-client", "keepalived"],
                base_extra: &[],
            },
            LabFlavor::Mysql => ImageSpec {
                suite: "sid",
                repo_packages: &["mysql-server", "mysql-client", "keepalived"],
                // sid's openssh-server needs a sysusers implementation: the standalone one
                // replaces systemd, which conflicts with the daemonless systemctl.
                base_extra: &["systemd-standalone-sysusers", "systemctl"],
            },
            LabFlavor::Mariadb11 => ImageSpec {
                suite: "sid",
                repo_packages: &["mariadb-server", "mariadb-client", "keepalived"],
                // As for MySQL: sid's packages are run from their units, like on a real
                // sid host, by the daemonless systemctl.
                base_extra: &["systemd-standalone-sysusers", "systemctl"],
            },
        }
    }

    /// Cache key: changes whenever the suite, the package sets or the recipe change.
    pub fn key(&self) -> String {
        let mut hash = Sha256::new();
        for part in [RECIPE_VERSION, self.suite]
            .iter()
            .chain(BASE_PACKAGES)
            .chain(self.repo_packages)
            // Only when present, so images without extras keep their existing cache key.
            .chain(
                self.base_extra
                    .iter()
                    .flat_map(|p| ["+", *p])
                    .collect::<Vec<_>>()
                    .iter(),
            )
        {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}", self.suite, hex)
    }
}

/// The cache directory: `$MHACTL_CACHE_DIR` or `/var/cache/mhactl`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("MHACTL_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/mhactl"))
}

/// Return the root filesystem of the image, building it first if it is not cached.
/// `say` receives progress lines for the user.
pub fn ensure(spec: &ImageSpec, say: &dyn Fn(&str)) -> Result<PathBuf> {
    let images = cache_dir().join("images");
    fs::create_dir_all(&images)
        .with_context(|| format!("cannot create cache directory {}", images.display()))?;
    let dir = images.join(spec.key());
    let rootfs = dir.join("rootfs");
    let marker = dir.join("complete");

    // One builder at a time (two `lab up` in parallel, or tests): the second waits here.
    let _lock = FileLock::acquire(&images.join(".lock"))?;
    if marker.exists() {
        return Ok(rootfs);
    }
    say(&format!(
        "building the lab base image {} (Debian {}; first time only, about 2 minutes)",
        spec.key(),
        spec.suite
    ));
    let tmp = images.join(format!(".building-{}", spec.key()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).context("cannot remove an earlier unfinished image build")?;
    }
    fs::create_dir_all(&tmp)?;
    let log = tmp.join("build.log");
    build(spec, &tmp.join("rootfs"), &log, say)
        .with_context(|| {
            format!(
                "building the lab base image failed (log: {})",
                dir.join("build.log").display()
            )
        })
        .inspect_err(|_| {
            // Keep the log where the message says it is.
            let _ = fs::create_dir_all(&dir);
            let _ = fs::copy(&log, dir.join("build.log"));
        })?;
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::rename(&tmp, &dir)?;
    fs::write(&marker, spec.key())?;
    say("base image ready");
    Ok(rootfs)
}

fn build(spec: &ImageSpec, rootfs: &Path, log: &Path, say: &dyn Fn(&str)) -> Result<()> {
    let root = rootfs.to_str().context("cache path is not UTF-8")?;
    let include = format!("--include={}", BASE_PACKAGES.join(","));
    let mut args = vec!["--variant=minbase", include.as_str(), spec.suite, root];
    // The mirror is debootstrap's own default unless the user points at a local one.
    let mirror = std::env::var("MHACTL_LAB_MIRROR").ok();
    if let Some(m) = mirror.as_deref() {
        args.push(m);
    }
    say("  debootstrap");
    run_logged("debootstrap", &args, log)?;

    // Download (not install) the packages bootstrap will install, inside the image so apt
    // resolves dependencies against exactly what the image has. A private mount namespace
    // keeps the /proc mount from leaking onto the host. A mirror snapshot's Release file
    // may be past its Valid-Until (sid's are valid for days only): accept it, as
    // debootstrap itself just did.
    say("  downloading packages for the offline repository");
    let script = format!(
        "set -e; mount -t proc proc '{root}/proc'; \
         chroot '{root}' apt-get update -q -o Acquire::Check-Valid-Until=false; \
         {extra} \
         chroot '{root}' env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
           --no-install-recommends --download-only {pkgs}",
        pkgs = spec.repo_packages.join(" "),
        extra = if spec.base_extra.is_empty() {
            String::new()
        } else {
            format!(
                "chroot '{root}' env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                 --no-install-recommends --allow-remove-essential {}; \
                 chroot '{root}' apt-get clean;",
                spec.base_extra.join(" ")
            )
        }
    );
    run_logged(
        "unshare",
        &["--mount", "--propagation", "private", "sh", "-c", &script],
        log,
    )?;

    say("  building the offline repository");
    let repo = rootfs.join(REPO_DIR_IN_IMAGE);
    fs::create_dir_all(&repo)?;
    let archives = rootfs.join("var/cache/apt/archives");
    let mut count = 0;
    for entry in fs::read_dir(&archives)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            fs::rename(&path, repo.join(path.file_name().unwrap_or_default()))?;
            count += 1;
        }
    }
    if count == 0 {
        bail!("apt downloaded no packages for {:?}", spec.repo_packages);
    }
    let packages = host::run(
        "sh",
        &[
            "-c",
            &format!(
                "cd '{}' && dpkg-scanpackages -m . 2>/dev/null",
                repo.display()
            ),
        ],
    )?;
    fs::write(repo.join("Packages"), packages)?;

    // The nodes know only the offline repository: like an air-gapped data centre's mirror.
    fs::write(
        rootfs.join("etc/apt/sources.list"),
        "# mhactl lab: offline repository inside the image; the nodes have no other network.\n\
         deb [trusted=yes] file:/srv/mhactl-repo ./\n",
    )?;
    let _ = fs::remove_dir_all(rootfs.join("etc/apt/sources.list.d"));
    fs::create_dir_all(rootfs.join("etc/apt/sources.list.d"))?;
    clear_dir(&rootfs.join("var/lib/apt/lists"))?;

    // Host keys generated by openssh-server's postinst would be shared by every node:
    // remove them; each node gets its own in its overlay.
    for entry in fs::read_dir(rootfs.join("etc/ssh"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("ssh_host_") {
            fs::remove_file(&path)?;
        }
    }
    fs::write(
        rootfs.join("etc/ssh/sshd_config.d/mhactl-lab.conf"),
        "# mhactl lab node: key-only root login, one host key (listed in the lab's known_hosts).\n\
         HostKey /etc/ssh/ssh_host_ed25519_key\n\
         PermitRootLogin prohibit-password\n\
         PasswordAuthentication no\n\
         UseDNS no\n\
         MaxSessions 64\n\
         MaxStartups 64\n",
    )?;
    say(&format!("  {count} packages in the offline repository"));
    Ok(())
}

/// Remove the contents of a directory, keeping the directory.
fn clear_dir(dir: &Path) -> Result<()> {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// Run a command with its output appended to `log`; on failure, include the log's tail.
fn run_logged(program: &str, args: &[&str], log: &Path) -> Result<()> {
    let file = fs::OpenOptions::new().create(true).append(true).open(log)?;
    let status = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{program} failed ({status}):\n{}", tail.join("\n"));
    }
    Ok(())
}

/// An exclusive lock on a file, released on drop (flock via the `flock` program would
/// need a child process; std's File::lock does it in-process).
struct FileLock(#[allow(dead_code)] fs::File);

impl FileLock {
    fn acquire(path: &Path) -> Result<FileLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open lock {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(FileLock(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_keys() {
        // The MariaDB image's key must not move when other flavors add fields: labs
        // would rebuild a cached image for nothing. (It moved on purpose once: `sudo` in
        // BASE_PACKAGES, for `lab up --ssh-user`; was bookworm-749278e89b1c.)
        assert_eq!(
            ImageSpec::for_flavor(LabFlavor::Mariadb).key(),
            "bookworm-4a545bd00e05"
        );
        let mysql = ImageSpec::for_flavor(LabFlavor::Mysql).key();
        assert!(mysql.starts_with("sid-"), "{mysql}");
        let mariadb11 = ImageSpec::for_flavor(LabFlavor::Mariadb11).key();
        assert!(
            mariadb11.starts_with("sid-") && mariadb11 != mysql,
            "{mariadb11}"
        );
    }
}
