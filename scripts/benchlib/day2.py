"""Day-2 sections (issue 16): planned switchover and isolate, measured N times on one
bootstrapped lab per flavor, and the rolling restart (in rolling.py). Each section keeps
its raw numbers per flavor inside its block of docs/benchmarks.md (markers.py), so a run
of one flavor replaces that flavor's row and keeps the other's."""

import datetime
import json
import time

from .util import git_commit, load_average, log, med, mmm, yes_no

SWITCHOVER_GAP_TARGET_S = 1.0
FLAVOR_NAMES = {"mariadb": "MariaDB", "mysql": "MySQL", "mariadb11": "MariaDB 11"}


def report_json(r, what):
    try:
        return json.loads(r["stdout"])
    except json.JSONDecodeError as e:
        raise RuntimeError(f"{what}: no JSON report (exit {r['rc']}): {r['stdout'][-2000:]}\n"
                           f"{r['stderr'][-2000:]}") from e


def fresh_pair(bench):
    """A fresh lab, bootstrapped; the versions it runs."""
    bench.up(0)
    log(f"lab up (subnet {bench.subnet}, {bench.args.flavor}) in {bench.lab}; bootstrap")
    bench.bootstrap("bootstrap")
    versions = bench.versions()
    versions["keepalived_params"] = bench.keepalived_params()
    return versions


def section_meta(bench, versions):
    return {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "commit": git_commit(), "versions": versions, "load_start": load_average(),
            "build": bench.profile}


def repeat(bench, runs, name, one_run):
    """A fresh pair, then one_run(i) -> (result, summary) runs times, 3 s apart (for
    replication and keepalived to settle before the next pre-flight)."""
    meta = section_meta(bench, fresh_pair(bench))
    results = []
    for i in range(1, runs + 1):
        one, summary = one_run(i)
        results.append(one)
        log(f"{name} {i}/{runs}: {summary}")
        time.sleep(3)
    meta["load_end"] = load_average()
    return {"meta": meta, "runs": results}


# ------------------------------------------------------------------ switchover
def run_switchover(bench, runs):
    """`switchover --measure --output json` runs times, alternating directions (each one
    moves the VIP to the peer), under switchover's own writer through the VIP."""
    def one_run(i):
        r = bench.mh(f"switchover-{i}", "-i", bench.inventory(), "switchover", "--measure",
                     "--output", "json", timeout=300)
        rep = report_json(r, f"switchover run {i}")
        m = rep.get("measure") or {}
        one = {"ok": rep.get("ok"), "outcome": rep.get("outcome"),
               "from": rep.get("old_holder"), "to": rep.get("new_holder"),
               "vip_moved_s": rep.get("vip_moved_s"),
               "writes_blocked_s": rep.get("writes_blocked_s"),
               "write_gap_s": m.get("write_gap_s"), "writes_acked": m.get("writes_acked"),
               "writes_failed": m.get("writes_failed"), "writes_lost": m.get("writes_lost"),
               "writes_on_old_after_fence": m.get("writes_on_old_after_fence"),
               "total_s": rep.get("total_s"), "wall_s": round(r["wall_s"], 3),
               "load": r["load"], "error": rep.get("error")}
        return one, (f"{one['from']} → {one['to']} ok={one['ok']} VIP {one['vip_moved_s']} s, "
                     f"blocked {one['writes_blocked_s']} s, gap {one['write_gap_s']} s, lost "
                     f"{one['writes_lost']}, after fence {one['writes_on_old_after_fence']}"
                     + (f", error: {one['error']}" if one["error"] else ""))

    return repeat(bench, runs, "switchover", one_run)


def _directions(rs):
    count = {}
    for r in rs:
        key = f"{r.get('from')} → {r.get('to')}"
        count[key] = count.get(key, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(count.items()))


