"""How long plandoc takes to start, against the libraries it cannot start without.

Each command runs as a new process, the way a person or a script runs it; the
runs of all commands are interleaved (one of each, then the next round), so a
machine that gets busier or quieter changes every figure alike. Medians over
--rounds rounds. The targets (issue 14) are ratios measured in the same run:

- `plandoc --version` and `plandoc --help` within 3x of `python -c "import click"`;
- `plandoc validate one.json` within 2x of `python -c "import pydantic"`.

    python benchmarks/startup.py [--rounds 21] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "inputs" / "adult-ptsd.json"
PLANDOC = [sys.executable, "-m", "plandoc"]
COMMANDS = {
    "python -c 'import click'": [sys.executable, "-c", "import click"],
    "python -c 'import pydantic'": [sys.executable, "-c", "import pydantic"],
    "plandoc --version": [*PLANDOC, "--version"],
    "plandoc --help": [*PLANDOC, "--help"],
    "plandoc validate one.json": [*PLANDOC, "validate", str(SAMPLE)],
}
TARGETS = (  # (command, peer, most)
    ("plandoc --version", "python -c 'import click'", 3.0),
    ("plandoc --help", "python -c 'import click'", 3.0),
    ("plandoc validate one.json", "python -c 'import pydantic'", 2.0),
)


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and the bytecode
        seconds(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(arguments.rounds):
        for name, command in COMMANDS.items():
            times[name].append(seconds(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {arguments.rounds} rounds, medians")  # fmt: skip
    for name, value in medians.items():
        low, high = min(times[name]), max(times[name])
        print(f"  {name:30} {value * 1000:7.1f} ms  (min {low * 1000:.1f}, max {high * 1000:.1f})")
    met = True
    for name, peer, most in TARGETS:
        ratio = medians[name] / medians[peer]
        met &= ratio <= most
        verdict = "met" if ratio <= most else "NOT MET"
        print(f"  {name} / {peer}: {ratio:.2f} (target at most {most}): {verdict}")
    if arguments.json:
        figures = {"medians_ms": {n: round(v * 1000, 1) for n, v in medians.items()}}
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
