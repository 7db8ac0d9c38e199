"""Layouts: a folder of templates plus a `layout.toml` manifest.

A layout says how a plan is shown: its Markdown template (`plan.md.j2`), the
HTML page around it (`page.html.j2`, `style.css`), page size, date format and
review interval. Layouts are data: adding one never needs a code change.

Templates run in Jinja's sandbox with StrictUndefined: a template cannot reach
Python internals, and a misspelt name is an error that names the template and
line. Every value a template prints passes through `finalize`, which escapes
it as Markdown unless it is already `Markdown` (a narrative field).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .markdown_text import Markdown, escape_inline, narrative
from .problems import PlandocError

MANIFEST = "layout.toml"
PLAN_TEMPLATE = "plan.md.j2"
PAGE_TEMPLATE = "page.html.j2"
STYLESHEET = "style.css"
FORMATS = ("md", "html", "docx")
PAGE_SIZES = ("letter", "a4")
DEFAULT_LAYOUT = "standard"

_MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "title": str,
    "description": str,
    "formats": list,
    "page_size": str,
    "date_format": str,
    "review_interval_days": int,
}


@dataclass(frozen=True)
class Layout:
    name: str
    folder: Path
    title: str
    description: str = ""
    formats: tuple[str, ...] = FORMATS
    page_size: str = "letter"
    date_format: str = "%Y-%m-%d"
    review_interval_days: int | None = None

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def format_date(self, value: dt.date) -> str:
        return value.strftime(self.date_format)

    @cached_property
    def environment(self) -> SandboxedEnvironment:
        """For Markdown templates: values escaped as Markdown."""
        return make_environment(self)

    @cached_property
    def html_environment(self) -> SandboxedEnvironment:
        """For the HTML page around the body: values escaped as HTML."""
        return PlanSandbox(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            auto_reload=False,
        )

    def template(self, name: str) -> jinja2.Template:
        environment = self.html_environment if name.endswith(".html.j2") else self.environment
        try:
            return environment.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            raise PlandocError(
                f"{error.filename or name}:{error.lineno}: template error: {error.message}"
            ) from None
        except jinja2.TemplateNotFound:
            raise PlandocError(f"layout '{self.name}' has no template {name}") from None

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one of the layout's templates; a template's mistake names its file and line."""
        template = self.template(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as error:
            frames = [
                f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")
            ]
            where = (
                f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(self.folder / name)
            )
            raise PlandocError(f"{where}: template error: {error.message}") from None

    def read_file(self, name: str) -> str:
        path = self.folder / name
        try:
            return path.read_text("utf-8")
        except OSError:
            raise PlandocError(f"layout '{self.name}' has no {name} ({path})") from None


def builtin_layouts_folder() -> Path:
    """The layouts shipped with plandoc: inside the installed package, or the source tree's."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def find_layout(name: str, folders: list[Path] | None = None) -> Layout:
    """The layout called `name`; later folders override earlier ones."""
    found = available_layouts(folders)
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PlandocError(f"unknown layout '{name}'; layouts available: {known}")
    return load_layout(found[name])


def available_layouts(folders: list[Path] | None = None) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in [builtin_layouts_folder(), *(folders or [])]:
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                if (child / MANIFEST).is_file():
                    found[child.name] = child
    return found


_LOADED: dict[Path, Layout] = {}


def load_layout(folder: Path) -> Layout:
    """Read and check a layout's manifest (once per process)."""
    folder = folder.resolve()
    if folder in _LOADED:
        return _LOADED[folder]
    manifest = folder / MANIFEST
    text = manifest.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlandocError(f"{manifest}: {error}") from None

    def fail(key: str, message: str) -> PlandocError:
        match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.M)
        line = text[: match.start()].count("\n") + 1 if match else 1
        return PlandocError(f"{manifest}:{line}: {key}: {message}")

    for key, value in data.items():
        expected = _MANIFEST_KEYS.get(key)
        if expected is None:
            raise fail(key, f"unknown key; keys are: {', '.join(_MANIFEST_KEYS)}")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise fail(key, f"must be {getattr(expected, '__name__', expected)}")
    formats = tuple(data.get("formats", FORMATS))
    if not formats or any(f not in FORMATS for f in formats):
        raise fail("formats", f"must list some of: {', '.join(FORMATS)}")
    if data.get("page_size", "letter") not in PAGE_SIZES:
        raise fail("page_size", f"must be one of: {', '.join(PAGE_SIZES)}")
    interval = data.get("review_interval_days")
    if interval is not None and not 1 <= interval <= 366:
        raise fail("review_interval_days", "must be a number of days from 1 to 366")
    layout = Layout(
        name=data.get("name", folder.name),
        folder=folder,
        title=data.get("title", "Treatment Plan"),
        description=data.get("description", ""),
        formats=formats,
        page_size=data.get("page_size", "letter"),
        date_format=data.get("date_format", "%Y-%m-%d"),
        review_interval_days=interval,
    )
    _LOADED[folder] = layout
    return layout


class PlanSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with its attribute verdicts remembered per (type, name).

    The base verdict depends only on the object's type and the attribute's
    name, and asking it anew costs a fifth of a plan's rendering time.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


def make_environment(layout: Layout) -> SandboxedEnvironment:
    def finalize(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, Markdown):
            return value
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, dt.date):
            return layout.format_date(value)
        if isinstance(value, float):
            return f"{value:g}"
        return escape_inline(str(value))

    environment = PlanSandbox(
        loader=jinja2.FileSystemLoader(str(layout.folder)),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["narrative"] = lambda text: narrative(text) if text else Markdown("")
    environment.filters["label"] = label
    environment.filters["date"] = lambda value: layout.format_date(value) if value else ""
    return environment


def label(value: str | None) -> str:
    """A code word as people write it: "in-progress" -> "In progress"."""
    if not value:
        return ""
    text = value.replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:]
