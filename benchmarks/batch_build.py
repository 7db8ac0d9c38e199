"""Batch build figures for N synthetic plans: cold, no-op, one plan changed, layout touched, memory.

    python benchmarks/batch_build.py 1000 [--plans synthetic|spec] [--jobs 2] [--runs 3]
        [--src FOLDER] [--cold-only [--base-src FOLDER]] [--json FILE]
    python benchmarks/batch_build.py 1000 --local-cluster [--jobs 2] [--runs 3]

Each measurement runs `plandoc.builds.batch.build` in a fresh Python process (so
its peak memory is its own) over N seeded synthetic plans
(benchmarks/synthetic_plans.py: at most one chart each), or, with `--plans spec`,
N variants of the format specification's example plan (benchmarks/spec_variants.py:
two charts each, as the issue 21 targets are stated), md + html + docx, the standard
layout (served from a copy, so it can be touched).
Times are medians over --runs runs (the cold build: one run per --runs, each into
a new output folder). Peak memory is the parent's maximum resident set size.

`--local-cluster` compares cold builds by the local pool (--jobs processes) with cold
builds on a Dask `LocalCluster` of --jobs worker processes of one thread
(`--scheduler`, plandoc[cluster]), interleaved run by run; the cluster is started
once, before, and is not timed (connecting to it and checking its workers are).
With --cold-only --base-src OTHER/src, the cold builds of that tree (main's) take turns
with these, run by run: before and after measured alike on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.spec_variants import write_variants  # noqa: E402
from benchmarks.synthetic_plans import write_plans  # noqa: E402

RUN_ONE = """
import json, resource, sys, time
from pathlib import Path
from plandoc.builds.batch import BuildOptions, build
plans, out, layouts = (Path(argument) for argument in sys.argv[1:4])
jobs = int(sys.argv[4])
scheduler = sys.argv[5] if len(sys.argv) > 5 else None
started = time.perf_counter()
options = BuildOptions(plans, out, layout_folders=(layouts,), jobs=jobs, scheduler=scheduler)
result = build(options)
seconds = time.perf_counter() - started
counts = {status: result.count(status) for status in ("built", "current", "failed")}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, **counts}))
"""


def run(
    plans: Path, out: Path, layouts: Path, jobs: int, src: Path = ROOT / "src", *scheduler: str
) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(plans), str(out), str(layouts), str(jobs), *scheduler],
        cwd=layouts.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"a measured build failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--plans", choices=("synthetic", "spec"), default="synthetic")
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT / "src",
        help="the plandoc sources to measure (another worktree's, to compare)",
    )
    parser.add_argument("--cold-only", action="store_true", help="only the cold builds")
    parser.add_argument(
        "--base-src",
        type=Path,
        help="with --cold-only: another tree's sources (main's), whose cold builds take turns "
        "with those of --src, so a machine getting busier or quieter changes both alike",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--local-cluster", action="store_true", help="the local pool against a Dask LocalCluster"
    )
    args = parser.parse_args()
    if args.base_src and not args.cold_only:
        parser.error("--base-src goes with --cold-only")
    work = Path(tempfile.mkdtemp(prefix="plandoc-bench-"))
    try:
        plans, layouts = work / "plans", work / "layouts"
        (write_variants if args.plans == "spec" else write_plans)(args.count, plans)
        shutil.copytree(args.src.parent / "templates" / "standard", layouts / "standard")
        if args.local_cluster:
            figures = compare_cluster(args, plans, layouts, work)
            print(json.dumps(figures, indent=1))
            if args.json:
                args.json.write_text(json.dumps(figures, indent=1))
            return
        base_layouts = work / "base-layouts"
        if args.base_src:
            shutil.copytree(args.base_src.parent / "templates" / "standard",
                            base_layouts / "standard")  # fmt: skip
        cold, base = [], []
        for i in range(args.runs):
            if args.base_src:
                base.append(run(plans, work / f"base{i}", base_layouts, args.jobs, args.base_src))
            cold.append(run(plans, work / f"out{i}", layouts, args.jobs, args.src))
        if args.cold_only:
            seconds = statistics.median(r["seconds"] for r in cold)
            figures = {"plans": args.count, "kind": args.plans, "jobs": args.jobs,
                       "cold_seconds": seconds, "cold_plans_per_second": args.count / seconds,
                       "cold_runs": [r["seconds"] for r in cold]}  # fmt: skip
            if base:
                seconds = statistics.median(r["seconds"] for r in base)
                figures.update(base_src=str(args.base_src), base_cold_seconds=seconds,
                               base_cold_plans_per_second=args.count / seconds,
                               base_cold_runs=[r["seconds"] for r in base])  # fmt: skip
            print(json.dumps(figures, indent=1))
            if args.json:
                args.json.write_text(json.dumps(figures, indent=1))
            return
        out = work / "out0"
        noop = [run(plans, out, layouts, args.jobs, args.src) for _ in range(args.runs)]
        changed = []
        for i in range(args.runs):
            path = plans / "plan-000000.json"
            data = json.loads(path.read_text())
            data["goals"][0]["statement"] = f"Changed statement {i}."
            path.write_text(json.dumps(data))
            changed.append(run(plans, out, layouts, args.jobs, args.src))
        touched = []
        for i in range(min(args.runs, 1 if args.count > 2000 else args.runs)):
            css = layouts / "standard" / "style.css"
            css.write_text(css.read_text() + f"\n/* touched {i} */\n")
            touched.append(run(plans, out, layouts, args.jobs, args.src))
        for runs in (cold, noop, changed, touched):
            assert all(r["failed"] == 0 for r in runs), runs
        figures = {
            "plans": args.count,
            "kind": args.plans,
            "jobs": args.jobs,
            "cold_seconds": statistics.median(r["seconds"] for r in cold),
            "cold_plans_per_second": args.count / statistics.median(r["seconds"] for r in cold),
            "noop_seconds": statistics.median(r["seconds"] for r in noop),
            "one_changed_seconds": statistics.median(r["seconds"] for r in changed),
            "layout_touched_seconds": statistics.median(r["seconds"] for r in touched),
            "peak_rss_mib_cold": max(r["peak_rss_mib"] for r in cold),
            "peak_rss_mib_noop": max(r["peak_rss_mib"] for r in noop),
            "runs": args.runs,
            "built": {
                "cold": cold[0]["built"],
                "one_changed": changed[-1]["built"],
                "layout_touched": touched[-1]["built"],
                "noop": noop[-1]["built"],
            },
            "machine": {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
            },
        }
        print(json.dumps(figures, indent=1))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare_cluster(args: argparse.Namespace, plans: Path, layouts: Path, work: Path) -> dict:
    """Cold builds, local pool and LocalCluster interleaved; medians, plans/s a core."""
    from distributed import LocalCluster

    pool, cluster_runs = [], []
    with LocalCluster(
        n_workers=args.jobs, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        for i in range(args.runs):
            pool.append(run(plans, work / f"pool{i}", layouts, args.jobs, args.src))
            address = cluster.scheduler_address
            cluster_runs.append(
                run(plans, work / f"cluster{i}", layouts, args.jobs, args.src, address)
            )
        tasks_per_second = scheduler_tasks_per_second(cluster)
    for runs in (pool, cluster_runs):
        assert all(r["failed"] == 0 and r["built"] == args.count for r in runs), runs
    same = all(
        (work / "pool0" / p.name).read_bytes() == p.read_bytes()
        for p in (work / "cluster0").iterdir()
        if p.name != ".plandoc-build.lock"
    )
    figures: dict = {"plans": args.count, "kind": args.plans, "cores": args.jobs}
    figures["same_bytes"] = same
    figures["scheduler_tasks_per_second"] = round(tasks_per_second)
    manifest = (work / "pool0" / ".plandoc-build.json").stat().st_size
    figures["manifest_bytes_per_plan"] = round(manifest / args.count, 1)
    for name, runs in (("local_pool", pool), ("local_cluster", cluster_runs)):
        seconds = statistics.median(r["seconds"] for r in runs)
        figures[name] = {
            "runs": [round(r["seconds"], 2) for r in runs],
            "median_seconds": round(seconds, 2),
            "plans_per_second": round(args.count / seconds, 1),
            "plans_per_second_per_core": round(args.count / seconds / args.jobs, 1),
        }
    figures["machine"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    return figures


def scheduler_tasks_per_second(cluster: object, tasks: int = 2000) -> float:
    """Trivial tasks through the scheduler a second: what a chunk costs it, whatever its plans."""
    from distributed import Client

    with Client(cluster) as client:
        client.gather(client.map(abs, range(100), pure=False))  # warm
        started = time.perf_counter()
        client.gather(client.map(abs, range(tasks), pure=False))
        return tasks / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
