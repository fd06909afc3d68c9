"""Round trips (issue 21): a converged re-run (`bootstrap` again) and `verify` on one
bootstrapped lab pair, with the control host far from the nodes: scripts/delay-proxy in
front of each node's sshd adds --rtt-ms (default 0,100) of round-trip time. Measured: wall
time (N runs each), the transport's own counters (MHACTL_STATS_FILE, per node), and the
proxy's count of *turns* on the wire (the client speaking again after the server did: a
round trip it waited for), per node and command."""

import glob
import json
import os
import signal
import socket
import subprocess
import time

from .day2 import FLAVOR_NAMES, fresh_pair, section_meta
from .util import ROOT, load_average, log, med, mmm, yes_no

TARGETS = {"rerun": (6, 1.5), "verify": (4, 1.0)}  # round trips per node, s at 100 ms
COUNTERS = ["remote_commands", "batched_facts", "exec_channels", "forwards",
            "sql_connections", "sql_round_trips", "round_trips", "bytes_in"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxied_inventory(bench, ports):
    """The lab's inventory with each node's ssh going through 127.0.0.1:PORT (its own
    known_hosts with the nodes' keys under those names)."""
    lab = bench.lab
    addresses = {}
    with open(os.path.join(lab, "inventory.yaml")) as f:
        inv = f.read()
    lines, out, node = inv.splitlines(), [], None
    for line in lines:
        out.append(line.replace("known_hosts: known_hosts", "known_hosts: known_hosts_proxy"))
        stripped = line.strip()
        if stripped.startswith("- name: "):
            node = stripped.split(": ", 1)[1]
        if stripped.startswith("address: ") and node in ports:
            addresses[stripped.split(": ", 1)[1]] = node
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}ssh:", f"{indent}  host: 127.0.0.1",
                    f"{indent}  port: {ports[node]}"]
            node = None
    with open(os.path.join(lab, "known_hosts")) as f:
        keys = []
        for line in f:
            hosts, rest = line.strip().split(" ", 1)
            for h in hosts.split(","):
                if h in addresses:
                    keys.append(f"[127.0.0.1]:{ports[addresses[h]]} {rest}")
    with open(os.path.join(lab, "known_hosts_proxy"), "w") as f:
        f.write("\n".join(keys) + "\n")
    path = os.path.join(lab, "inventory-proxy.yaml")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path, {node: addr for addr, node in addresses.items()}


class Proxy:
    def __init__(self, bench, rtt_ms, ports, addresses):
        self.stats = os.path.join(bench.work, f"proxy-{rtt_ms}.jsonl")
        pairs = [f"127.0.0.1:{ports[n]}={addresses[n]}:22" for n in sorted(ports)]
        self.names = {f"127.0.0.1:{ports[n]}": n for n in ports}
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "scripts", "delay-proxy"), "--rtt-ms", str(rtt_ms),
             "--stats", self.stats, *pairs], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        if self.proc.stdout.readline().strip() != b"delay-proxy: ready":
            raise RuntimeError("scripts/delay-proxy did not start")

    def turns(self):
        """Turns and bytes per node so far."""
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        with open(self.stats) as f:
            return {self.names[d["listener"]]: d for d in map(json.loads, f)}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def stop_masters(home):
    """End every ssh master mhactl left under `home` (ssh.persist_s): the next run is cold."""
    for sock in glob.glob(os.path.join(home, ".mhactl", "cp", "*", ".ssh-connection*", "master")):
        subprocess.run(["ssh", "-S", sock, "-O", "exit", "x"], capture_output=True, timeout=15)


