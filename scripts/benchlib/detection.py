"""Issue 17's section: how fast each failure is detected and the VIP moves, per
`vip.detection` setting, with the write gap and what failover-test says fired. One fresh,
bootstrapped lab per flavor and setting; `failover-test --mode M --output json` N times per
mode on it (each run starts from whichever node holds the VIP after the previous one)."""

import time

from .day2 import FLAVOR_NAMES, section_meta
from .util import load_average, log, med, mmm, yes_no

MODES = ["stop-mysqld", "kill-mysqld", "stop-keepalived", "partition", "hung", "isolate"]
# Issue 17's targets: VIP moved within this many seconds (median).
VIP_TARGET_S = {"stop-mysqld": 1.0, "kill-mysqld": 1.0, "stop-keepalived": 0.5,
                "partition": 1.5, "isolate": 1.5, "hung": 2.0}
GAP_OVER_VIP_S = 0.3
# Modes in which no acknowledged write may be lost (a kill or a cut link may lose what
# asynchronous replication had not shipped; reported exactly).
NO_LOSS = {"stop-mysqld", "stop-keepalived", "hung"}
SETTINGS = ["default", "fast"]
KEYS = ("ok", "old_holder", "new_holder", "vip_moved_s", "write_gap_s", "writes_acked",
        "writes_failed", "writes_lost", "detection", "detection_s", "catch_up_s",
        "healthy_after", "problems")


def with_detection(text, setting):
    """The lab inventory with `vip.detection: setting` (the lab writes a `vip:` block)."""
    lines = text.split("\n")
    if "vip:" not in lines:
        raise RuntimeError("the lab inventory has no top-level `vip:` block")
    at = lines.index("vip:") + 1
    lines.insert(at, f"  detection: {setting}")
    return "\n".join(lines)


def run_detection(bench, runs):
    settings = bench.args.detection_settings
    result = {"settings": {}}
    for setting in settings:
        bench.up(0)
        with open(bench.inventory()) as f:
            text = f.read()
        with open(bench.inventory(), "w") as f:
            f.write(with_detection(text, setting))
        log(f"lab up (subnet {bench.subnet}, {bench.args.flavor}, vip.detection {setting}); "
            f"bootstrap")
        bench.bootstrap(f"bootstrap-{setting}")
        versions = bench.versions()
        versions["keepalived_params"] = bench.keepalived_params()
        meta = section_meta(bench, versions)
        by_mode = {}
        for mode in MODES:
            for i in range(1, runs + 1):
                r = bench.failover(mode)
                one = {k: r.get(k) for k in KEYS}
                one["load"] = r["load"]
                by_mode.setdefault(mode, []).append(one)
                log(f"{setting} {mode} {i}/{runs}: ok={one['ok']} VIP {one['vip_moved_s']} s, "
                    f"gap {one['write_gap_s']} s, {one['detection']} after "
                    f"{one['detection_s']} s, lost {one['writes_lost']}"
                    + (f", problems: {one['problems']}" if one["problems"] else ""))
                time.sleep(3)
        meta["load_end"] = load_average()
        bench.down()
        result["settings"][setting] = {"meta": meta, "runs": by_mode}
    return result


def _fired(rs):
    count = {}
    for r in rs:
        key = r.get("detection") or "?"
        count[key] = count.get(key, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(count.items()))


def _gap_over_vip(rs):
    """Median of each run's write gap minus its VIP move (runs with both)."""
    return med([r["write_gap_s"] - r["vip_moved_s"] for r in rs
                if r.get("write_gap_s") is not None and r.get("vip_moved_s") is not None])


def _met(mode, rs):
    vip = med([r["vip_moved_s"] for r in rs])
    over = _gap_over_vip(rs)
    lost = max((r.get("writes_lost") or 0) for r in rs)
    return (all(r.get("ok") for r in rs) and vip is not None and vip <= VIP_TARGET_S[mode]
            and over is not None and over <= GAP_OVER_VIP_S
            and (mode not in NO_LOSS or lost == 0))


def render_detection(data):
    lines = ["## Failure detection (`vip.detection`, issue 17)", "",
             "Measured by `scripts/bench --only detection` on one bootstrapped lab per flavor "
             "and setting (`vip.arbiter` set, `writes: vip-holder`): `mhactl failover-test "
             "--mode M --output json` N times per mode. *VIP moved*: from the fault until the "
             "peer holds the VIP; *gap − VIP*: the write gap through the VIP minus the VIP "
             "move, per run; *fired*: what failover-test says noticed the fault. Targets "
             "(issue 17, medians): VIP moved ≤ 1.0 s for stop/kill-mysqld, ≤ 0.5 s for "
             "stop-keepalived, ≤ 1.5 s for partition and isolate, ≤ 2.0 s for hung; write gap "
             f"≤ VIP move + {GAP_OVER_VIP_S:g} s; 0 lost for stop-mysqld, stop-keepalived and "
             "hung (kill and partition report what asynchronous replication had not shipped).",
             "",
             "| flavor (server) | setting | mode | runs | VIP moved (min / median / max) | write "
             "gap (median) | gap − VIP (median) | fired | lost (max) | not OK | met |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for flavor in sorted(data):
        for setting, block in data[flavor]["settings"].items():
            meta = block["meta"]
            name = FLAVOR_NAMES.get(flavor, flavor)
            version = meta.get("versions", {}).get("mariadb", "?").split("-")[0]
            for mode in MODES:
                rs = block["runs"].get(mode) or []
                if not rs:
                    continue
                over = _gap_over_vip(rs)
                gap = med([r["write_gap_s"] for r in rs])
                lines.append(
                    f"| {name} {version} | {setting} | {mode} | {len(rs)} | "
                    f"{' / '.join(mmm([r['vip_moved_s'] for r in rs]))} | "
                    f"{'–' if gap is None else f'{gap:.2f}'} | "
                    f"{'–' if over is None else f'{over:.2f}'} | {_fired(rs)} | "
                    f"{max((r.get('writes_lost') or 0) for r in rs)} | "
                    f"{sum(1 for r in rs if not r.get('ok'))} | {yes_no(_met(mode, rs))} |")
            ka = meta.get("versions", {}).get("keepalived", "?")
            params = meta.get("versions", {}).get("keepalived_params", {})
            notes.append(f"- {name}, {setting}: {meta.get('date')}, mhactl {meta.get('commit')} "
                         f"({meta.get('build', 'release')} build), {ka}, advert_int "
                         f"{params.get('advert_int', '?')} s; load average (1, 5, 15 min) at "
                         f"start {meta.get('load_start')}, at end {meta.get('load_end')}.")
    return "\n".join(lines + ["", *notes])
