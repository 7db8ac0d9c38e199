"""Layouts: a folder of templates plus a `layout.toml` manifest.

A layout says how a plan is shown and which payer rules it must meet: its
Markdown template (`plan.md.j2`), the HTML page around it (`page.html.j2`,
`style.css`), page size, date format, running header and footer, review
interval, and its rules (`rules.py`). A layout may `extend` another and
override only the blocks it changes, in its own `plan.md.j2` or in the
manifest's `[blocks]` table. Layouts are data: adding one never needs a code
change.

Layouts are found in order, later ones overriding earlier ones of the same
name: those shipped with plandoc, `./templates/` of the working folder, then
each folder of `PLANDOC_LAYOUTS` and `--layouts`.

Templates run in Jinja's sandbox with StrictUndefined: a template cannot reach
Python internals or files, and a misspelt name is an error that names the
template and line. Every value a Markdown template prints passes through
`finalize`, which escapes it unless it is already `Markdown` (a narrative
field); the HTML page template escapes as HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from plandoc.check.layout_rules import Rule, parse_rules
from plandoc.model.plan import number_text
from plandoc.model.progress import ProgressRules
from plandoc.problems import PlandocError, plan_value, quotes_as_values
from plandoc.render.markdown_text import Markdown, escape_inline, narrative

MANIFEST = "layout.toml"
PLAN_TEMPLATE = "plan.md.j2"
PAGE_TEMPLATE = "page.html.j2"
STYLESHEET = "style.css"
FORMATS = ("md", "html", "docx")  # a layout's formats by default
PDF = "pdf"  # made from the print HTML: any layout with html can make it, when asked
PAGE_SIZES = ("letter", "a4")
DEFAULT_LAYOUT = "standard"
ENVIRONMENT_VARIABLE = "PLANDOC_LAYOUTS"
HEADER_FIELDS = ("client_name", "preferred_name", "date_of_birth", "member_id", "plan_id")
DEFAULT_HEADER = ("client_name", "date_of_birth", "member_id", "plan_id")

_MANIFEST_KEYS: dict[str, type] = {
    "name": str,
    "title": str,
    "description": str,
    "extends": str,
    "formats": list,
    "page_size": str,
    "date_format": str,
    "review_interval_days": int,
    "font_size": int,
    "header": list,
    "footer": str,
    "rules": list,
    "blocks": dict,
    "progress": dict,
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
    font_size: int = 10
    header: tuple[str, ...] = DEFAULT_HEADER
    footer: str = ""
    rules: tuple[Rule, ...] = ()
    blocks: tuple[tuple[str, str], ...] = ()
    progress: ProgressRules = field(default_factory=ProgressRules)
    parent: Layout | None = field(default=None, compare=False)
    origin: str = "built-in"

    def makes(self, fmt: str) -> bool:
        """Its own formats, and PDF wherever there is HTML to print."""
        return fmt in self.formats or (fmt == PDF and "html" in self.formats)

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    @property
    def chain(self) -> list[Layout]:
        """This layout and its ancestors, nearest first."""
        layouts: list[Layout] = []
        layout: Layout | None = self
        while layout is not None:
            layouts.append(layout)
            layout = layout.parent
        return layouts

    def format_date(self, value: dt.date) -> str:
        # "%-d" (day without a leading zero) is not portable to Windows: do it here.
        return value.strftime(self.date_format.replace("%-d", str(value.day)))

    @cached_property
    def _template_names(self) -> dict[str, str]:
        return {}

    def template_name(self, name: str) -> str:
        """Which file serves `name`: this layout's own, its manifest blocks, or an ancestor's."""
        if name not in self._template_names:
            self._template_names[name] = self._find_template(name)
        return self._template_names[name]

    def _find_template(self, name: str) -> str:
        for layout in self.chain:
            if (layout.folder / name).is_file() or (name == PLAN_TEMPLATE and layout.blocks):
                return f"{layout.name}/{name}"
        raise PlandocError(f"layout '{self.name}' has no template {name}")

    @cached_property
    def _loader(self) -> jinja2.BaseLoader:
        generated = {}
        for layout in self.chain:
            if layout.blocks and not (layout.folder / PLAN_TEMPLATE).is_file():
                parent = layout.parent.template_name(PLAN_TEMPLATE) if layout.parent else ""
                body = "".join(
                    f"{{% block {name} %}}{source}{{% endblock %}}\n"
                    for name, source in layout.blocks
                )
                generated[f"{layout.name}/{PLAN_TEMPLATE}"] = f'{{% extends "{parent}" %}}\n{body}'
        folders = {
            layout.name: jinja2.FileSystemLoader(str(layout.folder)) for layout in self.chain
        }
        return jinja2.ChoiceLoader([jinja2.DictLoader(generated), jinja2.PrefixLoader(folders)])

    @cached_property
    def environment(self) -> SandboxedEnvironment:
        """For Markdown templates: values escaped as Markdown."""
        return make_environment(self)

    @cached_property
    def html_environment(self) -> SandboxedEnvironment:
        """For the HTML page around the body: values escaped as HTML."""
        return PlanSandbox(
            loader=self._loader,
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            auto_reload=False,
        )

    def template(self, name: str) -> jinja2.Template:
        environment = self.html_environment if name.endswith(".html.j2") else self.environment
        try:
            return environment.get_template(self.template_name(name))
        except jinja2.TemplateSyntaxError as error:
            where = error.filename or f"{self.manifest_path} [blocks]"
            raise PlandocError(f"{where}:{error.lineno}: template error: {error.message}") from None
        except jinja2.TemplateNotFound as error:
            raise PlandocError(f"layout '{self.name}': template not found: {error.name}") from None

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one of the layout's templates; a template's mistake names its file and line."""
        template = self.template(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__) if ".j2" in f.filename]
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else name
            message = quotes_as_values(error.message or type(error).__name__)
            raise PlandocError(f"{where}: template error: {message}") from None

    @cached_property
    def stylesheet(self) -> str:
        """Every style.css of the chain, the root's first, so a child's rules win."""
        sheets = [
            (layout.folder / STYLESHEET).read_text("utf-8")
            for layout in reversed(self.chain)
            if (layout.folder / STYLESHEET).is_file()
        ]
        return "\n".join(sheets)


