"""What a signature signs: the plan's signed content, and its SHA-256.

A signature written by `plandoc sign` records `content_sha256`, the hash of the
plan's *signed content* on the day it was signed; `validate` compares it with the
plan as it is now (checks/signatures.py). The signed content is:

- the plan as plandoc reads it (the typed plan: so a JSON file and a Markdown
  file holding the same plan give the same content, whatever their spacing,
  quoting, key order, comments or line endings, and a date written `2026-09-15`
  is the same in both), written as JSON with every field that holds its default
  value left out (an empty list, an absent optional key, `language: en`: a key
  a later plandoc adds with a default changes no hash),
- without `signatures` (signing must not change what is signed, and one
  signature must not stale another), `revisions` (the history says how the plan
  came to be, not what it is), `practice` (the letterhead, often the clinic's
  `plandoc.toml` rather than the plan: a clinic that moves does not stale every
  signature) and `x-` keys (a clinic's own, outside the format),
- without the progress recorded after the day of signing: `goals[].progress[]`
  entries and `progress_notes[]` dated after the signature's `date` (progress is
  recorded on a signed plan; it is not a change of the plan). Progress dated on
  or before that day is part of what was signed.

The JSON is canonical: keys sorted, no spaces (`,` and `:`), text as UTF-8
(not `\\u` escapes), numbers as Python's `json` writes them. Its SHA-256, 64
lowercase hex digits, is `content_sha256`.

So that a stale signature can say *what* changed without keeping a copy of what
was signed, `plandoc sign` also records `parts_sha256`: the same content cut
into parts, each with the first 16 hex digits of its own SHA-256: each goal
(`goal G1`: the goal without its objectives), each objective (`objective
G1.1`), each method (`method M1`), and each other top-level key of the signed
content (`presenting_problem`, `diagnoses`, `contract`...). Comparing them with
the plan's parts now names the parts changed, added and removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from plandoc.model.plan import Plan

# Top-level keys never signed (see the module's notes).
UNSIGNED_KEYS = frozenset({"signatures", "revisions", "practice"})


def signed_content(plan: Plan, signed_on: dt.date | None = None) -> dict[str, Any]:
    """The plan's signed content as plain JSON data; `signed_on`: the day it was signed
    (progress dated after it is left out), None to keep all progress."""
    data = plan.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for key in UNSIGNED_KEYS:
        data.pop(key, None)
    if signed_on is not None:
        day = signed_on.isoformat()  # ISO dates compare as text
        for goal in data.get("goals", []):
            if "progress" in goal:
                goal["progress"] = [entry for entry in goal["progress"] if entry["date"] <= day]
                if not goal["progress"]:
                    del goal["progress"]
        if "progress_notes" in data:
            data["progress_notes"] = [n for n in data["progress_notes"] if n["date"] <= day]
            if not data["progress_notes"]:
                del data["progress_notes"]
    return data


PART_DIGITS = 16  # hex digits of a part's SHA-256 kept: enough to tell a change


def signed_parts(plan: Plan, signed_on: dt.date | None = None) -> dict[str, str]:
    """The signed content's parts, each with its short hash (see the module's notes),
    in the order of the content: the value `plandoc sign` writes as `parts_sha256`."""
    parts: dict[str, str] = {}
    for key, value in sorted(signed_content(plan, signed_on).items()):
        if key == "goals":
            for goal in value:
                objectives = goal.pop("objectives", [])
                parts[f"goal {goal['id']}"] = _short(goal)
                for objective in objectives:
                    parts[f"objective {objective['id']}"] = _short(objective)
        elif key == "methods":
            for method in value:
                parts[f"method {method['id']}"] = _short(method)
        else:
            parts[key] = _short(value)
    return parts


def changed_parts(signed: dict[str, str], now: dict[str, str]) -> tuple[list[str], ...]:
    """The parts changed, added and removed since `signed` (both `signed_parts`)."""
    changed = [part for part in signed if part in now and now[part] != signed[part]]
    added = [part for part in now if part not in signed]
    removed = [part for part in signed if part not in now]
    return changed, added, removed


def _short(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()[:PART_DIGITS]


def canonical_json(data: Any) -> bytes:
    """Plain data as canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_sha256(plan: Plan, signed_on: dt.date | None = None) -> str:
    """The SHA-256 (64 lowercase hex digits) of the plan's signed content on `signed_on`
    (see the module's notes); the value `plandoc sign` writes as `content_sha256`."""
    return hashlib.sha256(canonical_json(signed_content(plan, signed_on))).hexdigest()