def connection_turns(bench, proxy, ports):
    """The proxy's turns for the SSH connection alone (TCP, key exchange, authentication),
    per node: a master launched with mhactl's options and ended at once."""
    lab, turns = bench.lab, {}
    for node, port in sorted(ports.items()):
        sock = os.path.join(bench.work, f"conn-{node}.sock")
        before = proxy.turns()
        subprocess.run(["ssh", "-M", "-S", sock, "-f", "-N", "-o", "BatchMode=yes",
                        "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes",
                        "-o", f"UserKnownHostsFile={os.path.join(lab, 'known_hosts_proxy')}",
                        "-i", os.path.join(lab, "id_ed25519"), "-l", "root", "-p", str(port),
                        "127.0.0.1"], check=True, timeout=60, stdin=subprocess.DEVNULL)
        after = proxy.turns()
        subprocess.run(["ssh", "-S", sock, "-O", "exit", "x"], capture_output=True, timeout=15)
        turns[node] = after[node]["turns"] - before.get(node, {"turns": 0})["turns"]
    return turns


def run_round_trips(bench, runs):
    """Per RTT, `runs` times: each command cold (no ssh master: the run connects) and then
    warm (the master the cold run left, `ssh.persist_s`). mhactl runs with HOME in the
    work directory, so the masters it keeps (~/.mhactl/cp) are the benchmark's own."""
    rtts = [int(x) for x in str(getattr(bench.args, "rtt_ms", "0,100")).split(",") if x]
    meta = section_meta(bench, fresh_pair(bench))
    ports = {"node-a": free_port(), "node-b": free_port()}
    inventory, addresses = proxied_inventory(bench, ports)
    home = os.path.join(bench.work, "home")
    os.makedirs(home, mode=0o700, exist_ok=True)
    result = {"meta": meta, "rtt": {}}
    for rtt in rtts:
        proxy = Proxy(bench, rtt, ports, addresses)
        per = {"rerun": {"cold": [], "warm": []}, "verify": {"cold": [], "warm": []},
               "connection_turns": {}}
        try:
            per["connection_turns"] = connection_turns(bench, proxy, ports)
            for i in range(1, runs + 1):
                for what, args in (("rerun", ["bootstrap", inventory, "--output", "json"]),
                                   ("verify", ["-i", inventory, "verify", "--output", "json"])):
                    for mode in ("cold", "warm"):
                        if mode == "cold":
                            stop_masters(home)
                        before = proxy.turns()
                        r = bench.mh(f"{what}-{mode}-{rtt}ms-{i}", *args, env={"HOME": home})
                        after = proxy.turns()
                        if r["rc"] != 0:
                            raise RuntimeError(f"{what} at {rtt} ms failed: "
                                               f"{r['stdout'][-2000:]}\n{r['stderr'][-2000:]}")
                        counters, masters = {}, {}
                        for line in r["stats_lines"]:
                            c = counters.setdefault(line["node"], {k: 0 for k in COUNTERS})
                            for k in COUNTERS:
                                c[k] += line.get(k, 0)
                            masters[line["node"]] = line.get("ssh_master", "?")
                        want = {"cold": "launched", "warm": "reused"}[mode]
                        if any(m != want for m in masters.values()):
                            raise RuntimeError(f"{what} {mode} at {rtt} ms: ssh masters {masters}, "
                                               f"expected {want} (is {home} short enough?)")
                        turns = {n: after[n]["turns"] - before.get(n, {"turns": 0})["turns"]
                                 for n in after}
                        per[what][mode].append({"wall_s": round(r["wall_s"], 3),
                                                "load": r["load"], "counters": counters,
                                                "turns": turns})
                        log(f"{what} {mode} at {rtt} ms ({i}/{runs}): {r['wall_s']:.2f} s, "
                            f"turns {turns}")
        finally:
            proxy.stop()
            stop_masters(home)
        result["rtt"][str(rtt)] = per
    meta["load_end"] = load_average()
    return result