def builtin_layouts_folder() -> Path:
    """The layouts shipped with plandoc: inside the installed package, or the source tree's."""
    packaged = Path(__file__).parents[1] / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


def layout_folders(extra: list[Path] | tuple[Path, ...] = ()) -> list[tuple[Path, str]]:
    """Where layouts are looked for, in order, with a word for where each came from."""
    folders = [(builtin_layouts_folder(), "built-in"), (Path("templates"), "./templates")]
    for entry in os.environ.get(ENVIRONMENT_VARIABLE, "").split(os.pathsep):
        if entry:
            folders.append((Path(entry), ENVIRONMENT_VARIABLE))
    folders += [(Path(folder), "--layouts") for folder in extra]
    return folders


def available_layouts(extra: list[Path] | tuple[Path, ...] = ()) -> dict[str, tuple[Path, str]]:
    """Layout name -> (folder, origin); later folders override earlier ones."""
    found: dict[str, tuple[Path, str]] = {}
    for folder, origin in layout_folders(extra):
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                if (child / MANIFEST).is_file():
                    found[child.name] = (child.resolve(), origin)
    return found


def find_layout(name: str, extra: list[Path] | tuple[Path, ...] = ()) -> Layout:
    """The layout called `name`, with its ancestors loaded (once per process and search path)."""
    key = (name, tuple(Path(p).resolve() for p in extra), os.environ.get(ENVIRONMENT_VARIABLE, ""))
    key += (Path.cwd(),)
    if key not in _FOUND:
        _FOUND[key] = _load(name, available_layouts(extra), ())
    return _FOUND[key]


_FOUND: dict[tuple[object, ...], Layout] = {}
LAYOUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _load(name: str, found: dict[str, tuple[Path, str]], seen: tuple[str, ...]) -> Layout:
    # The name may come from a plan (`plan.layout`): in a message it is a plan value.
    if not LAYOUT_NAME.fullmatch(name):
        # The name goes into document names and the build manifest.
        raise PlandocError(
            f"layout name {plan_value(name, quote=True)}: use letters, digits, '-' and '_' "
            "(at most 64), starting with a letter or digit"
        )
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PlandocError(
            f"unknown layout {plan_value(name, quote=True)}; layouts available: {known}"
        )
    folder, origin = found[name]
    manifest = folder / MANIFEST
    text = manifest.read_text("utf-8")
    data = _parse_manifest(manifest, text)
    parent = None
    if "extends" in data:
        parent_name = data["extends"]
        if parent_name == name or parent_name in seen:
            cycle = " -> ".join((*seen, name, parent_name))
            raise _manifest_error(manifest, text, "extends", f"layouts extend in a cycle: {cycle}")
        if parent_name not in found:
            known = ", ".join(sorted(found))
            raise _manifest_error(
                manifest, text, "extends", f"no layout '{parent_name}' to extend; layouts: {known}"
            )
        parent = _load(parent_name, found, (*seen, name))
    return _build(name, folder, origin, data, parent, manifest, text)


