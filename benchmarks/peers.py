"""plandoc beside the tools a clinic would use instead, in one run, one core: ratios.

Over N variants of the format specification's example plan (benchmarks/spec_variants.py,
two charts each), read and checked beforehand, in one process pinned to one core:

- plandoc: HTML alone, DOCX alone, and Markdown + HTML + DOCX (with their charts);
- a pandoc loop: one `pandoc` process a plan turning plandoc's composed Markdown into a
  standalone HTML page, and one into a DOCX (pandoc draws no chart);
- docxtpl (`pip install 'plandoc[bench]'`), a Word template filled from the plan: its
  title, client, each goal with its objectives in a table, and the two charts as
  pictures (plandoc's PNGs, drawn beforehand: docxtpl is not charged for them).

A peer that is not installed is left out. Figures are medians over --rounds rounds; each
round measures every case in turn.

    python benchmarks/peers.py [--plans 100] [--rounds 5] [--seconds 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.spec_variants import write_variants  # noqa: E402
from plandoc.checks.file import check_file  # noqa: E402
from plandoc.documents import charts  # noqa: E402
from plandoc.documents.compose import compose  # noqa: E402
from plandoc.documents.documents import render_documents  # noqa: E402


def rate(work: Callable[[object], object], items: list, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            work(item)
            done += 1
            if time.perf_counter() - start >= seconds and done >= 3:
                break
    return done / (time.perf_counter() - start)


def pandoc_loop(folder: Path) -> Callable[[object], object]:
    def run(source: Path) -> None:
        for target in ("plan.html", "plan.docx"):
            subprocess.run(
                ["pandoc", "--quiet", "--standalone", "--metadata", "title=Plan", str(source),
                 "-o", str(folder / target)],
                check=True,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip

    return run


def docxtpl_peer(folder: Path) -> tuple[Callable[[object], object], Callable[[object], object]]:
    """A docxtpl template made with python-docx, and a function filling it for a plan."""
    from docx import Document
    from docxtpl import DocxTemplate, InlineImage

    template = Document()
    template.add_heading("Treatment plan {{ plan.id }}, version {{ plan.version }}", 0)
    template.add_paragraph("Client: {{ client.name }} ({{ client.pronouns }})")
    template.add_paragraph("Presenting problem: {{ presenting }}")
    template.add_paragraph("{% for goal in goals %}")
    template.add_heading("{{ goal.id }}: {{ goal.statement }}", 2)
    template.add_paragraph("{{ goal.chart }}")
    table = template.add_table(rows=4, cols=3)
    header = ("Objective", "Target", "Status")
    cells = ("{{ objective.statement }}", "{{ objective.target_date }}", "{{ objective.status }}")
    for column in range(3):
        table.cell(0, column).text = header[column]
        table.cell(2, column).text = cells[column]
    table.cell(1, 0).text = "{%tr for objective in goal.objectives %}"
    table.cell(3, 0).text = "{%tr endfor %}"
    template.add_paragraph("{% endfor %}")
    path = folder / "template.docx"
    template.save(path)

    def prepare(item):  # type: ignore[no-untyped-def]
        checked, pictures = item
        return checked.plan.model_dump(mode="json"), pictures

    def fill(prepared) -> bytes:  # type: ignore[no-untyped-def]
        data, pictures = prepared
        document = DocxTemplate(path)
        goals = []
        for number, goal in enumerate(data["goals"], 1):
            picture = pictures.get(f"goal-{number}")
            chart = InlineImage(document, io.BytesIO(picture)) if picture else ""
            goals.append({**goal, "chart": chart})
        document.render(
            {
                "plan": data["plan"],
                "client": data["client"],
                "presenting": str(data.get("presenting_problem", ""))[:500],
                "goals": goals,
            }
        )
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    return prepare, fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    work = Path(tempfile.mkdtemp(prefix="plandoc-peers-"))
    try:
        paths = write_variants(args.plans, work / "plans")
        checked = [check_file(path) for path in paths]
        cases: dict[str, tuple[Callable, list]] = {}
        for label, formats in (("plandoc html", ("html",)), ("plandoc docx", ("docx",)),
                               ("plandoc md+html+docx", ("md", "html", "docx"))):  # fmt: skip
            cases[label] = (
                lambda c, formats=formats: render_documents(c.plan, c.layout, formats),
                checked,
            )
        if shutil.which("pandoc"):
            sources = []
            for number, item in enumerate(checked[:20]):
                source = work / f"plan-{number}.md"
                source.write_text(compose(item.plan, item.layout).markdown)
                sources.append(source)
            cases["pandoc loop (html + docx)"] = (pandoc_loop(work), sources)
        try:
            prepare, fill = docxtpl_peer(work)
        except ImportError:
            print("docxtpl is not installed (pip install 'plandoc[bench]'): left out")
        else:
            items = []
            for item in checked:
                document = compose(item.plan, item.layout)
                pictures = {
                    name: charts.png(progress, item.layout.font_size, item.layout.date_format,
                                     document.chart_words)
                    for name, progress in document.charts
                }  # fmt: skip
                items.append(prepare((item, pictures)))
            cases["docxtpl docx"] = (fill, items)
        for function, items in cases.values():
            rate(function, items[:5], 0.3)  # warm up
        # Round by round, each case in turn: a shared machine getting busier or quieter
        # changes every case alike, and the ratios between them hold.
        rounds: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(args.rounds):
            for label, (function, items) in cases.items():
                rounds[label].append(rate(function, items, args.seconds))
        results = {}
        for label, measured in rounds.items():
            results[label] = {"median": statistics.median(measured), "min": min(measured),
                              "max": max(measured)}  # fmt: skip
            figures = results[label]
            print(f"{label:28} {figures['median']:8.1f} plans/s "
                  f"(min {figures['min']:.1f}, max {figures['max']:.1f})", flush=True)  # fmt: skip
        ratios = {}
        if "pandoc loop (html + docx)" in results:
            pandoc = results["pandoc loop (html + docx)"]["median"]
            ratios["plandoc html+docx / pandoc loop"] = (
                1
                / (1 / results["plandoc html"]["median"] + 1 / results["plandoc docx"]["median"])
                / pandoc
            )
        if "docxtpl docx" in results:
            ratios["plandoc docx / docxtpl"] = (
                results["plandoc docx"]["median"] / results["docxtpl docx"]["median"]
            )
        for label, ratio in ratios.items():
            print(f"{label:34} {ratio:6.2f}x")
        machine = {"python": platform.python_version(), "machine": platform.machine(),
                   "cpus": os.cpu_count(), "plans": args.plans, "rounds": args.rounds}  # fmt: skip
        print("machine:", json.dumps(machine))
        if args.json:
            args.json.write_text(json.dumps({"machine": machine, "results": results,
                                             "ratios": ratios}, indent=1))  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
