"""Rolling-restart section (issue 16 item 3): bootstrap re-run after an inventory change
that needs a server restart, under a writer through the VIP.

The writer and the samplers run on the lab nodes themselves (the host has no MySQL client
and the benchmark is standard-library Python): node-a runs a `mysql` client loop against
the VIP (a new connection per write, 50 ms apart, 1 s connect timeout, each line `seq
epoch ok|fail`), and each node samples every 200 ms whether it holds the VIP and whether
its own server answers. Their clocks are the host's (the lab shares one kernel).

Rolling restarts are helper R's work (branch s24/rolling-wire): the section first asks
`bootstrap --dry-run` which path the change takes and skips loudly when the build has no
rolling path ("passive first" / "after switchover")."""

import json
import os
import secrets
import time

from .day2 import _num, fresh_pair, per_flavor, section_meta
from .util import load_average, log, med, mmm, yes_no

DB = "benchroll"
CNF = "/root/bench-app.cnf"
FLAG = "/run/bench-rolling.on"
# Two restart-needing states the runs alternate between (a replication filter option).
CHANGES = ["  skip_errors: [1062]\n", ""]
ROLLING_MARKERS = ("passive first", "after switchover")


class Skipped(Exception):
    """The section cannot run with this build; the message says why."""


def _set_option(inv, line):
    with open(inv) as f:
        text = f.read()
    for c in CHANGES:
        if c:
            text = text.replace(c, "")
    flavor_line = next(ln for ln in text.splitlines(keepends=True)
                       if ln.startswith("  flavor: "))
    with open(inv, "w") as f:
        f.write(text.replace(flavor_line, flavor_line + line, 1))


def _add_app_user(bench, password):
    lab = bench.lab
    with open(os.path.join(lab, "secrets.yaml"), "a") as f:
        f.write(f'bench_app_password: "{password}"\n')
    subnet = bench.subnet
    with open(bench.inventory(), "a") as f:
        f.write("access:\n  users:\n    - name: benchapp\n"
                "      password_file: secrets.yaml#bench_app_password\n"
                f"      networks: [10.213.{subnet}.0/24]\n"
                f'      privileges: "ALL PRIVILEGES ON {DB}.*"\n')


def _dry_run_paths(bench):
    r = bench.mh("rolling-dry-run", "bootstrap", bench.inventory(), "--dry-run",
                 "--output", "json")
    rep = json.loads(r["stdout"])
    return [s.get("detail", "") for s in rep.get("steps", []) if s.get("step") == "server-config"]


def _loop(bench, node, script, log_path):
    bench.on(node, "sh", "-c", f"touch {FLAG}; setsid nohup sh -c '{script}' "
             f">{log_path} 2>&1 </dev/null &")


def _start_probes(bench, vip):
    sql = f"mysql --defaults-extra-file={CNF} --connect-timeout=1"
    writer = (f"seq=0; while [ -e {FLAG} ]; do seq=$((seq+1)); "
              f"if {sql} -h {vip} -e \"INSERT INTO {DB}.t (seq) VALUES ($seq)\" "
              ">/dev/null 2>&1; then r=ok; else r=fail; fi; "
              "echo \"$seq $(date +%s.%N) $r\"; sleep 0.05; done")
    _loop(bench, "node-a", writer, "/root/bench-writer.log")
    for i, node in enumerate(("node-a", "node-b")):
        own = f"10.213.{bench.subnet}.{11 + i}"
        sampler = (f"while [ -e {FLAG} ]; do t=$(date +%s.%N); v=0; "
                   f"ip -4 -o addr show dev eth0 | grep -q \" {vip}/\" && v=1; u=0; "
                   f"{sql} -h {own} -e \"SELECT 1\" >/dev/null 2>&1 && u=1; "
                   "echo \"$t $v $u\"; sleep 0.2; done")
        _loop(bench, node, sampler, "/root/bench-sampler.log")


