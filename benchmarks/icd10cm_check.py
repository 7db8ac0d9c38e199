"""What checking diagnoses against the ICD-10-CM release costs, against plandoc before it.

    python benchmarks/icd10cm_check.py [--rounds 15] [--build-runs 3] [--base COMMIT] [--json FILE]

The baseline is the same repository at the commit before the ICD-10-CM check
(default: the parent of the commit that added the index), checked out with
`git worktree add` into a temporary folder for this run and removed after. Both
trees run with the same Python, as new processes (`PYTHONPATH=<tree>/src`), the
runs of both interleaved (one of each, then the next round) so a machine that gets
busier or quieter changes both figures alike. Medians over the rounds.

Measured:

- `plandoc validate adult-ptsd.json`, the baseline's sample (F43.10 and G47.00: the
  F and G parts of the index are read), and the same plan with T74.11XA and
  S06.0X1A (the two largest parts of the index, T and S: the worst case). Both
  trees read the same files: the baseline's sample and its synthetic plans (plans
  written since may hold keys the baseline refuses). A command that fails in either
  tree stops the benchmark rather than timing an error path;
- the import time of `plandoc.model.icd10cm` in that validate (`python -X importtime`);
- in one process: checking one code the first time (its letter of the index is
  read) and then again (per plan of a batch);
- a cold build of 1,000 synthetic plans (the baseline's benchmarks/synthetic_plans.py; md + html +
  docx, standard layout, 2 jobs; as benchmarks/batch_build.py measures it), and
  `plandoc validate` of the same 1,000 plans.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.batch_build import RUN_ONE  # noqa: E402

INDEX = "src/plandoc/model/icd10cm/data/RELEASE"


def git(*arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def default_base() -> str:
    """The parent of the commit that added the ICD-10-CM index."""
    added = git("log", "--format=%H", "--diff-filter=A", "--", INDEX).splitlines()
    if not added:
        sys.exit(f"no commit adds {INDEX}: give --base")
    return git("rev-parse", f"{added[-1]}^")


def environment(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree / "src")}


def seconds(command: list[str], tree: Path, cwd: Path | None = None) -> float:
    """The wall time of one command; a command that fails stops the benchmark (a failing
    baseline would measure its error path, not the check)."""
    started = time.perf_counter()  # in the tree: its own ./templates are the layouts found
    done = subprocess.run(command, env=environment(tree), cwd=cwd or tree, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"a measured command failed in {tree}: {' '.join(command)}\n{done.stderr[-2000:]}")
    return elapsed


def validate(plan: Path) -> list[str]:
    return [sys.executable, "-m", "plandoc", "validate", str(plan)]


def import_microseconds(tree: Path, plan: Path) -> int:
    """Cumulative import time of plandoc.model.icd10cm in one validate (0: not imported)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *validate(plan)[1:]], cwd=tree,
                          env=environment(tree), capture_output=True, text=True)  # fmt: skip
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+plandoc\.model\.icd10cm$", line)
        if match:
            return int(match[1])
    return 0


def build_seconds(tree: Path, plans: Path, work: Path, name: str) -> float:
    out = Path(tempfile.mkdtemp(prefix=f"out-{name}-", dir=work))
    layouts = work / f"layouts-{name}"  # each tree's own standard layout (its own rules)
    if not layouts.exists():
        shutil.copytree(tree / "templates" / "standard", layouts / "standard")
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(plans), str(out), str(layouts), "2"],
        cwd=work, env=environment(tree), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        sys.exit(f"a measured build failed ({name}):\n{done.stderr}")
    result = json.loads(done.stdout)
    if result["failed"] or result["built"] != 1000:
        sys.exit(f"a measured build did not build every plan ({name}): {result}")
    return result["seconds"]


IN_PROCESS = """
import json, statistics, time
from plandoc.checks.plan_checks import check_icd10cm_code
figures = {}
for code, description in (("F43.10", "PTSD"), ("G47.00", "Insomnia"), ("Z63.0", "Marital conflict"),
                          ("T74.11XA", "Adult physical abuse"), ("S06.0X1A", "Concussion")):
    started = time.perf_counter()
    list(check_icd10cm_code(("diagnoses", 0), code, description))
    cold = time.perf_counter() - started
    runs = []
    for _ in range(2000):
        started = time.perf_counter()
        list(check_icd10cm_code(("diagnoses", 0), code, description))
        runs.append(time.perf_counter() - started)
    figures[code] = {"first (reads its letter)": cold, "then, per code": statistics.median(runs)}
print(json.dumps(figures))
"""


