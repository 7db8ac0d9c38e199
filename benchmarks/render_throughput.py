"""Plans per second for each output format, rendering the shipped samples in one process.

Each round reads, checks and renders every sample plan (JSON and Markdown)
into the formats named, in memory; nothing is written to disk. The process
is pinned to one core, as the targets are stated for one core. The baseline,
measured in the same run, is reading and checking alone, so each writer's
cost can be read off against it. Figures are medians over --rounds rounds.

    python benchmarks/render_throughput.py [--rounds 7] [--seconds 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from plandoc import __version__
from plandoc.checks.file import check_file
from plandoc.documents.documents import render_documents

SAMPLES = Path(__file__).resolve().parents[1] / "inputs"
CASES = {
    "check only (baseline)": (),
    "md": ("md",),
    "html": ("html",),
    "docx": ("docx",),
    "md+html+docx": ("md", "html", "docx"),
    "pdf": ("pdf",),
}


def plans_per_second(files: list[Path], formats: tuple[str, ...], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for path in files:
            checked = check_file(path)
            assert checked.plan is not None and checked.layout is not None, path
            if formats:
                render_documents(checked.plan, checked.layout, formats)
            done += 1
    return done / (time.perf_counter() - start)


def pages_per_plan(files: list[Path]) -> float:
    """The samples' mean PDF page count, read back with poppler's pdfinfo."""
    pages = []
    with tempfile.TemporaryDirectory() as folder:
        for path in files:
            checked = check_file(path)
            pdf = Path(folder) / "plan.pdf"
            pdf.write_bytes(render_documents(checked.plan, checked.layout, ("pdf",))["pdf"])
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
            pages.append(int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)))
    return sum(pages) / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    results = {}
    for label, formats in CASES.items():
        plans_per_second(files, formats, 0.3)  # warm up: layouts, reference package, caches
        rounds = [plans_per_second(files, formats, args.seconds) for _ in range(args.rounds)]
        results[label] = {
            "median": statistics.median(rounds),
            "min": min(rounds),
            "max": max(rounds),
        }
        figures = results[label]
        extra = ""
        if "pdf" in formats:
            pages = statistics.median(rounds) * pages_per_plan(files)
            results[label]["pages_per_second"] = pages
            extra = f"; {pages:.1f} PDF pages/s"
        print(
            f"{label:24} {figures['median']:8.1f} plans/s "
            f"(min {figures['min']:.1f}, max {figures['max']:.1f}, {args.rounds} rounds{extra})"
        )
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": _processor(),
        "cpus": os.cpu_count(),
        "plandoc": __version__,
        "samples": len(files),
    }
    print("machine:", json.dumps(machine))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