def _stop_probes(bench):
    for node in ("node-a", "node-b"):
        bench.on(node, "rm", "-f", FLAG, check=False)
    time.sleep(1.5)
    writes = [ln.split() for ln in bench.on("node-a", "cat", "/root/bench-writer.log")
              .stdout.splitlines() if len(ln.split()) == 3]
    samples = {n: [tuple(float(x) for x in ln.split()) for ln in
                   bench.on(n, "cat", "/root/bench-sampler.log").stdout.splitlines()
                   if len(ln.split()) == 3] for n in ("node-a", "node-b")}
    return writes, samples


def longest_gap(times, start, end):
    last, gap = start, 0.0
    for t in sorted(t for t in times if start < t <= end) + [end]:
        gap, last = max(gap, t - last), t
    return gap


def down_intervals(samples):
    """[(from, to)] where the node's server did not answer (to: the next answering sample)."""
    out, since = [], None
    for t, _vip, up in samples:
        if not up and since is None:
            since = t
        elif up and since is not None:
            out.append((since, t))
            since = None
    if since is not None:
        out.append((since, samples[-1][0]))
    return out


def both_down_s(a, b):
    return max([0.0] + [min(x1, y1) - max(x0, y0) for x0, x1 in down_intervals(a)
                        for y0, y1 in down_intervals(b) if min(x1, y1) > max(x0, y0)])


def vip_moves(samples):
    """How often the VIP changed holder (samples where exactly one node held it)."""
    events = sorted([(t, n, v) for n, ss in samples.items() for t, v, _u in ss])
    state, holder, moves, both = {}, None, 0, 0
    for _t, n, v in events:
        state[n] = v
        on = [k for k, x in state.items() if x]
        if len(on) == 2:
            both += 1
        if len(on) == 1 and on[0] != holder:
            moves += holder is not None
            holder = on[0]
    return moves, both


def _rows(bench, node_index):
    own = f"10.213.{bench.subnet}.{11 + node_index}"
    out = bench.on(["node-a", "node-b"][node_index], "mysql", f"--defaults-extra-file={CNF}",
                   "-h", own, "-N", "-B", "-e", f"SELECT seq FROM {DB}.t", check=False)
    return {int(x) for x in out.stdout.split() if x.isdigit()}


