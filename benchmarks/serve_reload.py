"""How soon `plandoc serve` tells an open page that a plan file changed.

Starts the real command on a copy of the samples, listens to its server-sent events,
saves a plan N times and prints the median and worst time from the save to the event.
The issue's target: within one second. Run: python benchmarks/serve_reload.py [N]
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(runs: int = 10) -> None:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "inputs"
        shutil.copytree(ROOT / "inputs", folder)
        server = subprocess.Popen(
            [sys.executable, "-m", "plandoc", "serve", str(folder), "--port", "0"],
            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            url = ""
            while not url:
                found = re.search(r"http://\S+", server.stderr.readline())
                url = found.group() if found else ""
            base = url.split("/?")[0]
            times = []
            with httpx.Client(base_url=base, timeout=30) as client:
                client.get(url)
                with client.stream("GET", "/events") as events:
                    lines = events.iter_lines()
                    next(lines)
                    plan = folder / "adult-ptsd.json"
                    for _ in range(runs):
                        started = time.perf_counter()
                        plan.write_text(plan.read_text("utf-8") + "\n", "utf-8")
                        next(line for line in lines if line.startswith("data:"))
                        times.append(time.perf_counter() - started)
                        time.sleep(0.3)
        finally:
            server.terminate()
            server.communicate(timeout=10)
    print(f"save -> page told: median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms over {runs} saves (target: 1000 ms)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
