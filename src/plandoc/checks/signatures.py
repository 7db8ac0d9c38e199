"""Stale signatures: a signature whose content hash is not the plan's content now.

`plandoc sign` records, with each signature, the SHA-256 of the plan's signed
content (model/signed_content.py). The `stale-signature` check (a named check:
layouts decide its severity and cite its source) compares it with the plan as it
is now. A signature without a hash (written by hand) is taken as it is.

A hash says *that* the content changed, not *what* changed: plandoc keeps no copy
of what was signed. So the finding names what it can:

- when the signature holds `parts_sha256` (as `plandoc sign` writes it), the parts
  changed, added and removed since: goals, objectives, methods, and the plan's other
  sections (`model.signed_content.signed_parts`);
- else, when a file beside the plan (same folder) holds the same plan id and its signed
  content has the signature's hash, that file is the signed version: the
  finding names what changed since, as `plandoc diff` does (goals, objectives,
  diagnoses...), comparing the two signed contents (progress recorded after the
  day of signing is not a change);
- else, the revisions recorded on or after the day of signing, if any;
- else, only that the plan changed after it was signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from plandoc.model.plan import Plan, Signature, parse_plan
from plandoc.model.signed_content import (
    changed_parts,
    content_sha256,
    signed_content,
    signed_parts,
)
from plandoc.problems import FieldPath, file_name, plan_value

# The files beside a plan looked at for its signed version: those whose names are
# most like the plan's own come first. Bounds the time a folder of thousands of plans
# costs a plan whose signature is stale.
MOST_BESIDE = 50
MOST_NAMED = 6  # changes named in one finding; then "and N more"


def stale_signature(plan: Plan, context: Any) -> Iterator[tuple[FieldPath, str]]:
    """Signatures whose content hash (`plandoc sign`) is not the plan's signed content now."""
    for index, signature in enumerate(plan.signatures):
        if signature.content_sha256 is None or signature.date is None:
            continue
        if content_sha256(plan, signature.date) == signature.content_sha256:
            continue
        path = getattr(context, "plan_path", None)
        yield ("signatures", index, "content_sha256"), stale_message(plan, signature, path)


def stale_message(plan: Plan, signature: Signature, path: Path | None = None) -> str:
    """What a stale signature's finding says: who signed when, and what changed since."""
    assert signature.date is not None
    who = f"{plan_value(signature.name)} ({signature.role})"
    head = f"the plan changed after {who} signed on {plan_value(signature.date.isoformat())}"
    if signature.parts_sha256:
        named = describe_parts(
            *changed_parts(signature.parts_sha256, signed_parts(plan, signature.date))
        )
        if named:
            return f"{head}: {named}; sign again or record a revision"
    signed = signed_version(plan, signature, path) if path is not None else None
    if signed is not None:
        changed = changes_since(signed, plan, signature.date)
        if changed:
            shown = f"{head}: {changed} (compared with {file_name(signed[1].name)})"
            return f"{shown}; sign again or record a revision"
    since = [r for r in plan.revisions if r.date >= signature.date]
    if since:
        named = ", ".join(
            f"revision {plan_value(r.version)} of {plan_value(r.date.isoformat())}" for r in since
        )
        return f"{head}; recorded since: {named}; sign again to sign the plan as it is now"
    return f"{head}; sign again or record a revision"


def signed_version(plan: Plan, signature: Signature, path: Path) -> tuple[Plan, Path] | None:
    """The file beside `path` holding the plan's version that `signature` signed, if any."""
    from plandoc.planfile.read import PLAN_SUFFIXES, read_plan

    assert signature.date is not None
    try:
        names = [
            entry
            for entry in path.parent.iterdir()
            if entry.suffix.lower() in PLAN_SUFFIXES
            and not entry.name.startswith(".")
            and entry.name != path.name
        ]
    except OSError:
        return None
    names.sort(key=lambda entry: (-_common_prefix(entry.name, path.name), entry.name))
    wanted = plan.plan.id.casefold()
    for entry in names[:MOST_BESIDE]:
        source = read_plan(entry)
        data = source.data
        info = data.get("plan") if isinstance(data, dict) else None
        if not isinstance(info, dict) or str(info.get("id", "")).casefold() != wanted:
            continue
        other, _ = parse_plan(data)
        if other is not None and content_sha256(other, signature.date) == (
            signature.content_sha256
        ):
            return other, entry
    return None


def _common_prefix(one: str, other: str) -> int:
    length = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        length += 1
    return length


def changes_since(signed: tuple[Plan, Path], plan: Plan, day: dt.date) -> str:
    """The changes between the signed version and the plan now, as `plandoc diff` names
    them ("goal G2 and objective G2.1 changed; goal G3 added"), comparing what each
    signs on `day`; "" when diff itemizes none of them."""
    from plandoc.reports.diff import compare

    before, _ = parse_plan(signed_content(signed[0], day))
    after, _ = parse_plan(signed_content(plan, day))
    if before is None or after is None:
        return ""
    verbs: dict[str, list[str]] = {}
    kinds: dict[str, set[str]] = {}
    for change in compare(before, after):
        kinds.setdefault(_item(change.subject), set()).add(change.kind)
    for subject, seen in kinds.items():  # in the order diff names them
        verb = next(iter(seen)) if len(seen) == 1 else "changed"
        verbs.setdefault(verb if verb in ("added", "removed") else "changed", []).append(subject)
    return _clauses(verbs, plan_value)


def _item(subject: str) -> str:
    """The item a change is about: "goal G2 measure" is about goal G2."""
    words = subject.split()
    if len(words) >= 2 and words[0] in ("goal", "objective", "method", "diagnosis"):
        return " ".join(words[:2])
    return subject


def describe_parts(changed: list[str], added: list[str], removed: list[str]) -> str:
    """'goal G2 and objective G2.1 changed; method M3 added': at most MOST_NAMED parts."""
    return _clauses({"changed": changed, "added": added, "removed": removed}, _part_name)


def _clauses(by_verb: dict[str, list[str]], name: Callable[[str], str]) -> str:
    """'A and B changed; C added; D removed', naming at most MOST_NAMED items in all (each
    by `name`), a clause's rest counted: 'A, B and 4 more changed'."""
    clauses = []
    shown = 0
    for verb in ("changed", "added", "removed"):
        items = by_verb.get(verb) or []
        if not items:
            continue
        room = max(MOST_NAMED - shown, 1)
        names = [name(item) for item in items[:room]]
        shown += len(names)
        more = len(items) - len(names)
        if more:
            names.append(f"{more} more")
        text = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        clauses.append(f"{text} {verb}")
    return "; ".join(clauses)


def _part_name(part: str) -> str:
    """'goal G2' as it is (its id a plan value); 'time_estimate' -> 'the time estimate';
    any other name (written in the plan file's parts_sha256) a plan value."""
    kind, _, ident = part.partition(" ")
    if ident and kind in ("goal", "objective", "method"):
        return f"{kind} {plan_value(ident)}"
    if part in Plan.model_fields:  # a section of the format: its name is plandoc's
        return "the " + part.replace("_", " ")
    return f"the part {plan_value(part)}"  # a name the plan file gave: the plan's words