def _parse_manifest(manifest: Path, text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+)", str(error))
        line = match.group(1) if match else "1"
        raise PlandocError(f"{manifest}:{line}: not valid TOML: {error}") from None
    for key, value in data.items():
        expected = _MANIFEST_KEYS.get(key)
        if expected is None:
            raise _manifest_error(
                manifest, text, key, f"unknown key; keys are: {', '.join(_MANIFEST_KEYS)}"
            )
        if not isinstance(value, expected) or isinstance(value, bool):
            kind = {list: "a list", dict: "a table", str: "text", int: "a whole number"}[expected]
            raise _manifest_error(manifest, text, key, f"must be {kind}")
    return data


def _build(
    name: str,
    folder: Path,
    origin: str,
    data: dict[str, Any],
    parent: Layout | None,
    manifest: Path,
    text: str,
) -> Layout:
    def inherited(key: str, default: Any) -> Any:
        if key in data:
            return data[key]
        return getattr(parent, key) if parent is not None else default

    formats = tuple(inherited("formats", FORMATS))
    if not formats or any(f not in (*FORMATS, PDF) for f in formats):
        known = ", ".join((*FORMATS, PDF))
        raise _manifest_error(manifest, text, "formats", f"must list some of: {known}")
    if PDF in formats and "html" not in formats:
        raise _manifest_error(manifest, text, "formats", "pdf is made from the html: list html too")
    if inherited("page_size", "letter") not in PAGE_SIZES:
        raise _manifest_error(
            manifest, text, "page_size", f"must be one of: {', '.join(PAGE_SIZES)}"
        )
    interval = inherited("review_interval_days", None)
    if interval is not None and not 1 <= interval <= 366:
        raise _manifest_error(manifest, text, "review_interval_days", "must be 1 to 366 days")
    font_size = inherited("font_size", 10)
    if not 8 <= font_size <= 16:
        raise _manifest_error(manifest, text, "font_size", "must be 8 to 16 (points)")
    header = tuple(inherited("header", DEFAULT_HEADER))
    unknown = [h for h in header if h not in HEADER_FIELDS]
    if unknown:
        raise _manifest_error(
            manifest,
            text,
            "header",
            f"unknown item {unknown[0]!r}; items are: {', '.join(HEADER_FIELDS)}",
        )
    blocks = data.get("blocks", {})
    if any(not isinstance(source, str) for source in blocks.values()):
        raise _manifest_error(manifest, text, "blocks", "each block must be template text")
    if blocks and parent is None:
        raise _manifest_error(manifest, text, "blocks", "blocks override a parent: add `extends`")
    rules = parse_rules(data.get("rules", []), manifest, text)
    progress = _progress_rules(data.get("progress"), parent, manifest, text)
    return Layout(
        name=name,
        folder=folder,
        title=inherited("title", "Treatment Plan"),
        description=data.get("description", ""),
        formats=formats,
        page_size=inherited("page_size", "letter"),
        date_format=inherited("date_format", "%Y-%m-%d"),
        review_interval_days=interval,
        font_size=font_size,
        header=header,
        footer=inherited("footer", ""),
        rules=(*(parent.rules if parent else ()), *rules),
        blocks=tuple(blocks.items()),
        progress=progress,
        parent=parent,
        origin=origin,
    )


_PROGRESS_KEYS = {
    "stalled_after": (int, 2, 12, "measurements"),
    "worsening_percent": (int, 1, 100, "percent of the baseline"),
    "charts": (bool, None, None, ""),
}


def _progress_rules(
    table: dict[str, Any] | None, parent: Layout | None, manifest: Path, text: str
) -> ProgressRules:
    """`[progress]`: the thresholds of the "is it working" flags, and whether to draw charts."""
    rules = parent.progress if parent is not None else ProgressRules()
    for key, value in (table or {}).items():
        if key not in _PROGRESS_KEYS:
            known = ", ".join(_PROGRESS_KEYS)
            raise _manifest_error(manifest, text, key, f"unknown key in [progress]; keys: {known}")
        kind, low, high, unit = _PROGRESS_KEYS[key]
        if kind is bool and not isinstance(value, bool):
            raise _manifest_error(manifest, text, key, "must be true or false")
        if kind is int and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            raise _manifest_error(manifest, text, key, f"must be {low} to {high} ({unit})")
        rules = dataclasses.replace(rules, **{key: value})
    return rules


def _manifest_error(manifest: Path, text: str, key: str, message: str) -> PlandocError:
    match = re.search(rf"^[ \t]*(?:\[[ \t]*)?{re.escape(key)}[ \t]*[=\]]", text, re.M)
    line = text[: match.start()].count("\n") + 1 if match else 1
    return PlandocError(f"{manifest}:{line}: {key}: {message}")


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
            return number_text(value)
        return escape_inline(str(value))

    environment = PlanSandbox(
        loader=layout._loader,
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