def switchover_met(rs):
    gap = med([r["write_gap_s"] for r in rs])
    return (all(r.get("ok") for r in rs)
            and max((r.get("writes_lost") or 0) for r in rs) == 0
            and max((r.get("writes_on_old_after_fence") or 0) for r in rs) == 0
            and gap is not None and gap <= SWITCHOVER_GAP_TARGET_S)


def render_switchover(data):
    lines = ["## Planned switchover (`switchover --measure`, issue 16)", "",
             "Measured by `scripts/bench --only switchover` on one bootstrapped lab per flavor: "
             "`mhactl switchover --measure --output json` N times in a row, so the direction "
             "alternates (each run moves the VIP to the peer), with switchover's own writer "
             "through the VIP (a write every 20 ms). *VIP moved*: from the release until the "
             "new holder has the VIP; *blocked*: from the old holder's fence until the new "
             "holder is writable; *write gap*: the longest time without an acknowledged write "
             "through the VIP; *after fence*: writes the old holder accepted after its fence. "
             f"Target (issue 16): 0 lost, 0 after the fence, write gap ≤ "
             f"{SWITCHOVER_GAP_TARGET_S:g} s median.", "",
             "| flavor (server) | runs (directions) | VIP moved (min / median / max) | "
             "blocked (min / median / max) | write gap (min / median / max) | failed writes "
             "(median) | lost (max) | after fence (max) | not OK | met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    rows, notes = per_flavor(data, lambda rs: (
        f"{len(rs)} ({_directions(rs)}) | {' / '.join(mmm([r['vip_moved_s'] for r in rs]))} | "
        f"{' / '.join(mmm([r['writes_blocked_s'] for r in rs]))} | "
        f"{' / '.join(mmm([r['write_gap_s'] for r in rs]))} | "
        f"{_num(med([r['writes_failed'] for r in rs]), '{:.0f}')} | "
        f"{max((r.get('writes_lost') or 0) for r in rs)} | "
        f"{max((r.get('writes_on_old_after_fence') or 0) for r in rs)} | "
        f"{sum(1 for r in rs if not r.get('ok'))} | {yes_no(switchover_met(rs))}"),
        lambda r: f"{r.get('from')} → {r.get('to')}: {r.get('outcome')}: {r.get('error') or '?'}")
    lines += rows
    lines += ["", *notes, "",
              "A gap of about 1 s is the writer's 1 s connect timeout after a connection "
              "attempt that went out while the VIP moved; see "
              "[switchover.md](switchover.md#the-numbers-lab)."]
    return "\n".join(lines)


# ------------------------------------------------------------------ isolate
def run_isolate(bench, runs):
    """`failover-test --mode isolate` runs times on one pair (the lab's inventory sets
    vip.arbiter); each starts from whichever node holds the VIP after the previous one."""
    def one_run(_i):
        r = bench.failover("isolate")
        one = {k: r.get(k) for k in ("ok", "old_holder", "new_holder", "vip_moved_s",
                                     "write_gap_s", "writes_acked", "writes_failed",
                                     "writes_lost", "writes_missing_after_rejoin",
                                     "double_holder_s", "both_writable_s", "fenced",
                                     "cut_off_node_writes", "vip_released_s", "vip_went_back",
                                     "healthy_after", "problems")}
        one["load"] = r["load"]
        one["wall_s"] = round(r["wall_s"], 3)
        return one, (f"ok={one['ok']} both held the VIP {one['double_holder_s']} s, both "
                     f"writable {one['both_writable_s']} s, released {one['vip_released_s']} s, "
                     f"lost {one['writes_lost']}"
                     + (f", problems: {one['problems']}" if one["problems"] else ""))

    return repeat(bench, runs, "isolate", one_run)


