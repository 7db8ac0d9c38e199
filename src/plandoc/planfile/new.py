"""Starting a plan: a skeleton with every section a layout requires, or the next version of one.

A skeleton holds clearly marked placeholders, `FILL IN: what goes here`;
`plandoc validate` fails on each one still in the plan (see `placeholders`),
so an untouched skeleton can never be rendered as if it were a plan. The
Markdown form carries comments saying what each section is for, and its
narratives as `## Headings` in the body where they read back from there.

`as_markdown` and `as_json` write a plan so that reading the file gives back
the same data (`same_data`); each checks that by reading its file back.

`next_version` starts the next version of a valid plan: version + 1, last
reviewed today, goals and objectives carried over with their status and
progress, signatures cleared (each version is signed anew), and a revision
entry whose summary is a placeholder.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from itertools import zip_longest
from pathlib import Path
from typing import Any

from plandoc.errors import PlandocError, PlanError
from plandoc.layouts import Layout
from plandoc.model.plan import NUMBERS, read_number
from plandoc.planfile.markdown_plan import markdown_lines, sections
from plandoc.planfile.placeholders import fill
from plandoc.planfile.read import PlanSource, in_nfc, read_bytes
from plandoc.planfile.yaml_text import dump_yaml
from plandoc.problems import FieldPath, Severity, format_field_path, plan_value


def skeleton(plan_id: str, layout: Layout, today: dt.date) -> dict[str, Any]:
    """A new plan for `layout`: what the format requires, plus what its rules require."""
    day = today.isoformat()
    required = {  # a rule applying only to some plans (`when`) counts where it is an error
        path
        for rule in layout.rules
        if not rule.when or rule.severity is Severity.ERROR
        for path in (*rule.require, *rule.require_any)
    }

    def wanted(prefix: str) -> bool:
        return any(path.startswith(prefix) for path in required)

    plan: dict[str, Any] = {
        "plandoc": 1,
        "plan": {
            "id": plan_id,
            "version": 1,
            "status": "draft",
            "created": day,
            "effective": day,
            "layout": layout.name,
        },
        "client": {
            "name": fill("the client's full name"),
            "preferred_name": fill("the name the client goes by"),
            "date_of_birth": fill("date of birth, YYYY-MM-DD"),
        },
        "provider": {
            "name": fill("your name"),
            "credentials": fill("your licence, e.g. LCSW"),
            "npi": fill("your 10-digit NPI"),
        },
        "assessment": {
            "history": fill("psychosocial history"),
            "symptom_onset": fill("when and how the symptoms began"),
            "prior_treatment": fill("earlier treatment, or 'None'"),
            "baseline_measures": [
                {"instrument": fill("e.g. PHQ-9"), "date": day, "score": fill("the score")}
            ],
        },
        "presenting_problem": {
            "text": fill("why the client came"),
            "client_words": fill("the problem in the client's own words"),
        },
        "diagnoses": [
            {
                "code": fill("ICD-10-CM code, e.g. F32.1"),
                "description": fill("the diagnosis in words"),
                "primary": True,
            }
        ],
        "contract": {
            "summary": fill("what you and the client agree to"),
            "modality": fill("e.g. Cognitive behavioural therapy"),
            "type": "individual",
            "responsibilities": [
                {"party": "client", "duties": [fill("what the client will do")]},
                {"party": "clinician", "duties": [fill("what you will do")]},
            ],
            "client_agreement": {"agreed": True, "date": fill("when the client agreed")},
        },
        "goals": [
            {
                "id": "G1",
                "term": fill("short or long"),
                "statement": fill("a measurable goal"),
                "client_words": fill("the goal in the client's own words"),
                "target_date": fill("YYYY-MM-DD"),
                "measure": {
                    "instrument": fill("e.g. PHQ-9"),
                    "baseline": fill("the score now"),
                    "target": fill("the score to reach"),
                },
                "objectives": [
                    {
                        "id": "G1.1",
                        "statement": fill("an observable step toward the goal"),
                        "target_date": fill("YYYY-MM-DD"),
                        "methods": ["M1"],
                    }
                ],
            }
        ],
        "methods": [
            {
                "id": "M1",
                "name": fill("the intervention"),
                "description": fill("what it involves"),
                "responsible": "clinician",
                "frequency": fill("e.g. weekly"),
                "session_minutes": fill("minutes a session"),
            }
        ],
        "time_estimate": {
            "sessions": fill("number of sessions"),
            "frequency": fill("e.g. weekly"),
            "weeks": fill("over how many weeks"),
        },
    }
    if layout.review_interval_days is None:
        plan["plan"]["review_by"] = fill("the review date, YYYY-MM-DD")
    if wanted("assessment.risk"):
        plan["assessment"]["risk"] = {
            "level": fill("low, moderate, high or imminent"),
            "summary": fill("the basis of the risk level"),
        }
    if wanted("assessment.medications"):
        plan["assessment"]["medications"] = [fill("each medication, or 'None'")]
    if wanted("client.coverage"):
        plan["client"]["coverage"] = {
            "payer": fill("the insurer"),
            "member_id": fill("the member id"),
            "authorization": {
                "number": fill("the current authorization's number"),
                "start": fill("its first day, YYYY-MM-DD"),
                "end": fill("its last day, YYYY-MM-DD"),
                "sessions": fill("the sessions it authorizes"),
                "used": 0,
            },
        }
    if wanted("services"):
        plan["services"] = [
            {"cpt": fill("e.g. 90834"), "description": fill("the service"),
             "frequency": fill("e.g. weekly"), "units": fill("units requested")}
        ]  # fmt: skip
    # The client copy's plain-language keys: only where the layout asks for them.
    if wanted("presenting_problem.client_summary"):
        plan["presenting_problem"]["client_summary"] = fill("the problem in plain words")
    if wanted("methods[*].client_description"):
        plan["methods"][0]["client_description"] = fill("what it involves, in plain words")
    if wanted("goals[*].objectives[*].client_statement"):
        plan["goals"][0]["objectives"][0]["client_statement"] = fill("the step, in plain words")
    if wanted("assessment.strengths"):
        plan["assessment"]["strengths"] = [fill("a strength the client brings")]
    if wanted("assessment.preferences"):
        plan["assessment"]["preferences"] = [fill("how the client wants care given")]
    if wanted("safety_plan"):
        plan["safety_plan"] = {
            "warning_signs": [fill("a thought, mood or situation that comes before a crisis")],
            "coping_strategies": [fill("something the client can do alone")],
            "supports": [
                {"name": fill("someone to ask for help"), "relationship": fill("who they are"),
                 "phone": fill("their phone")}
            ],
            "professionals": [
                {"name": fill("you, or the crisis service"), "role": fill("e.g. therapist"),
                 "phone": fill("the phone")}
            ],
            "means_safety": [fill("a step to make the surroundings safer")],
            "reviewed": fill("when it was made with the client, YYYY-MM-DD"),
        }  # fmt: skip
    if wanted("medical_necessity"):
        necessity: dict[str, Any] = {}
        if wanted("medical_necessity.rationale"):
            necessity["rationale"] = fill("why this level and amount of care is needed now")
        if wanted("medical_necessity.level_of_care"):
            necessity["level_of_care"] = fill(
                "outpatient, intensive-outpatient, partial-hospitalization, "
                "residential or inpatient"
            )
        if wanted("medical_necessity.functional_impairments"):
            necessity["functional_impairments"] = [
                {"domain": fill("work, school, relationships, self-care, housing, legal, health "
                                "or other"), "description": fill("how daily life is affected")}
            ]  # fmt: skip
        plan["medical_necessity"] = necessity
    if wanted("discharge_criteria"):
        plan["discharge_criteria"] = [fill("when treatment will end")]
    if wanted("progress_notes"):
        plan["progress_notes"] = [{"date": day, "text": fill("progress and outcomes so far")}]
    if wanted("signatures"):
        plan["signatures"] = [
            {"role": "client", "name": fill("the client's name"), "date": fill("YYYY-MM-DD")},
            {"role": "clinician", "name": fill("your name"), "credentials": fill("your licence"),
             "date": fill("YYYY-MM-DD")},
        ]  # fmt: skip
    return plan


def next_version(data: dict[str, Any], today: dt.date, review_interval: int | None) -> dict:
    """The next version of a valid plan's data (see the module's description)."""
    plan = copy.deepcopy(data)
    info = plan["plan"]
    version = read_number(info["version"], "version")  # the plan is valid: it reads
    if version >= NUMBERS["version"].most:
        raise PlandocError(
            f"plan.version is {version:,}, the last plandoc takes (docs: Limits): "
            "start a new plan id"
        )
    info["version"] = version + 1
    info["last_reviewed"] = today.isoformat()
    if review_interval is None:
        info["review_by"] = fill("the next review date, YYYY-MM-DD")
    else:
        info.pop("review_by", None)  # the layout computes it from the review interval
    plan["signatures"] = []
    revisions = plan.setdefault("revisions", [])
    revisions.append(
        {"version": info["version"], "date": today.isoformat(), "summary": fill("what changed")}
    )
    return plan


# --- writing -----------------------------------------------------------------------

HELP = {
    "plandoc": "plandoc treatment plan, input format 1. Replace every 'FILL IN: ...' with\n"
    "the plan's own words; `plandoc validate` names each one still to fill.",
    "plan": "This plan: its id (it names the documents), version, status and dates.",
    "client": "The person the plan is for.",
    "provider": "You: the clinician responsible for the plan.",
    "assessment": "History and assessment (the narrative parts are the sections below),\n"
    "risk, strengths, barriers, and the scores at intake.",
    "safety_plan": "The client's crisis safety plan, made with them (Stanley-Brown steps). This\n"
    "layout requires it when the risk level is moderate or above: for a low-risk client,\n"
    "delete this part.",
    "medical_necessity": "Why this level and amount of care is needed now: what the reviewer\n"
    "authorizes on (the rationale is the 'Medical Necessity' section below).",
    "presenting_problem": "Why the client came, in their own words (the clinical text is the\n"
    "'Presenting Problem' section below).",
    "diagnoses": "ICD-10-CM diagnoses; exactly one is primary.",
    "contract": "The treatment contract: modality, who does what, and the client's\n"
    "agreement (the summary is the 'Treatment Contract' section below).",
    "goals": "Measurable goals: each with a measure (a rating scale, or a behaviour\n"
    "counted in a unit), a target date, and objectives: the steps toward it.",
    "methods": "The interventions the objectives use.",
    "time_estimate": "How many sessions, how often, over how many weeks.",
    "services": "CPT services requested from the payer.",
    "discharge_criteria": "When treatment will end.",
    "progress_notes": "The progress and outcomes summary at each review.",
    "signatures": "Who signed this version of the plan, or why not.",
    "revisions": "The revision history: one entry per version.",
}
BODY = [  # narrative fields written as `## Heading` sections of a Markdown plan
    ("Presenting Problem", ("presenting_problem", "text")),
    ("History", ("assessment", "history")),
    ("Symptom Onset", ("assessment", "symptom_onset")),
    ("Prior Treatment", ("assessment", "prior_treatment")),
    ("Treatment Contract", ("contract", "summary")),
    ("Medical Necessity", ("medical_necessity", "rationale")),
]
TITLE = "Treatment plan"


class UnwritablePlan(PlanError):
    """The plan holds a value its file format cannot carry so that it reads back the same
    (an infinite number in JSON, a lone surrogate from a JSON `\\ud800`)."""


def same_data(one: Any, other: Any) -> bool:
    """Equal as plain data, types included (`1`, `1.0` and `true` differ), key order aside."""
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return {(type(k), k) for k in one} == {(type(k), k) for k in other} and all(
            same_data(one[k], other[k]) for k in one
        )
    if isinstance(one, list):
        return len(one) == len(other) and all(map(same_data, one, other))
    if isinstance(one, float):
        return repr(one) == repr(other)  # -0.0 is not 0.0; nan is nan
    return bool(one == other)


def as_json(plan: dict[str, Any]) -> str:
    """The plan as a JSON plan file; reading it gives back the same data (`same_data`)."""
    try:
        text = json.dumps(plan, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:  # NaN or infinity; not JSON data
        raise UnwritablePlan(f"the plan cannot be written as JSON: {plan_value(error)}") from None
    _must_read_back(text, plan, ".json")
    return text


def as_markdown(plan: dict[str, Any]) -> str:
    """The plan as Markdown with YAML front-matter; reading it gives back the same data.

    Each narrative field is written as a `## Section` of the body when it reads
    back from there exactly as it is, and stays in the front-matter otherwise
    (a narrative holding a heading, an unclosed code fence, an underline
    `===`, a trailing newline...). Which ones fit is found by reading the body
    back with the reader's own section splitter: the first section that does not
    read back as written goes to the front-matter, until all do (the `# Treatment
    plan` title drops the plan id when the id would break it). The whole file is
    then read back and compared; a difference raises `UnwritablePlan`.
    """
    body = [(title, path) for title, path in BODY if isinstance(_at(plan, path), str)]
    named = True  # the title names the plan, when its id fits on the heading line
    parts: dict[tuple[Any, ...], str] = {}  # each part of the front-matter as YAML, once
    text, front_lines, written = _markdown(plan, body, named, parts)
    while (wrong := _first_wrong_section(text, front_lines, written)) is not None:
        if wrong > 0:
            del body[wrong - 1]
        elif named:
            named = False
        else:
            break  # cannot happen: a lone `# Treatment plan` reads back; the check below says
        text, front_lines, written = _markdown(plan, body, named, parts)
    _must_read_back(text, plan, ".md")
    return text


def _at(plan: dict[str, Any], path: tuple[str, str]) -> Any:
    part = plan.get(path[0])
    return part.get(path[1]) if isinstance(part, dict) else None


Written = tuple[int, str, int, str]  # a section as written: level, title, line, text


def _markdown(
    plan: dict[str, Any],
    body: list[tuple[str, tuple[str, str]]],
    named: bool,
    parts: dict[tuple[Any, ...], str],
) -> tuple[str, int, list[Written]]:
    """The file, its number of front-matter lines (fences included), its sections."""
    text = "---\n"
    for key, value in plan.items():
        in_body = tuple(field for _, (part, field) in body if part == key)
        if (key, *in_body) not in parts:
            kept = {k: v for k, v in value.items() if k not in in_body} if in_body else value
            parts[(key, *in_body)] = dump_yaml({key: kept})
        text += "".join(f"# {line}\n" for line in HELP.get(key, "").splitlines())
        text += parts[(key, *in_body)]
    text += "---\n"
    front_lines = len(markdown_lines(text)) - 1
    plan_id = _at(plan, ("plan", "id"))
    title = f"{TITLE} {plan_id}" if named and plan_id is not None else TITLE
    headings = [(1, title, ""), *((2, name, _at(plan, path)) for name, path in body)]
    written = []
    for level, name, section_text in headings:
        heading_line = len(markdown_lines(text)) + 1  # after a blank line, as the reader counts
        text += f"\n{'#' * level} {name}\n" + (f"\n{section_text}\n" if level == 2 else "")
        written.append((level, name, heading_line, section_text))
    return text, front_lines, written


def _first_wrong_section(text: str, front_lines: int, written: list[Written]) -> int | None:
    """The index of the first section that does not read back as written, or None."""
    scratch = PlanSource(Path("plan.md"), None)
    found = [
        (section.level, section.title, section.line, section.text)
        for section in sections(markdown_lines(text)[front_lines:], front_lines + 1, scratch)
    ]
    for index, (want, got) in enumerate(zip_longest(written, found)):
        if want != got:  # sections before it read back, so its own heading starts it
            return min(index, len(written) - 1)
    return None


def _must_read_back(text: str, plan: dict[str, Any], suffix: str) -> None:
    """Read the file back with the reader; raise `UnwritablePlan` unless it is the same data."""
    kind = {".md": "Markdown", ".json": "JSON"}[suffix]
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a JSON `\\ud800`): not a character
        raise UnwritablePlan(f"the plan cannot be written as {kind}: a text holds a lone "
                             "surrogate, which is not a character") from None  # fmt: skip
    source = read_bytes(raw, Path(f"plan{suffix}"))
    plan = in_nfc(plan)  # the reader reads every text in NFC: "é" either way is one text
    if source.problems or not same_data(source.data, plan):
        where = _first_difference(plan, source.data)
        field = f" ({format_field_path(where)})" if where else ""
        why = f": {source.problems[0].message}" if source.problems else ""
        raise UnwritablePlan(
            f"the plan cannot be written as {kind} so that it reads back{field}{why}"
        )


def _first_difference(one: Any, other: Any, path: FieldPath = ()) -> FieldPath:
    if isinstance(one, dict) and isinstance(other, dict):
        for key, value in one.items():
            if key not in other or not same_data(value, other[key]):
                return _first_difference(value, other.get(key), (*path, key))
    if isinstance(one, list) and isinstance(other, list) and len(one) == len(other):
        for index, (value, back) in enumerate(zip(one, other, strict=True)):
            if not same_data(value, back):
                return _first_difference(value, back, (*path, index))
    return path
