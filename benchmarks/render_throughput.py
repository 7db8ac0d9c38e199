"""Plans per second for each output format, rendering the shipped samples in one process.

Each round reads, checks and renders every sample plan (JSON and Markdown)
into one format, in memory; nothing is written to disk. The figure reported
is the median over --rounds rounds. A baseline is measured in the same run:
the time to read and check the plans alone, so the cost of each writer can be
read off directly.

    python benchmarks/render_throughput.py [--rounds 7] [--seconds 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from plandoc import __version__
from plandoc.pipeline import check_file, render_documents

SAMPLES = Path(__file__).resolve().parents[1] / "inputs"


def plans_per_second(files: list[Path], fmt: str | None, seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for path in files:
            checked = check_file(path)
            assert checked.plan is not None and checked.layout is not None, path
            if fmt is not None:
                render_documents(checked.plan, checked.layout, (fmt,))
            done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the targets say
    results = {}
    for label, fmt in (("check only (baseline)", None), ("md", "md"), ("html", "html"),
                       ("docx", "docx"), ("md+html+docx", "all")):
        formats = ("md", "html", "docx") if fmt == "all" else fmt
        plans_per_second(files, None if fmt is None else fmt if fmt != "all" else "md", 0.3)
        rounds = []
        for _ in range(args.rounds):
            if fmt == "all":
                rounds.append(_all_formats(files, args.seconds))
            else:
                rounds.append(plans_per_second(files, formats, args.seconds))
        results[label] = {"median": statistics.median(rounds), "min": min(rounds), "max": max(rounds)}
        print(f"{label:24} {results[label]['median']:8.1f} plans/s "
              f"(min {results[label]['min']:.1f}, max {results[label]['max']:.1f}, {args.rounds} rounds)")
    machine = {"python": platform.python_version(), "machine": platform.machine(),
               "cpus": os.cpu_count(), "plandoc": __version__, "samples": len(files)}
    print("machine:", machine)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


def _all_formats(files: list[Path], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for path in files:
            checked = check_file(path)
            render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
            done += 1
    return done / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
