"""Sections of docs/benchmarks.md between markers, so one section can be measured again
and replaced in place without rerunning (or losing) the others.

A section is the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` (the markers
stay). A section may carry its raw numbers on a line `<!-- data NAME {json} -->`, so a run
of one flavor can add its row to a table next to another flavor's older row."""

import json
import re

# New sections go before this heading (after the measured tables, before the targets).
ANCHOR = "## Targets (issue 9)"


def _pattern(name):
    return re.compile(rf"<!-- {re.escape(name)}:begin -->\n.*?<!-- {re.escape(name)}:end -->\n?",
                      re.S)


def block(name, body):
    """The section NAME with its markers."""
    return f"<!-- {name}:begin -->\n{body.rstrip()}\n<!-- {name}:end -->\n"


def blocks(text):
    """Every marked section in text, in order: [(name, full block text)]."""
    return [(m.group(1), m.group(0) if m.group(0).endswith("\n") else m.group(0) + "\n")
            for m in re.finditer(r"<!-- ([\w-]+):begin -->\n.*?<!-- \1:end -->\n?", text, re.S)]


def _insert(text, chunk):
    at = text.find(ANCHOR)
    if at < 0:
        return text.rstrip("\n") + "\n\n" + chunk
    return text[:at] + chunk + "\n" + text[at:]


def replace(text, name, body):
    """text with section NAME's body replaced (or the section added before the targets)."""
    new = block(name, body)
    pat = _pattern(name)
    if pat.search(text):
        return pat.sub(lambda _m: new, text, count=1)
    return _insert(text, new)


def keep_old_sections(new_text, old_text):
    """new_text plus every marked section of old_text that new_text lacks (the sections
    a full run did not measure keep their earlier numbers)."""
    present = {name for name, _ in blocks(new_text)}
    for name, chunk in blocks(old_text):
        if name not in present:
            new_text = _insert(new_text, chunk)
    return new_text


def data(text, name):
    """The raw numbers stored with section NAME ({} when there are none)."""
    m = re.search(rf"^<!-- data {re.escape(name)} (\{{.*\}}) -->$", text, re.M)
    return json.loads(m.group(1)) if m else {}


def data_line(name, value):
    # "--" cannot appear inside an HTML comment; json.dumps never emits it for our data
    # (numbers, names), but make sure.
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).replace("--", "- -")
    return f"<!-- data {name} {text} -->"
