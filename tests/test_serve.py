"""`plandoc serve`: the pages, the security checks, the log, live reload (docs/serve.md).

Starlette's TestClient drives the application in-process; one test starts the real
command (uvicorn) and reads its log and its server-sent events.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from plandoc.serve.app import Site, allowed_hosts, create_app

from .conftest import ROOT, SAMPLES

MARKER = "Qzxmarkerqz"  # a plan value no page title, route or message of plandoc's holds
AS_OF = dt.date(2026, 11, 30)
BASE = "http://127.0.0.1:8765"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("httpx", "httpcore"):  # the tests' own client
            return
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


RECORDS = _Records()


@pytest.fixture(scope="module", autouse=True)
def _every_log_line():
    """Every log line of every logger while this module runs: none may hold a plan value."""
    root = logging.getLogger()
    level = root.level
    root.addHandler(RECORDS)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(RECORDS)
    root.setLevel(level)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The samples, the client's name and a goal of one made a marker, and a broken plan
    that quotes the marker in its problem."""
    plans = tmp_path / "plans"
    shutil.copytree(SAMPLES, plans)
    data = json.loads((plans / "adult-ptsd.json").read_text("utf-8"))
    data["client"]["name"] = f"{MARKER} Name"
    data["goals"][0]["statement"] = f"{MARKER} goal statement for the client."
    (plans / "adult-ptsd.json").write_text(json.dumps(data, indent=2), "utf-8")
    broken = json.loads(json.dumps(data))
    broken["plan"]["id"] = "TP-2026-0999"
    broken["plan"]["effective"] = f"{MARKER}-date"
    (plans / "broken.json").write_text(json.dumps(broken, indent=2), "utf-8")
    return plans


def _client(folder: Path, names: bool = True, login: bool = True) -> tuple[TestClient, Site]:
    site = Site(folder, lambda: _settings(), names=names, as_of=AS_OF)
    site.hosts = allowed_hosts("127.0.0.1", 8765)
    client = TestClient(create_app(site), base_url=BASE)
    if login:
        answer = client.get(f"/?token={site.token}")
        assert answer.status_code == 200 and "plandoc-serve" in client.cookies
    return client, site


def _settings():
    from plandoc.settings import Settings

    return Settings()


# --- safe by default --------------------------------------------------------------------