def render_isolate(data):
    lines = ["## Isolate (`failover-test --mode isolate`, issue 16)", "",
             "Measured by `scripts/bench --only isolate` on one bootstrapped lab per flavor "
             "(`vip.arbiter` set to the lab's gateway, `writes: vip-holder`): the VIP holder "
             "is cut off from its peer, the clients and the arbiter while its link stays up. "
             "*Released*: from the cut until the cut-off holder no longer has the VIP; *both "
             "held the VIP*: the longest time both nodes had it; *both writable*: the longest "
             "time both accepted a write from their own side (a writer to each node's own "
             "address, sampled every 100 ms); *cut-off writes*: writes the cut-off node took "
             "from its own side while cut off. Target (issue 16): at most one node accepts "
             "writes at any moment, 0 acknowledged writes lost.", "",
             "| flavor (server) | runs | VIP moved (min / median / max) | released (min / median "
             "/ max) | both held the VIP (median / max) | both writable (max) | cut-off writes "
             "(max) | lost (max) | VIP went back | not OK | met |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    def row(rs):
        double = [r.get("double_holder_s") for r in rs]
        both_w = max((r.get("both_writable_s") or 0) for r in rs)
        lost = max((r.get("writes_lost") or 0) for r in rs)
        met = both_w == 0 and lost == 0 and all(r.get("ok") for r in rs)
        return (f"{len(rs)} | {' / '.join(mmm([r['vip_moved_s'] for r in rs]))} | "
                f"{' / '.join(mmm([r['vip_released_s'] for r in rs]))} | "
                f"{_num(med(double))} / "
                f"{_num(max((x for x in double if x is not None), default=None))} | "
                f"{both_w:.2f} | {max((r.get('cut_off_node_writes') or 0) for r in rs)} | "
                f"{lost} | {sum(1 for r in rs if r.get('vip_went_back'))} | "
                f"{sum(1 for r in rs if not r.get('ok'))} | {yes_no(met)}")

    rows, notes = per_flavor(data, row, lambda r: ", ".join(r.get("problems") or ["?"]))
    lines += rows
    lines += ["", *notes, "",
              "With `vip.arbiter` the cut-off holder notices that it reaches neither its peer "
              "nor the arbiter (keepalived's `chk_arbiter`) and gives the VIP up (*released*) "
              "before the peer's master-down timer (three missed advertisements) lets the "
              "peer take it (*VIP moved*), so no moment has two holders; the fence agent "
              "makes it read-only as it leaves MASTER. The writes it took from its own side "
              "before that (*cut-off writes*) are on it alone until it reconnects and "
              "replicates them; *both writable* is the window in which both nodes took "
              "writes, the issue's split-brain measure."]
    return "\n".join(lines)


# ------------------------------------------------------------------ shared
def per_flavor(data, row, problem):
    """A table row per flavor (`| MariaDB 10.11.18 | ` + row(runs) + ` |`) and the notes:
    when and on what it ran, and problem(run) for each run that was not OK."""
    rows, notes = [], []
    for flavor in sorted(data):
        rs, meta = data[flavor]["runs"], data[flavor]["meta"]
        name = FLAVOR_NAMES.get(flavor, flavor)
        version = meta.get("versions", {}).get("mariadb", "?").split("-")[0]
        rows.append(f"| {name} {version} | {row(rs)} |")
        notes.append(_run_note(flavor, meta, rs))
        bad = [r for r in rs if not r.get("ok")]
        if bad:
            notes.append(f"  Not OK ({name}): " + "; ".join(problem(r) for r in bad))
    return rows, notes


def _num(v, fmt="{:.2f}"):
    return "–" if v is None else fmt.format(v)


def _run_note(flavor, meta, rs):
    ka = meta.get("versions", {}).get("keepalived", "?")
    return (f"- {FLAVOR_NAMES.get(flavor, flavor)}: {meta.get('date')}, mhactl "
            f"{meta.get('commit')} ({meta.get('build', 'release')} build), {ka}; load average "
            f"(1, 5, 15 min) at start {meta.get('load_start')}, per run "
            + ", ".join(r.get("load", "?").split()[0] for r in rs)
            + f", at end {meta.get('load_end')}.")
