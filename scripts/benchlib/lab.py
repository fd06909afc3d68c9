"""The lab a benchmark runs on and the measured mhactl commands (issue 9): fresh labs on
free subnets in 230-239, every command under /usr/bin/time -v with MHACTL_STATS_FILE, and
the original suite's run (bootstrap, re-run, verify, checksum, failover-test per mode,
baseline)."""

import json
import os
import re
import subprocess
import tempfile
import time

from .util import ROOT, load_average, log, run, sample_hwm, strip_output

MODES = ["stop-mysqld", "kill-mysqld", "stop-keepalived", "partition", "isolate"]
TABLE_ROWS = 100_000


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="mhactl-bench-", dir="/tmp")
        self.lab = None
        self.lab_up = False
        self.mhactl = None
        self.subnets = [args.subnet, args.subnet + 1] if args.subnet is not None else None
        self.subnet = None
        self.seq = 0

    # ---------------------------------------------------------------- setup
    def build(self):
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        # --debug-build: the day-2 sections' times are keepalived's and the network's, and
        # a release build costs minutes of a shared machine's CPU.
        self.profile = "debug" if self.args.debug_build else "release"
        if not self.args.no_build:
            cmd = ["cargo", "build", "--locked"] + ([] if self.args.debug_build else ["--release"])
            log(" ".join(cmd))
            run(cmd, capture=False)
        self.mhactl = os.path.join(target, self.profile, "mhactl")
        if getattr(self.args, "binary", None):
            # --binary: measure that build (a before/after comparison), not this tree's.
            self.mhactl = os.path.abspath(self.args.binary)
        if not os.access(self.mhactl, os.X_OK):
            raise RuntimeError(f"{self.mhactl} is missing (build failed?)")

    @staticmethod
    def ensure_time():
        if os.access("/usr/bin/time", os.X_OK):
            return
        log("installing GNU time (apt-get install time)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "install", "-y", "-q", "time"], env=env)

    def pick_subnets(self):
        """Two free subnets: one for mhactl's lab, one for the baseline's (a lab brought
        up on the subnet of one just taken down can race its teardown)."""
        if self.subnets is not None:
            return
        free = [octet for octet in range(230, 240)
                if not os.path.exists(f"/sys/class/net/mhactl{octet}br")]
        if len(free) < 2:
            raise RuntimeError("need two free lab subnets in 230-239 (pass --subnet S: S and S+1)")
        self.subnets = free[:2]

    # ---------------------------------------------------------------- lab
    def up(self, which):
        """Bring up a fresh lab: which 0 for mhactl, 1 for the baseline."""
        self.pick_subnets()
        self.subnet = self.subnets[which]
        self.lab = os.path.join(self.work, ["lab", "lab-baseline"][which])
        t0 = time.monotonic()
        for attempt in (1, 2):
            proc = run([self.mhactl, "lab", "up", "--dir", self.lab, "--subnet", str(self.subnet),
                        "--flavor", self.args.flavor], check=attempt == 2)
            if proc.returncode == 0:
                break
            log(f"lab up failed, retrying once: {proc.stderr.strip()[-300:]}")
            time.sleep(3)
        self.lab_up = True
        return time.monotonic() - t0

    def down(self):
        if self.lab_up:
            run([self.mhactl, "lab", "down", "--dir", self.lab], check=False)
            self.lab_up = False

    def inventory(self):
        return os.path.join(self.lab, "inventory.yaml")

    def on(self, node, *cmd, check=True, timeout=120, input_text=None):
        return run([self.mhactl, "lab", "ssh", "--dir", self.lab, node, "--", *cmd],
                   check=check, timeout=timeout, input_text=input_text)

    # ---------------------------------------------------------------- measuring
    def measured(self, name, cmd, timeout=900, env=None):
        """Run cmd under /usr/bin/time -v with MHACTL_STATS_FILE (and `env` added to the
        environment); wall time, rc, stdout, peak RSS (kB) and the SSH statistics."""
        self.seq += 1
        stats = os.path.join(self.work, f"{self.seq:03d}-{name}.stats.jsonl")
        timef = os.path.join(self.work, f"{self.seq:03d}-{name}.time")
        env = dict(os.environ, **(env or {}), MHACTL_STATS_FILE=stats)
        out_path = os.path.join(self.work, f"{self.seq:03d}-{name}.stdout")
        err_path = os.path.join(self.work, f"{self.seq:03d}-{name}.stderr")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", timef, *cmd], env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            hwm = sample_hwm(proc, timeout)
            wall = time.monotonic() - t0
        with open(out_path) as f:
            stdout = f.read()
        with open(err_path) as f:
            stderr = f.read()
        rss = None
        with open(timef) as f:
            for line in f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
                if m:
                    rss = int(m.group(1))
        lines = []
        if os.path.exists(stats):
            with open(stats) as f:
                lines = [json.loads(line) for line in f if line.strip()]
        per_node = {}
        for line in lines:
            n = per_node.setdefault(line["node"], {"ssh_connections": 0, "remote_commands": 0,
                                                   "forwards": 0})
            for k in n:
                n[k] += line.get(k, 0)
        ssh = {k: sum(n[k] for n in per_node.values())
               for k in ("ssh_connections", "remote_commands", "forwards")}
        ssh["per_node"] = per_node
        return {"wall_s": wall, "rc": proc.returncode, "stdout": stdout,
                "stderr": stderr, "rss_kb": rss, "hwm_kb": hwm, "ssh": ssh,
                "stats_lines": lines, "load": load_average()}

    def mh(self, name, *args, timeout=900, env=None):
        return self.measured(name, [self.mhactl, "--no-progress", *args], timeout=timeout,
                             env=env)

    def bootstrap(self, name):
        r = self.mh(name, "bootstrap", self.inventory(), "--output", "json")
        report = json.loads(r["stdout"])
        if r["rc"] != 0 or not report.get("ok"):
            raise RuntimeError(f"{name} failed: {r['stdout'][-3000:]}\n{r['stderr'][-2000:]}")
        step_ms = {}
        for s in report["steps"]:
            step_ms[s["step"]] = max(step_ms.get(s["step"], 0), s["ms"])
        install = step_ms.get("install-packages", 0) / 1000
        r["changed"] = report["changed"]
        r["install_s"] = install
        # Steps run on both nodes in parallel and the next starts when both finished:
        # per step the slower node, summed over every step but install-packages.
        r["excl_install_s"] = sum(v for k, v in step_ms.items() if k != "install-packages") / 1000
        r["steps_s"] = {k: v / 1000 for k, v in step_ms.items()}
        return r

    def verify(self, name, *extra):
        r = self.mh(name, "-i", self.inventory(), "verify", "--output", "json", *extra)
        report = json.loads(r["stdout"])
        if r["rc"] != 0 or not report.get("ok"):
            bad = [c for c in report.get("checks", []) if not c.get("ok")]
            raise RuntimeError(f"{name}: pair not healthy: {json.dumps(bad)[:3000]}")
        r["checks"] = len(report["checks"])
        return r

    def make_table(self):
        sql = ["CREATE DATABASE IF NOT EXISTS bench",
               "DROP TABLE IF EXISTS bench.t",
               "CREATE TABLE bench.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "v CHAR(32) NOT NULL, n INT NOT NULL)",
               "INSERT INTO bench.t (v, n) VALUES (MD5(RAND()), 1)"]
        sql += ["INSERT INTO bench.t (v, n) SELECT MD5(RAND()), n + 1 FROM bench.t"] * 16
        sql += [f"INSERT INTO bench.t (v, n) SELECT MD5(RAND()), n FROM bench.t "
                f"LIMIT {TABLE_ROWS - 2 ** 16}"]
        t0 = time.monotonic()
        self.on("node-a", "mysql", "-e", "; ".join(sql) + ";", timeout=600)
        deadline = time.monotonic() + 300
        while True:
            counts = [self.on(n, "mysql", "-N", "-e", "SELECT COUNT(*) FROM bench.t",
                              check=False).stdout.strip() for n in ("node-a", "node-b")]
            if counts == [str(TABLE_ROWS)] * 2:
                return time.monotonic() - t0
            if time.monotonic() > deadline:
                raise RuntimeError(f"the 100k-row table did not replicate: counts {counts}")
            time.sleep(0.5)

    def failover(self, mode):
        r = self.mh(f"failover-{mode}", "-i", self.inventory(), "failover-test", "--mode", mode,
                    "--output", "json")
        try:
            report = json.loads(r["stdout"])
        except json.JSONDecodeError as e:
            raise RuntimeError(f"failover-test {mode}: no JSON: {r['stdout'][-2000:]}\n"
                               f"{r['stderr'][-2000:]}") from e
        r.update({k: report.get(k) for k in ("ok", "old_holder", "new_holder", "vip_moved_s",
                                            "write_gap_s", "writes_acked", "writes_failed",
                                            "writes_lost", "writes_missing_after_rejoin",
                                            # issue 17: what noticed the fault, catch-up
                                            "detection", "detection_s", "catch_up_s",
                                            "rejoined", "healthy_after", "problems",
                                            # isolate only (absent for the other modes)
                                            "double_holder_s", "vip_released_s",
                                            "vip_went_back", "both_writable_s", "fenced",
                                            "cut_off_node_writes")})
        return r

    def keepalived_params(self):
        """interval, fall, advert_int and the priorities from the nodes' keepalived.conf."""
        params = {"priorities": []}
        for node in ("node-a", "node-b"):
            conf = self.on(node, "cat", "/etc/keepalived/keepalived.conf").stdout
            for key in ("interval", "fall", "advert_int"):
                m = re.search(rf"^\s*{key}\s+([\d.]+)", conf, re.M)
                if m:
                    params[key] = float(m.group(1))
            m = re.search(r"^\s*priority\s+(\d+)", conf, re.M)
            if m:
                params["priorities"].append(int(m.group(1)))
        return params

    def versions(self):
        v = {}
        server = self.on("node-a", "mysql", "-N", "-e", "SELECT VERSION()", check=False)
        if server.returncode != 0:
            # MySQL's root logs in with a password (the lab's secrets.yaml), not the socket.
            server = self.on("node-a", "sh", "-c", "mysqld --version")
            m = re.search(r"\bVer\s+(\S+)", server.stdout)
            server.stdout = m.group(1) if m else server.stdout
        v["mariadb"] = server.stdout.strip()
        ka = self.on("node-a", "keepalived", "-v", check=False)
        v["keepalived"] = ((ka.stderr or "") + (ka.stdout or "")).strip().splitlines()[0]
        v["node_os"] = self.on("node-a", "sh", "-c",
                               ". /etc/os-release; echo $PRETTY_NAME").stdout.strip()
        return v

    # ---------------------------------------------------------------- one run
    def one_run(self, i):
        res = {"load_start": load_average()}
        res["lab_up_s"] = self.up(0)
        log(f"run {i}: lab up (subnet {self.subnet}) in {self.lab}")
        try:
            log(f"run {i}: bootstrap from bare nodes")
            res["bootstrap"] = self.bootstrap("bootstrap")
            log(f"run {i}: bootstrap {res['bootstrap']['wall_s']:.1f} s; re-run")
            res["rerun"] = self.bootstrap("rerun")
            if res["rerun"]["changed"] != 0:
                raise RuntimeError(f"re-run changed {res['rerun']['changed']} steps")
            res["verify"] = self.verify("verify")
            log(f"run {i}: creating the {TABLE_ROWS}-row table")
            res["table_s"] = self.make_table()
            res["verify_checksum"] = self.verify("verify-checksum", "--checksum")
            res["keepalived"] = self.keepalived_params()
            if i == 1:
                res["versions"] = self.versions()
            res["failover"] = {}
            for mode in MODES:
                log(f"run {i}: failover-test --mode {mode}")
                res["failover"][mode] = self.failover(mode)
        finally:
            self.down()
        if self.args.flavor == "mariadb":
            log(f"run {i}: baseline (scripts/baseline-runbook.sh) on a fresh lab")
            self.up(1)
            try:
                r = self.measured("baseline", [os.path.join(ROOT, "scripts", "baseline-runbook.sh"),
                                               self.lab])
                if r["rc"] != 0:
                    raise RuntimeError(f"baseline failed: {r['stderr'][-3000:]}")
                res["baseline"] = r
            finally:
                self.down()
        res["load_end"] = load_average()
        strip_output(res)
        return res
