"""A layout's languages: gettext catalogs read with Babel, chosen by `plan.language`.

English is the source language: every text of a template and of plandoc is
written in English and needs no catalog. A layout that declares `languages`
in its manifest (`languages = ["en", "es"]`) is translated: its documents are
written in the plan's language, from the catalogs
`locale/<lang>/LC_MESSAGES/messages.po` of its folder and of its parents'
(a child's entry wins). A layout that declares none (the payer layouts: their
reader is the reviewer) is written in English whatever the plan's language.

A plan's tag falls back from the most specific to the language: "es-MX" is
served by "es-mx" if the layout has it, else "es". Catalogs are compiled in
memory on first use and cached per layout and language; Babel is imported
only then, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import gettext as stdlib_gettext
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from plandoc.model.plan import date_text, number_text

if TYPE_CHECKING:
    from plandoc.layouts.layout import Layout

SOURCE_LANGUAGE = "en"
CATALOG = Path("LC_MESSAGES") / "messages.po"
# Babel's named date formats: a layout's `date_format` naming one writes dates the way
# the document's language writes them ("long": "August 3, 2026", "3 de agosto de 2026").
BABEL_DATE_FORMATS = ("short", "medium", "long", "full")
# The chart's axis writes a month's name short: the named format one step shorter.
AXIS_DATE_FORMAT = {"full": "medium", "long": "medium", "medium": "medium", "short": "short"}


def N_(message: str) -> str:
    """Marks a text for extraction (pybabel extract) where it is translated later."""
    return message


# The words the `label` filter makes of a goal's or objective's status, for the catalogs.
STATUS_LABELS = (
    N_("Not started"),
    N_("In progress"),
    N_("Met"),
    N_("Partially met"),
    N_("Not met"),
    N_("Revised"),
    N_("Discontinued"),
)


def catalog_path(folder: Path, language: str) -> Path:
    return folder / "locale" / language / CATALOG


def catalog_languages(layout: Layout) -> list[str]:
    """The languages a layout's chain has a catalog for (lowercase tags), sorted."""
    found: set[str] = set()
    for link in layout.chain:
        locale = link.folder / "locale"
        if locale.is_dir():
            found |= {c.name.lower() for c in locale.iterdir() if (c / CATALOG).is_file()}
    return sorted(found)


def language_for(layout: Layout, tag: str) -> str | None:
    """The layout's language for a plan's tag: English for a layout that is not translated;
    for one that is, the tag's most specific form the layout has ("es-mx", else "es"), or
    None when it has none of them."""
    if not layout.languages:
        return SOURCE_LANGUAGE
    available = {language.lower(): language for language in layout.languages}
    parts = tag.lower().split("-")
    for end in range(len(parts), 0, -1):
        candidate = "-".join(parts[:end])
        if candidate in available:
            return available[candidate]
    return None


def missing_language_message(layout: Layout, tag: str) -> str:
    languages = ", ".join(layout.languages)
    return (
        f"[{layout.name}] the layout has no translation for {tag}: its languages are "
        f"{languages} (a clinic adds one with a catalog locale/LANG/LC_MESSAGES/messages.po "
        "in its layout: see docs/layouts.md, Languages)"
    )


@cache
def _translations(folders: tuple[Path, ...], language: str) -> stdlib_gettext.NullTranslations:
    """The catalogs of `folders` (the root's first) for `language`, merged (a later
    folder's entry wins) and compiled in memory."""
    from io import BytesIO

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    merged = Catalog(locale=language.replace("-", "_"))
    for folder in folders:
        path = catalog_path(folder, language)
        if not path.is_file():
            continue
        with path.open("rb") as file:
            catalog = read_po(file, locale=language.replace("-", "_"))
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message
    compiled = BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return Translations(compiled)


def _identity(message: str) -> str:
    return message


def _plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