def run_rolling(bench, runs):
    meta = section_meta(bench, fresh_pair(bench))
    password = secrets.token_hex(12) + "Aa-1"
    _add_app_user(bench, password)
    bench.bootstrap("bootstrap-app-user")
    for node in ("node-a", "node-b"):
        bench.on(node, "sh", "-c", f"umask 077; cat > {CNF}",
                 input_text=f"[client]\nuser=benchapp\npassword={password}\n")
    vip = f"10.213.{bench.subnet}.100"
    bench.on("node-a", "mysql", f"--defaults-extra-file={CNF}", "-h", vip, "-e",
             f"CREATE DATABASE IF NOT EXISTS {DB}; CREATE TABLE IF NOT EXISTS {DB}.t "
             "(id BIGINT AUTO_INCREMENT PRIMARY KEY, seq BIGINT NOT NULL)")
    results = []
    for i in range(1, runs + 1):
        _set_option(bench.inventory(), CHANGES[(i - 1) % 2])
        paths = _dry_run_paths(bench)
        if not any(m in d for d in paths for m in ROLLING_MARKERS):
            raise Skipped("this mhactl has no rolling restart (bootstrap --dry-run names no "
                          "'passive first' / 'after switchover' path for a restart-needing "
                          f"change: {' | '.join(paths)[:300]}); it lands with branch "
                          "s24/rolling-wire")
        bench.on("node-a", "mysql", f"--defaults-extra-file={CNF}", "-h", vip, "-e",
                 f"TRUNCATE {DB}.t")
        time.sleep(1)
        _start_probes(bench, vip)
        time.sleep(2)
        t0 = time.time()
        r = bench.mh(f"rolling-{i}", "bootstrap", bench.inventory(), "--output", "json")
        t1 = time.time()
        time.sleep(2)
        writes, samples = _stop_probes(bench)
        rep = json.loads(r["stdout"]) if r["stdout"].strip().startswith("{") else {}
        acked = {int(s) for s, _t, res in writes if res == "ok"}
        ok_times = [float(t) for _s, t, res in writes if res == "ok"]
        deadline = time.monotonic() + 60
        while True:
            rows = [_rows(bench, 0), _rows(bench, 1)]
            if rows[0] == rows[1] or time.monotonic() > deadline:
                break
            time.sleep(1)
        moves, both_vip = vip_moves(samples)
        one = {"ok": r["rc"] == 0 and bool(rep.get("ok")), "bootstrap_s": round(t1 - t0, 3),
               "write_gap_s": round(longest_gap(ok_times, t0, t1), 3),
               "writes_acked": len(acked),
               "writes_failed": sum(1 for w in writes if w[2] != "ok" and t0 <= float(w[1]) <= t1),
               "writes_lost": len(acked - rows[0]) + len(acked - rows[1]),
               "vip_moves": moves, "both_held_vip_samples": both_vip,
               "both_down_s": round(both_down_s(samples["node-a"], samples["node-b"]), 3),
               "restarted": sorted(n for n, ss in samples.items() if down_intervals(ss)),
               "failed_steps": [f"{st.get('node')} {st.get('step')}: {st.get('detail', '')[:200]}"
                                for st in rep.get("steps", []) if st.get("status") == "failed"],
               "load": r["load"]}
        results.append(one)
        log(f"rolling {i}/{runs}: ok={one['ok']} bootstrap {one['bootstrap_s']} s, gap "
            f"{one['write_gap_s']} s, lost {one['writes_lost']}, VIP moves {moves}, both "
            f"down {one['both_down_s']} s, restarted {', '.join(one['restarted']) or 'none'}")
        log("  bootstrap --dry-run said: " + " | ".join(d.splitlines()[0] for d in paths))
    meta["load_end"] = load_average()
    return {"meta": meta, "runs": results}


def render_rolling(data):
    lines = ["## Rolling restart (bootstrap after a restart-needing change, issue 16)", "",
             "Measured by `scripts/bench --only rolling` on one bootstrapped lab per flavor: "
             "the inventory's `mysql.skip_errors` is set and removed in turn (each needs a "
             "server restart), then `mhactl bootstrap` runs while a client on node-a writes "
             "through the VIP every 50 ms (a new connection per write). *Write gap*: the longest "
             "time without an acknowledged write during bootstrap; *lost*: acknowledged writes "
             "missing on either node afterwards; *servers restarted*: how many servers were "
             "seen down (each node samples its own every 200 ms); *both down*: the longest "
             "time neither server answered. Target (issue 16): 0 lost, "
             "gap ≤ the switchover's, never both servers down.", "",
             "| flavor (server) | runs | bootstrap (median) | write gap (min / median / max) | "
             "failed writes (median) | lost (max) | VIP moves (per run) | servers restarted "
             "(per run) | both down (max) | not OK | met |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    def row(rs):
        lost = max(r["writes_lost"] for r in rs)
        both = max(r["both_down_s"] for r in rs)
        met = lost == 0 and both == 0 and all(r["ok"] for r in rs)
        return (f"{len(rs)} | {_num(med([r['bootstrap_s'] for r in rs]))} | "
                f"{' / '.join(mmm([r['write_gap_s'] for r in rs]))} | "
                f"{_num(med([r['writes_failed'] for r in rs]), '{:.0f}')} | {lost} | "
                f"{', '.join(str(r['vip_moves']) for r in rs)} | "
                f"{', '.join(str(len(r.get('restarted', []))) for r in rs)} | {both:.2f} | "
                f"{sum(1 for r in rs if not r['ok'])} | {yes_no(met)}")

    rows, notes = per_flavor(data, row, lambda r: "bootstrap failed: " + (
        "; ".join(r.get("failed_steps") or []) or "see its report in the work directory"))
    lines += rows
    return "\n".join(lines + [""] + notes)
