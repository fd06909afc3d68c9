"""Modules of scripts/bench (mhactl's lab benchmarks). Python 3 standard library only.

util: commands, load, statistics · lab: the lab and measured commands, the original suite's
run · report, report_text: the original suite's document · day2, rolling: issue 16's
sections · markers: sections of docs/benchmarks.md replaced in place · sections: the
registry of sections."""
