"""Starting a plan: a skeleton with every section a layout requires, or the next version of one.

A skeleton holds clearly marked placeholders, `FILL IN: what goes here`;
`plandoc validate` fails on each one still in the plan (see `placeholders`),
so an untouched skeleton can never be rendered as if it were a plan. The
Markdown form carries comments saying what each section is for, and its
narrative sections as `## Headings` in the body.

`next_version` starts the next version of a valid plan: version + 1, last
reviewed today, goals and objectives carried over with their status and
progress, signatures cleared (each version is signed anew), and a revision
entry whose summary is a placeholder.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import yaml

from .layouts import Layout
from .model import NUMBERS, read_number
from .problems import FieldPath, PlandocError
from .reader import leaves

FILL = "FILL IN"


def fill(what: str) -> str:
    return f"{FILL}: {what}"


def placeholder(value: Any) -> str | None:
    """What goes in place of a placeholder ("FILL IN: the client's name"), or None."""
    if isinstance(value, str) and value.strip().startswith(FILL):
        return value.strip()[len(FILL) :].lstrip(": ").strip() or "a value"
    return None


def placeholders(data: Any) -> Iterator[tuple[FieldPath, str]]:
    """Every placeholder still in the data: (field path, what goes there)."""
    for path, value in leaves(data):
        what = placeholder(value)
        if what is not None:
            yield path, what


def skeleton(plan_id: str, layout: Layout, today: dt.date) -> dict[str, Any]:
    """A new plan for `layout`: what the format requires, plus what its rules require."""
    day = today.isoformat()
    required = {path for rule in layout.rules for path in (*rule.require, *rule.require_any)}

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
            "authorization_number": fill("the current authorization"),
        }
    if wanted("services"):
        plan["services"] = [
            {"cpt": fill("e.g. 90834"), "description": fill("the service"),
             "frequency": fill("e.g. weekly"), "units": fill("units requested")}
        ]  # fmt: skip
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
            f"plan.version is {version:,}, the last plandoc takes (README: Limits): "
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
]


def as_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


def as_markdown(plan: dict[str, Any]) -> str:
    front = copy.deepcopy(plan)
    body = []
    for title, (part, key) in BODY:
        text = front.get(part, {}).pop(key, None)
        if text is not None:
            body.append(f"## {title}\n\n{text.strip()}\n")
    lines = ["---"]
    for key, value in front.items():
        lines += [f"# {line}" for line in HELP.get(key, key).splitlines()]
        dumped = yaml.safe_dump(
            {key: value}, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
        )
        lines.append(dumped.rstrip("\n"))
    lines += ["---", "", f"# Treatment plan {plan['plan']['id']}", ""]
    return "\n".join(lines) + "\n" + "\n".join(body)
