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
each folder of the settings' `layout_folders` (plandoc.toml, `PLANDOC_LAYOUTS`,
`--layout-folder`).

Templates run in Jinja's sandbox with StrictUndefined: a template cannot reach
Python internals or files, and a misspelt name is an error that names the
template and line. Every value a Markdown template prints passes through
`finalize`, which escapes it unless it is already `Markdown` (a narrative
field); the HTML page template escapes as HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plandoc import tomlfile
from plandoc.checks.layout_rules import Rule, rules_from
from plandoc.errors import LayoutError
from plandoc.layouts.manifest import LayoutManifest
from plandoc.model.progress import ProgressRules
from plandoc.problems import plan_value
from plandoc.settings import unknown_name

if TYPE_CHECKING:
    from plandoc.layouts.templates import LayoutTemplates

MANIFEST = "layout.toml"
PLAN_TEMPLATE = "plan.md.j2"
PAGE_TEMPLATE = "page.html.j2"
STYLESHEET = "style.css"
FORMATS = ("md", "html", "docx")  # a layout's formats by default
PDF = "pdf"  # made from the print HTML: any layout with html can make it, when asked
PAGE_SIZES = ("letter", "a4")
DEFAULT_LAYOUT = "standard"
DEFAULT_HEADER = ("client_name", "date_of_birth", "member_id", "plan_id")
LARGE_PRINT_SIZE = 18  # points: the body of a large-print document


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
    # Translated: the languages its documents are written in (the plan's, see languages.py);
    # none: English whatever the plan's language.
    languages: tuple[str, ...] = ()
    large_print: bool = False  # 18-point body, wider spacing (see docs/documents.md)
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
        """A date in English, the layout's format (a document's own dates are in its
        language: see `languages.Language.date`)."""
        from plandoc.layouts.languages import format_date

        return format_date(value, self.date_format)

    def in_large_print(self) -> Layout:
        """This layout with an 18-point body and wider spacing (`--large-print`)."""
        if self.large_print and self.font_size >= LARGE_PRINT_SIZE:
            return self
        return dataclasses.replace(self, large_print=True, font_size=LARGE_PRINT_SIZE)

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
        raise LayoutError(f"layout '{self.name}' has no template {name}")

    @cached_property
    def templates(self) -> LayoutTemplates:
        """Its Jinja environments (Jinja is imported only when a layout renders), shared
        with every copy of it that differs only in page or type size."""
        from plandoc.layouts.templates import templates_of

        return templates_of(self)

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one of the layout's templates; a template's mistake names its file and line."""
        return self.templates.render(name, context)

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
    """Where layouts are looked for, in order, with a word for where each came from:
    plandoc's own, ./templates/, then the settings' `layout_folders` (plandoc.toml,
    PLANDOC_LAYOUTS, --layout-folder: see settings.py)."""
    folders = [(builtin_layouts_folder(), "built-in"), (Path("templates"), "./templates")]
    return folders + [(Path(folder), "layout_folders") for folder in extra]


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
    key = (name, tuple(Path(p).resolve() for p in extra), Path.cwd())
    if key not in _FOUND:
        _FOUND[key] = _load(name, available_layouts(extra), ())
    return _FOUND[key]


_FOUND: dict[tuple[object, ...], Layout] = {}
LAYOUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _load(name: str, found: dict[str, tuple[Path, str]], seen: tuple[str, ...]) -> Layout:
    # The name may come from a plan (`plan.layout`): in a message it is a plan value.
    if not LAYOUT_NAME.fullmatch(name):
        # The name goes into document names and the build manifest.
        raise LayoutError(
            f"layout name {plan_value(name, quote=True)}: use letters, digits, '-' and '_' "
            "(at most 64), starting with a letter or digit"
        )
    if name not in found:
        raise LayoutError(
            unknown_name("layout", plan_value(name), tuple(sorted(found)) or ("none",))
        )
    folder, origin = found[name]
    path = folder / MANIFEST
    text = tomlfile.read_text(path, LayoutError)
    manifest = tomlfile.validate(path, text, tomlfile.parse(path, text, LayoutError),
                                 LayoutManifest, LayoutError)  # fmt: skip
    parent = None
    if manifest.extends is not None:
        lines = tomlfile.TomlLines(text)
        where = f"{path}:{lines.line_of(('extends',))}: extends"
        if manifest.extends == name or manifest.extends in seen:
            cycle = " -> ".join((*seen, name, manifest.extends))
            raise LayoutError(f"{where}: layouts extend in a cycle: {cycle}")
        if manifest.extends not in found:
            known = ", ".join(sorted(found))
            missing = manifest.extends
            raise LayoutError(f"{where}: no layout '{missing}' to extend; layouts: {known}")
        parent = _load(manifest.extends, found, (*seen, name))
    return _build(name, folder, origin, manifest, parent)


def _merged(inherited: tuple[Rule, ...], own: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The parent's rules, each replaced in place by the layout's own rule of the same id
    (a payer layout makes a warning of `standard` an error), then the layout's new ones."""
    mine = {rule.id: rule for rule in own}
    kept = tuple(mine.pop(rule.id, rule) for rule in inherited)
    return (*kept, *(rule for rule in own if rule.id in mine))


def _build(
    name: str, folder: Path, origin: str, manifest: LayoutManifest, parent: Layout | None
) -> Layout:
    def inherited(key: str, default: Any) -> Any:
        value = getattr(manifest, key)
        if value is not None:
            return value
        return getattr(parent, key) if parent is not None else default

    progress = parent.progress if parent is not None else ProgressRules()
    languages = tuple(inherited("languages", ()))
    large_print = bool(inherited("large_print", False))
    if manifest.progress is not None:
        changed = manifest.progress.model_dump(exclude_none=True)
        progress = dataclasses.replace(progress, **changed)
    layout = Layout(
        name=name,
        folder=folder,
        title=inherited("title", "Treatment Plan"),
        description=manifest.description,
        formats=tuple(inherited("formats", FORMATS)),
        page_size=inherited("page_size", "letter"),
        date_format=inherited("date_format", "%Y-%m-%d"),
        review_interval_days=inherited("review_interval_days", None) or None,  # 0: none
        font_size=LARGE_PRINT_SIZE if large_print else inherited("font_size", 10),
        languages=languages,
        large_print=large_print,
        header=tuple(inherited("header", DEFAULT_HEADER)),
        footer=inherited("footer", ""),
        rules=_merged(parent.rules if parent else (), rules_from(manifest.rules)),
        blocks=tuple(manifest.blocks.items()),
        progress=progress,
        parent=parent,
        origin=origin,
    )
    if languages:
        _check_catalogs(layout, manifest)
    return layout


def _check_catalogs(layout: Layout, manifest: LayoutManifest) -> None:
    """Every language a layout declares, English aside, has a catalog in its chain."""
    from plandoc.layouts.languages import SOURCE_LANGUAGE, catalog_languages

    found = catalog_languages(layout)
    missing = [lang for lang in layout.languages if lang.lower() not in (SOURCE_LANGUAGE, *found)]
    if missing:
        text = layout.manifest_path.read_text("utf-8")
        line = tomlfile.TomlLines(text).line_of(("languages",)) if manifest.languages else 1
        raise LayoutError(
            f"{layout.manifest_path}:{line}: languages: no catalog for "
            f"{', '.join(missing)} (locale/LANG/LC_MESSAGES/messages.po in the layout's "
            f"folder or a parent's); catalogs found: {', '.join(found) or 'none'}"
        )


def label(value: str | None) -> str:
    """A code word as people write it: "in-progress" -> "In progress"."""
    if not value:
        return ""
    text = value.replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:]
