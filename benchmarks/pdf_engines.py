"""PDF engines side by side on the same plans, in one run: plans and pages per second, one core.

- typst: plandoc's PDF writer (documents/pdf_writer.py: the Typst program, one compiler
  kept for the process);
- weasyprint: the print HTML through WeasyPrint, as plandoc made PDFs before issue 21
  (needs `pip install weasyprint` and Pango; skipped, with the reason, without them);
- libreoffice: `soffice --headless --convert-to pdf` converting the plans' DOCX files,
  all of a round in one process (the stand-in for a long-lived LibreOffice: what it
  costs to start is spread over the round; skipped without soffice).

Each round renders every sample of `inputs/` (each plan read and checked once, before the
rounds) with each engine in turn, so the engines share the machine's ups and downs.
Figures are medians over --rounds rounds.

    python benchmarks/pdf_engines.py [--rounds 5] [--repeat 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pypdf

from plandoc import __version__
from plandoc.checks.file import check_file
from plandoc.documents import pdf_writer
from plandoc.documents.compose import PlanDocument, compose
from plandoc.documents.documents import render_documents
from plandoc.layouts import Layout

SAMPLES = Path(__file__).resolve().parents[1] / "inputs"
AS_OF = dt.date(2026, 11, 30)


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def typst_engine(document: PlanDocument, layout: Layout, key: str) -> bytes:
    return pdf_writer.render_pdf(document, layout, key)


def weasyprint_engine() -> Callable[[PlanDocument, Layout, str], bytes] | str:
    """WeasyPrint from the print HTML, as plandoc 0.1 did (its options, not its metadata)."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        return f"weasyprint is missing ({type(error).__name__}): pip install weasyprint"
    import logging

    from plandoc.documents.html_writer import render_page

    logging.getLogger("weasyprint").setLevel(logging.CRITICAL)
    logging.getLogger("fontTools").setLevel(logging.CRITICAL)
    fixed = weasyprint.CSS(string="table { table-layout: fixed !important; }")

    def render(document: PlanDocument, layout: Layout, key: str) -> bytes:
        page = weasyprint.HTML(
            string=render_page(document, layout),
            url_fetcher=weasyprint.URLFetcher(allowed_protocols=frozenset()),
        )
        return page.render(stylesheets=[fixed]).write_pdf(pdf_variant="pdf/ua-1")

    return render


def libreoffice_round(docx: list[bytes], folder: Path) -> tuple[float, int]:
    """Seconds to convert the DOCX files in one soffice process, and the pages made."""
    source, out = folder / "in", folder / "out"
    shutil.rmtree(source, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    source.mkdir()
    for number, data in enumerate(docx):
        (source / f"plan{number}.docx").write_bytes(data)
    started = time.perf_counter()
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, sorted(source.iterdir()))],
        capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return seconds, sum(page_count(path.read_bytes()) for path in out.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=4, help="each sample this many times a round")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    plans = []
    for path in sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md")):
        checked = check_file(path, today=AS_OF)
        assert checked.plan is not None and checked.layout is not None, path
        key = f"{checked.plan.plan.id}|{checked.plan.plan.version}"
        plans.append((compose(checked.plan, checked.layout), checked.layout, key, checked))
    plans = plans * args.repeat
    engines: dict[str, Callable[[PlanDocument, Layout, str], bytes]] = {"typst": typst_engine}
    skipped: dict[str, str] = {}
    weasy = weasyprint_engine()
    if isinstance(weasy, str):
        skipped["weasyprint"] = weasy
    else:
        engines["weasyprint"] = weasy
    docx = [
        render_documents(checked.plan, checked.layout, ("docx",))["docx"] for *_, checked in plans
    ]
    if not shutil.which("soffice"):
        skipped["libreoffice"] = "soffice is missing"
    # Warm up (the compiler, fonts, caches) and count each engine's pages, outside the timing.
    pages_made = {
        name: sum(page_count(render(document, layout, key)) for document, layout, key, _ in plans)
        for name, render in engines.items()
    }
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    if "libreoffice" not in skipped:
        rates["libreoffice"] = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name, render in engines.items():
                started = time.perf_counter()
                for document, layout, key, _ in plans:
                    render(document, layout, key)
                seconds = time.perf_counter() - started
                rates[name].append((len(plans) / seconds, pages_made[name] / seconds))
            if "libreoffice" in rates:
                seconds, pages = libreoffice_round(docx, Path(folder))
                rates["libreoffice"].append((len(plans) / seconds, pages / seconds))
    results = {
        name: {
            "plans_per_second": statistics.median(r[0] for r in runs),
            "pages_per_second": statistics.median(r[1] for r in runs),
            "min": min(r[0] for r in runs),
            "max": max(r[0] for r in runs),
        }
        for name, runs in rates.items()
    }
    print(f"plandoc {__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{dt.date.today()}, one core; {len(plans)} plans a round, "
          f"medians of {args.rounds}")  # fmt: skip
    print(f"{'engine':<12} {'plans/s':>9} {'pages/s':>9} {'min':>8} {'max':>8}")
    for name, figures in results.items():
        print(f"{name:<12} {figures['plans_per_second']:9.2f} {figures['pages_per_second']:9.1f} "
              f"{figures['min']:8.2f} {figures['max']:8.2f}")  # fmt: skip
    for name, reason in skipped.items():
        print(f"{name:<12} skipped: {reason}")
    if "weasyprint" in results:
        ratio = results["typst"]["plans_per_second"] / results["weasyprint"]["plans_per_second"]
        print(f"typst / weasyprint: {ratio:.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "skipped": skipped}, indent=2))


if __name__ == "__main__":
    main()