def render_round_trips(data):
    rows = ["## Round trips (`scripts/bench --only round-trips`, issue 21)", "",
            "One bootstrapped lab pair; the control host reaches each node's sshd through "
            "[scripts/delay-proxy](../scripts/delay-proxy), which holds every chunk back half "
            "the round-trip time in each direction (the lab kernel has no netem). *Re-run*: "
            "`bootstrap` on the converged pair; *verify*: the healthy pair. *Cold*: no ssh "
            "master, the run connects (TCP, key exchange, authentication); *warm*: the run "
            "reuses the master the cold run left (`ssh.persist_s`, docs/inventory.md). "
            "*Commands*, *SQL*: the transport's counters per node (MHACTL_STATS_FILE: remote "
            "commands, SQL logins and round trips); *turns*: the proxy's count of round trips "
            "on the wire per node (the client speaking again after the server did: requests "
            "sent together, on one channel or several, count once). *Round trips per node*: "
            "the turns after the connection, i.e. the times the run waited on the node once "
            "connected: warm, all the turns; cold, the turns less the connection's (measured "
            "alone: a master launched through the proxy and ended, *connection turns* below). "
            "Targets (issue 21): re-run ≤ 6 round trips per node and ≤ 1.5 s at 100 ms; "
            "verify ≤ 4 per node and ≤ 1.0 s at 100 ms.", "",
            "| flavor | RTT | command | connection | wall s (min / median / max) | "
            "commands per node | facts batched | SQL logins, round trips | turns per node "
            "(median) | round trips per node | met |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for flavor, res in sorted(data.items()):
        m = res["meta"]
        loads = []
        for per in res["rtt"].values():
            for what in ("rerun", "verify"):
                modes = per.get(what, [])
                modes = {"cold": modes} if isinstance(modes, list) else modes
                loads += [r["load"].split()[0] for runs in modes.values() for r in runs]
        notes.append(f"- {FLAVOR_NAMES.get(flavor, flavor)}: {m['date']}, mhactl "
                     f"{m['commit']} ({m['build']} build); load average at start "
                     f"{m['load_start']}, at end {m.get('load_end', '?')}; per run "
                     + ", ".join(loads) + ".")
        for rtt, per in sorted(res["rtt"].items(), key=lambda kv: int(kv[0])):
            conn = per.get("connection_turns", {})
            if conn:
                notes.append(f"- {FLAVOR_NAMES.get(flavor, flavor)}, {rtt} ms: connection "
                             "turns " + ", ".join(f"{n} {t}" for n, t in sorted(conn.items()))
                             + ".")
            for what in ("rerun", "verify"):
                modes = per.get(what, [])
                # Results from before the cold/warm split: every run connected.
                modes = {"cold": modes} if isinstance(modes, list) else modes
                for mode in ("cold", "warm"):
                    runs = modes.get(mode, [])
                    if not runs:
                        continue
                    walls = [r["wall_s"] for r in runs]
                    c = runs[-1]["counters"]
                    nodes = sorted(c)
                    cmds = " / ".join(str(c[n]["remote_commands"]) for n in nodes)
                    batched = " / ".join(str(c[n]["batched_facts"]) for n in nodes)
                    sql = " / ".join(f"{c[n]['sql_connections']}, {c[n]['sql_round_trips']}"
                                     for n in nodes)
                    turns = {n: med([r["turns"].get(n, 0) for r in runs]) for n in nodes}
                    after = {n: turns[n] - (conn.get(n, 0) if mode == "cold" else 0)
                             for n in nodes}
                    known = mode == "warm" or bool(conn)
                    target_rt, target_s = TARGETS[what]
                    met = "–"
                    if int(rtt) == 100 and known:
                        met = yes_no(med(walls) <= target_s
                                     and max(after.values()) <= target_rt)
                    rows.append(f"| {FLAVOR_NAMES.get(flavor, flavor)} | {rtt} ms | "
                                f"{'re-run' if what == 'rerun' else 'verify'} | {mode} | "
                                f"{' / '.join(mmm(walls))} | {cmds} | {batched} | {sql} | "
                                f"{' / '.join(str(turns[n]) for n in nodes)} | "
                                f"{' / '.join(str(after[n]) if known else '–' for n in nodes)}"
                                f" | {met} |")
    return "\n".join(rows + [""] + notes)