def in_process(tree: Path) -> dict[str, dict[str, float]]:
    """The check of one code in one process: the first (it reads its letter), then each."""
    done = subprocess.run([sys.executable, "-c", IN_PROCESS], env=environment(tree),
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="validate runs per command")
    parser.add_argument("--build-runs", type=int, default=3, help="1,000-plan builds per tree")
    parser.add_argument("--base", help="the commit to compare with (default: before the index)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base_commit = args.base or default_base()
    work = Path(tempfile.mkdtemp(prefix="plandoc-icd10cm-bench-"))
    base = work / "base"
    git("worktree", "add", "--detach", str(base), base_commit)
    try:
        trees = {"before": base, "after": ROOT}
        # The plans both trees read: the baseline's own sample and synthetic plans (the
        # sample gained keys since, which the baseline would refuse as unknown).
        sample = work / "adult-ptsd.json"
        shutil.copyfile(base / "inputs" / "adult-ptsd.json", sample)
        worst = json.loads(sample.read_text("utf-8"))
        worst["diagnoses"][0].update(code="T74.11XA", description="Adult physical abuse")
        worst["diagnoses"][1].update(code="S06.0X1A", description="Concussion")
        (work / "worst.json").write_text(json.dumps(worst), "utf-8")
        plans = work / "plans"
        subprocess.run(
            [sys.executable, str(base / "benchmarks" / "synthetic_plans.py"), "1000", str(plans)],
            check=True, capture_output=True,
        )  # fmt: skip
        commands = {
            "validate adult-ptsd.json (F, G)": sample,
            "validate worst case (T, S)": work / "worst.json",
        }
        for tree in trees.values():  # warm the file cache and the bytecode
            for plan in commands.values():
                seconds(validate(plan), tree)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, plan in commands.items():
                for label, tree in trees.items():
                    times.setdefault((name, label), []).append(seconds(validate(plan), tree))
        for _ in range(args.build_runs):  # validate runs first: a build's writes would slow them
            for label, tree in trees.items():
                key = ("validate 1,000 plans", label)
                times.setdefault(key, []).append(seconds(validate(plans), tree))
        for _ in range(args.build_runs):
            for label, tree in trees.items():
                key = ("build 1,000 plans (md, html, docx; 2 jobs)", label)
                times.setdefault(key, []).append(build_seconds(tree, plans, work, label))
        medians = {key: statistics.median(values) for key, values in times.items()}
        imports = {label: import_microseconds(tree, sample) for label, tree in trees.items()}
        checks = in_process(ROOT)
    finally:
        git("worktree", "remove", "--force", str(base))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; before = {base_commit[:10]}, after = working tree; "
          f"medians of {args.rounds} validate runs and {args.build_runs} builds")  # fmt: skip
    print(f"{'':46} {'before':>10} {'after':>10} {'cost':>10}")
    names = dict.fromkeys(name for name, _ in medians)
    for name in names:
        before, after = medians[(name, "before")], medians[(name, "after")]
        print(f"{name:46} {before * 1000:8.1f}ms {after * 1000:8.1f}ms "
              f"{(after - before) * 1000:+8.1f}ms")  # fmt: skip
    print(
        f"import of plandoc.model.icd10cm in validate: {imports['after'] / 1000:.1f} ms "
        f"(before: {'not imported' if not imports['before'] else imports['before']})"
    )
    print("in one process, check_icd10cm_code (code, description):")
    for code, figures in checks.items():
        print(f"  {code:9} " + ", ".join(f"{k} {v * 1000:.3f} ms" for k, v in figures.items()))
    if args.json:
        args.json.write_text(json.dumps({
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "python": platform.python_version(),
            "base": base_commit,
            "medians_s": {f"{name} [{label}]": value for (name, label), value in medians.items()},
            "import_us": imports,
            "in_process_s": checks,
        }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
