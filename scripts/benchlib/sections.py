"""The benchmark's sections by name: how each is measured and rendered, and the update of
one section's block in docs/benchmarks.md (the other flavors' numbers are kept)."""

from . import markers
from .day2 import render_isolate, render_switchover, run_isolate, run_switchover
from .detection import merge_detection, render_detection, run_detection
from .rolling import render_rolling, run_rolling
from .round_trips import render_round_trips, run_round_trips

# name: (run(bench, runs) -> result, render(data by flavor) -> markdown)
DAY2 = {
    "switchover": (run_switchover, render_switchover),
    "isolate": (run_isolate, render_isolate),
    "rolling": (run_rolling, render_rolling),
    "detection": (run_detection, render_detection),
    "round-trips": (run_round_trips, render_round_trips),
}
# "suite" is the original benchmark (issue 9); "stress" is scripts/bench-stress.
# "detection" (issue 17) takes a while (6 modes x N runs x settings): not run by default.
ALL = ["suite", *DAY2, "stress"]
NOT_BY_DEFAULT = ["stress", "detection", "round-trips"]


def update_doc(text, section, flavor, result):
    """text with section's block re-rendered: flavor's numbers replaced by result, the
    other flavors' numbers kept from the block's data line."""
    data = markers.data(text, section)
    # The detection section may measure some modes only: the others keep their rows.
    data[flavor] = (merge_detection(data.get(flavor), result) if section == "detection"
                    else result)
    body = DAY2[section][1](data) + "\n\n" + markers.data_line(section, data)
    return markers.replace(text, section, body)
