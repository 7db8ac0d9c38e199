"""The documentation says what the project is: README short and exact, docs complete.

Reads the project's own files only (README.md, docs/, mkdocs.yml, .ci/run).
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from plandoc.cli import main
from plandoc.model.plan import Plan, model_in
from plandoc.settings import Settings

from .conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"
CI = ROOT / ".ci" / "run"
README_MOST_BYTES = 8 * 1024

# The README's first command (CI runs the second, which it holds itself).
BUILD_COMMAND = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/plandoc build"


def _nav_pages() -> list[str]:
    def walk(items: object) -> Iterator[str]:
        if isinstance(items, str):
            yield items
        elif isinstance(items, list):
            for item in items:
                yield from walk(item)
        elif isinstance(items, dict):
            for value in items.values():
                yield from walk(value)

    config = yaml.safe_load(MKDOCS.read_text("utf-8"))
    return list(walk(config["nav"]))


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _code_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block."""
    return re.findall(r"^```([^\n]*)\n(.*?)^```", text, flags=re.M | re.S)


def _without_code(text: str) -> str:
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


# --- the README --------------------------------------------------------------------------


def test_readme_is_under_8_kb():
    size = len(README.read_bytes())
    assert size < README_MOST_BYTES, f"README.md is {size:,} bytes; keep it under 8 KB"


def test_readme_holds_the_test_command_exactly_as_ci_runs_it():
    ci_lines = CI.read_text("utf-8").splitlines()
    marker = ci_lines.index("# The README's test command, verbatim:")
    command = ci_lines[marker + 1]
    assert command.startswith("python3 -m venv .venv") and "pytest" in command
    text = README.read_text("utf-8")
    blocks = [body.strip() for info, body in _code_blocks(text) if info.strip() == "sh"]
    assert command in blocks
    assert text.index("Install and run the tests") < text.index(command)


def test_readme_holds_the_install_and_build_command():
    text = README.read_text("utf-8")
    blocks = [body.strip() for info, body in _code_blocks(text) if info.strip() == "sh"]
    assert BUILD_COMMAND in blocks
    heading = text.index("Install and build the shipped sample plans")
    assert heading < text.index(BUILD_COMMAND) < text.index("Install and run the tests")


def test_readme_says_how_to_read_the_docs():
    text = README.read_text("utf-8")
    assert "pip install '.[docs]'" in text and "mkdocs serve" in text
    assert "(docs/index.md)" in text


# --- the docs ------------------------------------------------------------------------------


def _format_keys(model: type, seen: set[type]) -> Iterator[str]:
    """Every key of the plan format: the model's fields, by their aliases, all the way down."""
    seen.add(model)
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        yield field.alias or name
        for inner in _models_in(field.annotation):
            if inner not in seen:
                yield from _format_keys(inner, seen)


def _models_in(annotation: object) -> Iterator[type]:
    found = model_in(annotation)
    if found is not None:
        yield found
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


def test_the_format_reference_names_every_key_of_the_plan_model():
    Plan.model_rebuild()
    keys = set(_format_keys(Plan, set()))
    assert {"plandoc", "goals", "instrument", "behavior", "declined_reason", "x-"} <= keys
    text = (DOCS / "format.md").read_text("utf-8")
    missing = sorted(key for key in keys if f"`{key}`" not in text)
    assert not missing, f"docs/format.md does not name: {missing}"


def test_the_settings_page_names_every_setting():
    text = (DOCS / "settings.md").read_text("utf-8")
    keys = [f.alias or name for name, f in Settings.model_fields.items() if name != "config_file"]
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"docs/settings.md does not name: {missing}"


def test_every_page_in_the_nav_exists_and_every_page_is_in_the_nav():
    pages = _nav_pages()
    assert pages and len(pages) == len(set(pages))
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert not missing, missing
    unlisted = [p.name for p in _pages() if p.name not in pages]
    assert not unlisted, f"pages not in mkdocs.yml's nav: {unlisted}"


def _links(path: Path) -> Iterator[str]:
    for target in re.findall(r"\]\(([^)\s]+)\)", _without_code(path.read_text("utf-8"))):
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#"):
            yield target


@pytest.mark.parametrize("path", [README, *_pages()], ids=lambda p: p.name)
def test_every_relative_link_points_to_a_file_that_exists(path):
    links = list(_links(path))
    broken = [
        link for link in links if not (path.parent / link.split("#", 1)[0]).resolve().exists()
    ]
    assert not broken, f"{path.name}: {broken}"


@pytest.mark.parametrize("path", _pages(), ids=lambda p: p.name)
def test_no_page_escapes_a_pipe(path):
    """`\\|` in a table's code shows as `|` on GitHub but as `\\|` on the site: say it in words."""
    lines = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if "\\|" in line]
    assert not lines, f"{path.name}: lines {lines}"


def _commands(group: click.Group, prefix: str = "plandoc") -> Iterator[str]:
    for name, command in group.commands.items():
        yield f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


def test_the_command_reference_names_every_command():
    commands = list(_commands(main))
    assert "plandoc validate" in commands and "plandoc layouts show" in commands
    text = (DOCS / "commands.md").read_text("utf-8")
    missing = [command for command in commands if f"`{command}" not in text]
    assert not missing, f"docs/commands.md does not name: {missing}"
    headings = re.findall(r"^### `(plandoc [a-z-]+)`$", text, flags=re.M)
    assert sorted(headings) == sorted(f"plandoc {name}" for name in main.commands)


# --- the site ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_the_site_builds_strictly_with_every_page_and_the_api(tmp_path):
    pytest.importorskip("mkdocstrings")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for page in _nav_pages():
        built = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert built.is_file(), page
    api = html.unescape(re.sub(r"<[^>]+>", "", (site / "api" / "index.html").read_text("utf-8")))
    import plandoc.api

    for name in ("load", "check", "render", "build"):
        first_line = getattr(plandoc.api, name).__doc__.strip().splitlines()[0]
        assert first_line.replace("`", "") in api, name
