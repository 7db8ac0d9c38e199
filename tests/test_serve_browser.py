"""`plandoc serve` in a real headless Chromium (issue 22's Done-when): open the index,
open a plan, edit the file on disk and see the page change without a reload, introduce
an error and see it listed with its line, switch layouts, download a DOCX and open it.

Needs Chromium (as tests/test_accessibility.py finds it) and the serve extra: skipped
with the reason where missing, a failure where PLANDOC_REQUIRE_TOOLS is set (.ci/run).
How soon a change arrives is measured by benchmarks/serve_reload.py, not timed here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLES
from .test_accessibility import CHROMIUM, CHROMIUM_ARGS, _missing

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path):
    """The real command on a copy of the samples: (the folder, the URL with its token)."""
    if not Path(CHROMIUM).is_file():
        _missing(f"Chromium ({CHROMIUM}) is missing: apt-get install chromium")
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    folder = tmp_path / "plans"
    shutil.copytree(SAMPLES, folder)
    server = subprocess.Popen(
        [sys.executable, "-m", "plandoc", "serve", str(folder), "--port", "0"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = ""
        for _ in range(5):
            found = re.search(r"http://\S+", server.stderr.readline())
            if found:
                url = found.group()
                break
        assert url, "serve printed no address"
        yield folder, url
    finally:
        server.terminate()
        server.communicate(timeout=10)


# A live page loads the new document in a second frame out of sight, then drops the old
# one: wait until a document frame shows the text, whichever frame it is.
_SHOWS = """text => [...document.querySelectorAll("iframe.document")].some(
    frame => frame.contentDocument && frame.contentDocument.body
        && frame.contentDocument.body.innerText.includes(text))"""


def _wait_for_document_text(page, text: str) -> None:
    page.wait_for_function(_SHOWS, arg=text, timeout=20_000)


def test_a_clinician_previews_edits_and_downloads_in_a_browser(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    folder, url = served
    base = url.split("/?")[0]
    plan_file = folder / "adult-ptsd.json"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(accept_downloads=True)
        page.goto(url)  # the token, then a cookie
        expect(page.locator("body")).to_contain_text("TP-2026-0042", timeout=20_000)
        page.goto(f"{base}/plan/adult-ptsd.json")
        _wait_for_document_text(page, "Treatment Plan")

        # An edit on disk reaches the open page, with no reload by hand.
        data = json.loads(plan_file.read_text("utf-8"))
        data["goals"][0]["statement"] = "Sleep through the night five nights a week."
        plan_file.write_text(json.dumps(data, indent=2), "utf-8")
        _wait_for_document_text(page, "Sleep through the night five nights a week.")

        # An error shows in place, with its file and line, and the last good one is kept.
        text = plan_file.read_text("utf-8").replace('"2026-08-03"', '"2026-13-45"', 1)
        plan_file.write_text(text, "utf-8")
        line = next(n for n, row in enumerate(text.splitlines(), 1) if "2026-13-45" in row)
        problems = page.locator("aside ul.problems")
        expect(problems).to_contain_text(f"adult-ptsd.json:{line}", timeout=20_000)
        expect(page.locator("details.last-good")).to_have_count(1)
        plan_file.write_text(json.dumps(data, indent=2), "utf-8")  # fixed again
        _wait_for_document_text(page, "Sleep through the night five nights a week.")

        # Another layout.
        page.locator("nav.layouts a", has_text="client-copy").click()
        _wait_for_document_text(page, "Your Treatment Plan")

        # A DOCX, made on demand, opens as a Word document.
        with page.expect_download(timeout=20_000) as waited:
            page.locator("nav.downloads a", has_text="docx").click()
        saved = tmp_path / "download.docx"
        waited.value.save_as(saved)
        browser.close()
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(saved.read_bytes())).paragraphs)
    assert "Your Treatment Plan" in text
    assert not any(folder.parent.glob("output*"))  # nothing written beside the plans
