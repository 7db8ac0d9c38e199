"""The client's language: session lengths in words, for a plan's language tag.

A language tag (`plan.language`, BCP 47) is read by its primary language when
plandoc has no words of its own for the whole tag: `es-MX` reads `es`, `en-GB`
reads `en`. Dates in the client's language are the layout's
(`plandoc.layouts.languages`: `document_language(layout, tag).format_date`).

    session_length(53, "en")              -> "about 50 minutes"
    session_length(60, "es")              -> "alrededor de una hora"
"""

from __future__ import annotations

BUILT_IN = ("en", "es")  # the languages plandoc has words of its own for


def primary_language(tag: str) -> str:
    """`es-MX` -> `es`; `en_US` -> `en`; the language a tag's words fall back to."""
    return tag.replace("_", "-").split("-", 1)[0].casefold()


def words_language(tag: str) -> str:
    """The built-in language whose words a tag reads: its primary language; English when
    plandoc has none of its own for it."""
    primary = primary_language(tag)
    return primary if primary in BUILT_IN else "en"


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
