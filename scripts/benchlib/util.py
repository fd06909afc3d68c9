"""Helpers shared by every benchmark section: running commands, the machine's load and
description, and the statistics the report prints. Python 3 standard library only."""

import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, check=True, env=None, capture=True, timeout=None, input_text=None):
    """Run a command; return CompletedProcess (text)."""
    proc = subprocess.run(
        cmd,
        env=env,
        text=True,
        input=input_text,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        timeout=timeout,
        stdin=None if input_text is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(cmd)}` exited {proc.returncode}\n"
            f"stdout: {(proc.stdout or '')[-2000:]}\nstderr: {(proc.stderr or '')[-2000:]}"
        )
    return proc


def sample_hwm(proc, timeout):
    """Wait for proc (/usr/bin/time) while sampling its child's (the measured command's)
    VmHWM, the peak resident set of that one process, every 10 ms; return the last value
    (kB). /usr/bin/time's "Maximum resident set size" is the largest of the process and
    the children it reaped (for mhactl: its ssh clients), so both are reported."""
    deadline = time.monotonic() + timeout
    child, hwm = None, None
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"timed out after {timeout} s")
        try:
            if child is None:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    pids = f.read().split()
                child = pids[0] if pids else None
            if child is not None:
                with open(f"/proc/{child}/status") as f:
                    m = re.search(r"^VmHWM:\s+(\d+)", f.read(), re.M)
                if m:
                    hwm = int(m.group(1))
        except OSError:
            pass
        time.sleep(0.01)
    return hwm


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])

def strip_output(value):
    """Drop commands' stdout/stderr from the results (they are in the work directory)."""
    if isinstance(value, dict):
        value.pop("stdout", None)
        value.pop("stderr", None)
        for v in value.values():
            strip_output(v)


# -------------------------------------------------------------------- report
def mmm(values, fmt="{:.2f}"):
    values = [v for v in values if v is not None]
    if not values:
        return ["–", "–", "–"]
    return [fmt.format(min(values)), fmt.format(statistics.median(values)),
            fmt.format(max(values))]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def yes_no(ok):
    return "**yes**" if ok else "**no**"


def machine():
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            os_name = m.group(1) if m else ""
    return {"nproc": os.cpu_count(), "memory_gib": mem_kb / 1024 / 1024, "cpu": cpu,
            "kernel": platform.release(), "os": os_name}


def git_commit():
    # --no-build may measure a binary built earlier (e.g. a copy kept steady while the
    # tree changes): MHACTL_BENCH_COMMIT says which.
    if os.environ.get("MHACTL_BENCH_COMMIT"):
        return os.environ["MHACTL_BENCH_COMMIT"]
    commit = run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    return commit + (" (with uncommitted changes)" if dirty else "")