@dataclass(frozen=True)
class Language:
    """The language a document is written in: its words, dates and numbers."""

    tag: str = SOURCE_LANGUAGE  # the catalog's language ("en", "es")
    locale: str = SOURCE_LANGUAGE  # for dates and numbers: the plan's tag where Babel has it
    date_format: str = "%Y-%m-%d"  # the layout's
    gettext: Callable[[str], str] = field(default=_identity, compare=False)
    ngettext: Callable[[str, str, int], str] = field(default=_plural, compare=False)

    @property
    def english(self) -> bool:
        return self.tag == SOURCE_LANGUAGE

    def date(self, value: dt.date, date_format: str | None = None) -> str:
        return format_date(value, date_format or self.date_format, self.locale)

    def axis_date(self, value: dt.date) -> str:
        """A date as a chart's axis writes it: the month's name short."""
        return self.date(value, axis_format(self.date_format))

    def number(self, value: float) -> str:
        """A score as the language writes it ("12.5"; Spanish "12,5")."""
        text = number_text(value)
        if self.english:
            return text
        from babel.numbers import get_decimal_symbol

        return text.replace(".", get_decimal_symbol(self.locale))

    def percent(self, value: float | None) -> str:
        """How far along, rounded: "45%" ("45 %" in Spanish)."""
        if value is None:
            return "-"
        if self.english:
            return f"{round(value)}%"
        from babel.numbers import format_percent

        return format_percent(round(value) / 100, locale=self.locale)

    def label(self, value: str | None) -> str:
        from plandoc.layouts.layout import label

        text = label(value)
        return self.gettext(text) if text else text


ENGLISH = Language()


# A plan prints each of its few dates many times (a template about 45 dates a plan, the
# charts their axes), and the same dates recur from plan to plan: each is written once a
# process (the last 4,096; in memory only). With the chart colours' hex made once, the
# HTML took about 5% less time (docs/performance.md, issue 21, third round).
@lru_cache(maxsize=4096)
def format_date(value: dt.date, date_format: str, locale: str = SOURCE_LANGUAGE) -> str:
    """A date in a layout's `date_format`: strftime codes, or one of Babel's named formats
    (`long`: "August 3, 2026") written the way `locale` writes dates."""
    if date_format in BABEL_DATE_FORMATS:
        from babel.dates import format_date as babel_date

        return babel_date(value, date_format, locale=locale)
    return date_text(value, date_format)


def axis_format(date_format: str) -> str:
    if date_format in BABEL_DATE_FORMATS:
        return AXIS_DATE_FORMAT[date_format]
    return date_format.replace("%B", "%b")


def _babel_locale(tag: str, fallback: str) -> str:
    """The plan's tag as a Babel locale name, when Babel knows it, else `fallback`'s."""
    from babel import Locale, UnknownLocaleError

    for candidate in (tag, fallback):
        try:
            return str(Locale.parse(candidate, sep="-"))
        except (UnknownLocaleError, ValueError):
            continue
    return SOURCE_LANGUAGE


def document_language(layout: Layout, tag: str) -> Language:
    """The language of `layout`'s document of a plan in `tag`; LookupError (with the
    message of the validation error) when a translated layout has no catalog for it."""
    language = language_for(layout, tag)
    if language is None:
        raise LookupError(missing_language_message(layout, repr(tag)))
    folders = tuple(link.folder for link in reversed(layout.chain))
    return _document_language(folders, language, tag, layout.date_format)


@cache
def _document_language(
    folders: tuple[Path, ...], language: str, tag: str, date_format: str
) -> Language:
    if language.lower() == SOURCE_LANGUAGE:
        uses_babel = date_format in BABEL_DATE_FORMATS
        locale = _babel_locale(tag, SOURCE_LANGUAGE) if uses_babel else SOURCE_LANGUAGE
        return Language(SOURCE_LANGUAGE, locale, date_format)
    translations = _translations(folders, language)
    return Language(
        language,
        _babel_locale(tag, language),
        date_format,
        translations.gettext,
        translations.ngettext,
    )
