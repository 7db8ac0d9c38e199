"""The client's language: dates and session lengths in words, for a plan's language tag.

Babel is imported when a function runs, never at start-up. A language tag
(`plan.language`, BCP 47) is read by its primary language when plandoc has no
words of its own for the whole tag: `es-MX` reads `es`, `en-GB` reads `en`
(dates follow the whole tag where Babel knows it: `en-GB` writes 3 August 2026;
a language Babel does not know writes English; whether a plan may name one is the
layout's to say).

    format_date(date(2026, 8, 3), "en")   -> "August 3, 2026"
    format_date(date(2026, 8, 3), "es")   -> "3 de agosto de 2026"
    session_length(53, "en")              -> "about 50 minutes"
    session_length(60, "es")              -> "alrededor de una hora"
"""

from __future__ import annotations

import datetime as dt

BUILT_IN = ("en", "es")  # the languages plandoc has words of its own for


def primary_language(tag: str) -> str:
    """`es-MX` -> `es`; `en_US` -> `en`; the language a tag's words fall back to."""
    return tag.replace("_", "-").split("-", 1)[0].casefold()


def words_language(tag: str) -> str:
    """The built-in language whose words a tag reads: its primary language; English when
    plandoc has none of its own for it."""
    primary = primary_language(tag)
    return primary if primary in BUILT_IN else "en"


def _locale(tag: str):  # -> babel.Locale
    from babel import Locale, UnknownLocaleError

    for candidate in (tag.replace("-", "_"), primary_language(tag), "en"):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("Babel always knows English")  # pragma: no cover


def format_date(day: dt.date, tag: str = "en") -> str:
    """A date as the client reads it in `tag`'s language: "August 3, 2026", "3 de agosto
    de 2026" (Babel's long date format for the locale)."""
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=_locale(tag))


# Session lengths in words: (most minutes, English, Spanish), the first that fits.
_HOURS = (
    (75, "about an hour", "alrededor de una hora"),
    (105, "about an hour and a half", "alrededor de una hora y media"),
    (135, "about two hours", "alrededor de dos horas"),
)


def session_length(minutes: int, tag: str = "en") -> str:
    """A session's length as a client reads it, rounded: under 30 minutes to the nearest 5,
    from 30 to 54 to the nearest 10 ("about 50 minutes", "unos 50 minutos") but a quarter
    hour as it is ("about 45 minutes"); from 55 to
    75, "about an hour"; to 105, "about an hour and a half"; to 135, "about two hours";
    longer, the nearest half hour in hours ("about 3 hours", "about 2.5 hours")."""
    language = words_language(tag)
    if minutes < 55:
        step = 5 if minutes < 30 else 10  # 53 minutes (a 90837 session) is "about 50"
        rounded = max(5, step * int(minutes / step + 0.5))
        if minutes % 15 == 0:  # a quarter hour is already round: 45 stays 45
            rounded = minutes
        return f"about {rounded} minutes" if language == "en" else f"unos {rounded} minutos"
    for most, english, spanish in _HOURS:
        if minutes <= most:
            return english if language == "en" else spanish
    hours = round(minutes / 30) / 2
    if language == "en":
        return f"about {hours:g} hours"
    from babel.numbers import format_decimal

    return f"unas {format_decimal(hours, locale='es')} horas"