def test_every_request_needs_the_token_then_a_cookie(folder):
    client, site = _client(folder, login=False)
    for path in ("/", "/plan/adult-ptsd.json", "/download/docx/adult-ptsd.json", "/events",
                 "/static/serve.js", "/nowhere"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert MARKER not in answer.text
    assert client.get("/?token=not-the-token").status_code == 403
    welcome = client.get(f"/plan/adult-ptsd.json?token={site.token}&layout=medicare")
    cookie = welcome.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # the page moves on without the token in its address
    assert 'url=/plan/adult-ptsd.json?layout=medicare"' in welcome.text
    assert site.token not in welcome.text
    assert client.get("/").status_code == 200


def test_a_request_for_another_host_is_refused(folder):
    client, site = _client(folder)
    for host in ("evil.example:8765", "127.0.0.1:9999", "attacker.test", ""):
        answer = client.get("/", headers={"Host": host})
        assert answer.status_code == 421, host
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    other = TestClient(create_app(site))  # Host: testserver
    assert other.get(f"/?token={site.token}").status_code == 421


def test_only_plan_files_under_the_folder_can_be_read(folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = json.loads((folder / "adult-ptsd.json").read_text("utf-8"))
    secret["plan"]["id"] = "TP-2026-0777"
    (outside / "secret.json").write_text(json.dumps(secret), "utf-8")
    (folder / "link-out.json").symlink_to(outside / "secret.json")
    (folder / "linked-folder").symlink_to(outside, target_is_directory=True)
    client, _ = _client(folder)
    refused = [
        "/plan/%2e%2e/outside/secret.json",
        "/plan/..%2foutside%2fsecret.json",
        "/document/%2e%2e/outside/secret.json",
        "/download/html/%2e%2e/outside/secret.json",
        "/plan/link-out.json",
        "/document/link-out.json",
        "/download/md/linked-folder/secret.json",
        "/plan/linked-folder/secret.json",
        "/plan/%2fetc%2fpasswd",
        "/plan/.hidden.json",
        "/plan/missing.json",
        "/download/html/../../../../etc/passwd",
    ]
    for path in refused:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "TP-2026-0777" not in answer.text
    assert "TP-2026-0777" not in client.get("/").text  # nor listed


def test_pages_forbid_other_scripts_and_load_nothing_from_elsewhere(folder):
    client, _ = _client(folder)
    for path in ("/", "/plan/adult-ptsd.json", "/document/adult-ptsd.json"):
        answer = client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert not re.search(r"(src|href)=\"(https?:)?//", answer.text), path
        assert "<script>" not in answer.text  # no inline script: only /static/serve.js
    document = client.get("/document/adult-ptsd.json").headers["content-security-policy"]
    assert "script-src" not in document  # default-src 'none': no script at all
    assert client.get("/static/serve.js").status_code == 200


def test_starting_plandoc_imports_no_web_stack():
    code = (
        "import sys, plandoc.cli; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'watchfiles', 'httpx', "
        "'plandoc.serve') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"


# --- the pages -----------------------------------------------------------------------


def test_the_index_lists_every_sample_with_its_flags(folder):
    client, _ = _client(folder)
    page = client.get("/").text
    for plan_id in ("TP-2026-0042", "TP-2026-0107", "TP-2026-0219"):
        assert plan_id in page
    for name in [*sorted(p.name for p in SAMPLES.iterdir()), "broken.json"]:
        assert f'href="/plan/{name}"' in page
    assert "due-soon" in page and "invalid" in page
    assert f"{MARKER} Name" in page  # the clinician's own screen: names shown
    hidden, _ = _client(folder, names=False)
    assert MARKER not in hidden.get("/").text
    assert MARKER not in hidden.get("/?sort=client").text


def test_the_index_sorts_by_a_column(folder):
    client, _ = _client(folder)
    ids = lambda text: re.findall(r">(TP-\d{4}-\d{4})<", text)  # noqa: E731
    ascending = ids(client.get("/?sort=plan_id").text)
    assert ascending == sorted(ascending) and len(ascending) == 4
    assert ids(client.get("/?sort=plan_id&order=desc").text) == ascending[::-1]
    assert client.get("/?sort=nonsense").status_code == 200


def test_the_plan_page_shows_the_document_and_a_switcher_of_layouts(folder):
    client, _ = _client(folder)
    page = client.get("/plan/adult-ptsd.json").text
    assert 'src="/document/adult-ptsd.json?layout=standard' in page
    for layout in ("standard", "client-copy", "medicare", "medicaid", "managed-care"):
        assert f'href="/plan/adult-ptsd.json?layout={layout}"' in page
    document = client.get("/document/adult-ptsd.json?layout=client-copy")
    assert document.status_code == 200 and "<!DOCTYPE html>" in document.text
    assert "TP-2026-0042" in document.text
    assert client.get("/plan/adult-ptsd.json?layout=nonsense").status_code == 404


def test_the_plan_page_lists_problems_with_file_line_field_and_an_editor_link(folder):
    client, _ = _client(folder)
    answer = client.get("/plan/broken.json")
    assert answer.status_code == 200
    page = answer.text
    assert "cannot be rendered" in page and 'class="document"' not in page
    match = re.search(
        r'href="(vscode://file[^"]+)"[^>]*>broken\.json:(\d+)</a> <code>plan\.effective', page
    )
    assert match, page
    line = int(match.group(2))
    lines = (folder / "broken.json").read_text("utf-8").splitlines()
    assert "effective" in lines[line - 1]
    assert match.group(1).endswith(f"/broken.json:{line}")
    assert f'data-text="broken.json:{line}: plan.effective:' in page  # the copy button


def test_downloads_have_the_right_types_and_write_nothing(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client, _ = _client(folder)
    types = {
        "md": "text/markdown",
        "html": "text/html",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    for fmt, content_type in types.items():
        answer = client.get(f"/download/{fmt}/adult-ptsd.json?layout=standard")
        assert answer.status_code == 200, fmt
        assert answer.headers["content-type"].startswith(content_type)
        assert f'filename="TP-2026-0042-v2.standard.{fmt}"' in answer.headers["content-disposition"]
    import io

    import docx

    body = client.get("/download/docx/adult-ptsd.json?layout=client-copy").content
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)
    assert "TP-2026-0042" in text or MARKER in text
    assert client.get("/download/exe/adult-ptsd.json").status_code == 404
    assert client.get("/download/html/broken.json").status_code == 409
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans"]  # no output folder


@pytest.mark.pdf
def test_a_pdf_download_is_a_pdf(folder):
    pytest.importorskip("typst")
    client, _ = _client(folder)
    answer = client.get("/download/pdf/adult-ptsd.json")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


# --- live reload ------------------------------------------------------------------------


def test_an_edit_shows_and_a_broken_edit_keeps_the_last_good_document(folder):
    client, site = _client(folder)
    plan = folder / "adult-ptsd.json"
    data = json.loads(plan.read_text("utf-8"))
    assert client.get("/document/adult-ptsd.json?layout=standard").status_code == 200
    data["goals"][0]["statement"] = "Sleeps through the night five nights a week."
    plan.write_text(json.dumps(data, indent=2), "utf-8")
    site.changed()
    page = client.get("/plan/adult-ptsd.json?layout=standard").text
    assert 'data-generation="1"' in page and "g=1" in page
    good = client.get("/document/adult-ptsd.json?layout=standard").text
    assert "Sleeps through the night" in good
    plan.write_text(plan.read_text("utf-8").replace('"version": 2', '"version": "two"'), "utf-8")
    site.changed()
    page = client.get("/plan/adult-ptsd.json?layout=standard").text
    assert "cannot be rendered" in page and "plan.version" in page
    assert "Show the last good document" in page
    last = client.get("/document/adult-ptsd.json?layout=standard&last=1")
    assert last.status_code == 200 and "Sleeps through the night" in last.text
    plan.write_text("{ not json", "utf-8")  # unreadable: no layout of its own any more
    site.changed()
    page = client.get("/plan/adult-ptsd.json").text
    assert "cannot be rendered" in page and "Show the last good document" in page
    last = client.get("/document/adult-ptsd.json?layout=&last=1")
    assert last.status_code == 200 and "Sleeps through the night" in last.text


def test_a_saved_file_is_seen(folder):
    """Correctness, not speed: the change arrives (the project times nothing in tests;
    benchmarks/serve_reload.py measures how soon)."""
    from plandoc.serve.app import watched_paths

    site = Site(folder, _settings, as_of=AS_OF)
    site.hosts = allowed_hosts("127.0.0.1", 8765)
    with TestClient(create_app(site, watch=watched_paths(site)), base_url=BASE):
        time.sleep(0.3)  # the watcher starts
        before = site.generation
        plan = folder / "couple-relationship.json"
        plan.write_text(plan.read_text("utf-8") + "\n", "utf-8")
        started = time.monotonic()
        while site.generation == before and time.monotonic() - started < 20:
            time.sleep(0.02)
        assert site.generation > before


# --- the real command ---------------------------------------------------------------------


def test_the_command_serves_logs_no_plan_value_and_sends_changes(folder):
    import httpx

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "plandoc", "serve", str(folder), "--port", "0", "--no-names"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = ""
        for _ in range(3):
            line = server.stderr.readline()
            if found := re.search(r"http://\S+", line):
                url = found.group()
                break
        assert url.startswith("http://127.0.0.1:"), line
        base = url.split("/?")[0]
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/").status_code == 403
            assert client.get(url).status_code == 200
            for path in ("/", "/plan/adult-ptsd.json", "/plan/broken.json",
                         "/document/adult-ptsd.json", "/download/md/adult-ptsd.json",
                         f"/plan/{MARKER}.json", f"/?sort={MARKER}",
                         "/plan/%2e%2e/x.json"):  # fmt: skip
                assert client.get(path).status_code in (200, 404), path
            assert client.get("/", headers={"Host": f"{MARKER}.example"}).status_code == 421
            with client.stream("GET", "/events") as events:
                lines = events.iter_lines()
                assert next(lines) == "data: 0"
                plan = folder / "adult-ptsd.json"
                plan.write_text(plan.read_text("utf-8") + "\n", "utf-8")
                changed = next(line for line in lines if line.startswith("data:"))
                assert changed == "data: 1"
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert "GET /plan/{path:path} 200" in log and "GET / 403" in log
    assert MARKER not in log and "adult-ptsd" not in log and "token=" not in log


def test_no_log_line_of_this_module_holds_a_plan_value():
    """The last test: every log line the tests above made (their whole session)."""
    text = "\n".join(RECORDS.lines)
    assert "GET /plan/{path:path} 200" in text
    assert MARKER not in text
