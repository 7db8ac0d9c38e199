"""`plandoc sign`: add a signature to a plan file, in place, keeping every other byte.

The new entry (role, name, credentials, date, signed_at, method, content_sha256,
parts_sha256)
is inserted as text into the file as it was read, in the file's own style: the
JSON `signatures` array with its own indentation (one-line entries stay one-line)
and line endings; the Markdown front-matter's `signatures:` block list with its
own indentation, comments and body untouched. Nothing else is re-written: no
re-dump of the JSON, no round trip of the YAML (a round-tripping YAML library
re-folds long plain text and re-indents lists, which would change bytes the
signer never touched). The result is read back with plandoc's own reader and must
hold exactly the plan read plus the new entry, else nothing is written.

`--replace` puts the new entry in place of the role's earlier one (comments inside
that entry go with it).

The file is replaced atomically (a temporary file in its folder, then a rename,
builds/output_files.py), keeping its mode; if the file's bytes changed on disk
between reading and replacing it (someone saved it meanwhile), nothing is
written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plandoc.errors import OutputError, PlandocError, PlanError
from plandoc.model.plan import SIGNATURE_METHODS, SIGNATURE_ROLES, Plan
from plandoc.model.signed_content import content_sha256, signed_parts
from plandoc.problems import Severity, file_name, plan_value

BOM = "\ufeff"


class SignRefused(PlandocError):
    """A signature plandoc will not add (a future time, a role already signed...)."""


@dataclass(frozen=True, slots=True)
class Signed:
    """What `sign_file` wrote."""

    path: Path
    entry: dict[str, Any]
    replaced: bool


# `--at` as the docs give it: a date, or a date and a time to the minute or second, with
# an offset of hours and minutes (or Z) or none. Nothing else: no week dates, no
# offsets with seconds, which a plan's `signed_at` cannot hold.
AT_FORM = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)


def _must_be_printable(option: str, text: str) -> None:
    """A name a document can carry and a plan file keeps as written: no control
    characters, no text that cannot be written as UTF-8, no placeholder."""
    from plandoc.checks.file import unusable_value
    from plandoc.planfile.placeholders import placeholder

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SignRefused(f"{option}: not text (a byte that is not UTF-8)") from None
    why = unusable_value(text)
    if why is not None or placeholder(text) is not None:
        raise SignRefused(f"{option}: {why or 'a placeholder, not a name'}")


def parse_moment(text: str, now: dt.datetime) -> tuple[dt.date, dt.datetime | None]:
    """`--at`: a date and time (ISO 8601; without an offset, the local one), or a date
    alone (a signature on paper recorded later: no time is written)."""
    text = text.strip()
    try:
        if not AT_FORM.fullmatch(text):
            raise ValueError(text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text), None
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SignRefused(
            f"--at {plan_value(text)}: give a date and time, 2026-10-29T14:05 (the local UTC "
            "offset is added) or 2026-10-29T14:05-05:00, or a date alone, 2026-10-29"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the computer's own offset on that day
    moment = moment.replace(microsecond=0)
    return moment.date(), moment


def signature_entry(
    role: str,
    name: str,
    credentials: str | None,
    day: dt.date,
    moment: dt.datetime | None,
    method: str,
    digest: str,
    parts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The signature entry as plain data, in the order the file shows it."""
    entry: dict[str, Any] = {"role": role, "name": name}
    if credentials:
        entry["credentials"] = credentials
    entry["date"] = day.isoformat()
    if moment is not None:
        entry["signed_at"] = moment.isoformat()
    entry["method"] = method
    entry["content_sha256"] = digest
    if parts:
        entry["parts_sha256"] = parts
    return entry


UNFINISHED_AFTER = 600  # seconds: a sign writes its file in well under a second


def sign_file(
    path: Path,
    check: Callable[[Path], Any],
    *,
    role: str,
    name: str,
    credentials: str | None = None,
    method: str = "electronic",
    at: str | None = None,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> Signed:
    """Add a signature to the plan file at `path`, in place (see the module's notes).

    `check(path)` checks the file (a `checks.file.CheckedPlan`): a plan with errors is
    refused (PlanError with its problems), except a stale signature, which signing
    again is the cure for. `at`: when it was signed (`--at`), default `now` (with the
    local UTC offset). Refused (SignRefused): an unknown role or method, a time in the
    future or before the plan was created, a role that already signed without
    `replace`. OutputError when the file changed on disk meanwhile: nothing written.
    """
    from plandoc.builds.output_files import remove_unfinished, write_atomically
    from plandoc.planfile.read import read_bytes
    from plandoc.planfile.source import MAX_PLAN_BYTES, read_regular_file

    if role not in SIGNATURE_ROLES:
        raise SignRefused(f"unknown role {plan_value(role)}: one of {', '.join(SIGNATURE_ROLES)}")
    if method not in SIGNATURE_METHODS:
        raise SignRefused(f"unknown method {plan_value(method)}: wet or electronic")
    name = name.strip()
    if not name:
        raise SignRefused("--name: give the signer's name")
    _must_be_printable("--name", name)
    # As the reader reads every text (NFC): "José" typed with a combining accent is the
    # same name, and the file then holds what it reads back as.
    name = unicodedata.normalize("NFC", name)
    if credentials is not None:
        credentials = credentials.strip() or None
        if credentials:
            _must_be_printable("--credentials", credentials)
            credentials = unicodedata.normalize("NFC", credentials)
    now = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    try:
        raw = read_regular_file(path, MAX_PLAN_BYTES)
        before = os.stat(path)
    except OSError as error:
        raise OutputError(f"cannot read {file_name(path)}: {error.strerror or error}") from None
    checked = check(path)
    plan: Plan | None = checked.plan
    errors = [
        problem
        for problem in checked.all_problems
        if problem.severity is Severity.ERROR and problem.field[-1:] != ("content_sha256",)
    ]
    if plan is None or errors:
        raise PlanError(
            f"{file_name(path)} does not validate: fix it, then sign",
            [p for p in checked.all_problems if p.severity is Severity.ERROR],
        )
    day, moment = parse_moment(at, now) if at is not None else (now.date(), now)
    # The future by the clock, whatever the offsets: a moment later than now, or a date
    # alone later than today in every time zone (today's date runs to UTC+14).
    latest_day = (now.astimezone(dt.UTC) + dt.timedelta(hours=14)).date()
    if (moment is not None and moment > now) or (moment is None and day > latest_day):
        raise SignRefused(f"--at {plan_value(at)} is in the future (now is {now.isoformat()})")
    if day < plan.plan.created:
        raise SignRefused(
            f"--at {plan_value(day.isoformat())} is before the plan was created "
            f"({plan_value(plan.plan.created.isoformat())})"
        )
    earlier = [
        index
        for index, signature in enumerate(plan.signatures)
        if signature.role == role and (role != "other" or signature.name == name)
    ]
    if earlier and not replace:
        who = plan.signatures[earlier[0]]
        raise SignRefused(
            f"the {role} signature is already recorded ({plan_value(who.name)}, "
            f"{plan_value(who.date or 'declined')}): use --replace to replace it"
        )
    digest, parts = content_sha256(plan, day), signed_parts(plan, day)
    entry = signature_entry(role, name, credentials, day, moment, method, digest, parts)
    text = raw.decode("utf-8-sig")
    bom = BOM if raw.startswith(BOM.encode("utf-8")) else ""
    at_index = earlier[0] if earlier else None
    try:
        if path.suffix.lower() == ".json":
            new_text = json_with_signature(text, entry, at_index)
        else:
            new_text = markdown_with_signature(text, entry, at_index)
    except Exception:  # a shape the insertion does not know: said below, nothing written
        new_text = text
    new_raw = (bom + new_text).encode("utf-8")
    if len(new_raw) > MAX_PLAN_BYTES:
        raise SignRefused(
            f"{file_name(path)} with the signature would be larger than a plan file may be "
            f"({MAX_PLAN_BYTES // (1024 * 1024)} MiB, docs: Limits): nothing was written"
        )
    _must_read_back(read_bytes, raw, new_raw, path, entry, at_index)

    def unchanged() -> None:  # just before the rename: the file is still what was read
        try:
            now_raw = read_regular_file(path, MAX_PLAN_BYTES)
            after = os.stat(path)
        except OSError:
            now_raw, after = b"", None
        if (
            now_raw != raw
            or after is None
            or (after.st_mtime_ns, after.st_size, after.st_ino)
            != (before.st_mtime_ns, before.st_size, before.st_ino)
        ):
            raise OutputError(
                f"{file_name(path)} changed on disk while it was being signed: nothing was "
                "written; sign again"
            )

    # A copy of a plan that a killed `sign` left half-written beside it (a hidden
    # `.plandoc-*.part` file): removed once it is older than any sign still running.
    remove_unfinished(path.parent, older_than=UNFINISHED_AFTER)
    write_atomically(path, new_raw, stat.S_IMODE(before.st_mode), before_replace=unchanged)
    return Signed(path, entry, at_index is not None)


def _must_read_back(
    read_bytes: Callable[[bytes, Path], Any],
    raw: bytes,
    new_raw: bytes,
    path: Path,
    entry: dict[str, Any],
    at_index: int | None,
) -> None:
    """The new file must read as the old plan plus the entry, and nothing else."""
    old = read_bytes(raw, path).data
    new = read_bytes(new_raw, path).data
    expected = dict(old)
    signatures = list(old.get("signatures") or [])
    if at_index is None:
        signatures.append(entry)
    else:
        signatures[at_index] = entry
    expected["signatures"] = signatures
    if new != expected:
        raise OutputError(
            f"cannot add the signature to {file_name(path)} without changing the file "
            "elsewhere: nothing was written (write `signatures` as a list of entries, "
            "one a line in JSON or a block list in YAML, and sign again)"
        )


# --- JSON ------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[{}\[\],:])|(?P<literal>[^\s{}\[\],:"]+))',
    re.DOTALL,
)


@dataclass
class _Span:
    start: int
    end: int
    members: list[tuple[str, _Span]] | None = None  # an object's keys and values
    items: list[_Span] | None = None  # an array's values


def _json_spans(text: str) -> _Span:
    """Where each value of (already valid) JSON text starts and ends."""
    position = 0

    def token() -> tuple[str, str, int, int]:
        nonlocal position
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError("not JSON")
        position = match.end()
        kind = match.lastgroup or ""
        return kind, match.group(kind), match.start(kind), match.end(kind)

    def value(first: tuple[str, str, int, int]) -> _Span:
        kind, value_text, start, end = first
        if kind != "punct":
            return _Span(start, end)
        if value_text == "{":
            members: list[tuple[str, _Span]] = []
            following = token()
            while following[1] != "}":
                if following[1] == ",":
                    following = token()
                key = json.loads(following[1])
                token()  # :
                members.append((key, value(token())))
                following = token()
            return _Span(start, following[3], members=members)
        items: list[_Span] = []
        following = token()
        while following[1] != "]":
            if following[1] == ",":
                following = token()
            items.append(value(following))
            following = token()
        return _Span(start, following[3], items=items)

    return value(token())


def _line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def _indent_of(text: str, index: int) -> str:
    start = _line_start(text, index)
    return re.match(r"[ \t]*", text[start:index]).group()  # type: ignore[union-attr]


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")


def _json_entry(entry: dict[str, Any], like: str | None, indent: str, text: str) -> str:
    """The entry as JSON text: on one line, or one key a line like the entry `like`."""
    pairs = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
    if like is None or ("\n" not in like and "\r" not in like):
        return "{" + ", ".join(pairs) + "}"
    newline = _newline(text)
    first_key = re.search(r'[\r\n]([ \t]*)"', like)
    inner = first_key.group(1) if first_key else indent + "  "
    body = ("," + newline).join(inner + pair for pair in pairs)
    return "{" + newline + body + newline + indent + "}"


def json_with_signature(text: str, entry: dict[str, Any], replace: int | None = None) -> str:
    """JSON text with `entry` added to its top-level `signatures` (or in place of item
    `replace`), every other byte kept."""
    root = _json_spans(text)
    assert root.members is not None
    found = [span for key, span in root.members if key == "signatures"]
    newline = _newline(text)
    if not found:  # a new key after the last one, indented like it
        last_key, last = root.members[-1]
        key_at = text.rfind(json.dumps(last_key), root.start, last.start)
        indent = _indent_of(text, key_at) if key_at >= 0 else ""
        flat = "\n" not in text[root.start : root.end] and "\r" not in text[root.start : root.end]
        if flat:
            added = ', "signatures": [' + _json_entry(entry, None, "", text) + "]"
        else:
            added = (
                f',{newline}{indent}"signatures": [{newline}{indent}{indent}'
                f"{_json_entry(entry, None, indent * 2, text)}{newline}{indent}]"
            )
        return text[: last.end] + added + text[last.end :]
    array = found[-1]
    items = array.items
    if items is None:
        raise ValueError("signatures is not a list")
    if replace is not None:
        item = items[replace]
        like = text[item.start : item.end]
        new = _json_entry(entry, like, _indent_of(text, item.start), text)
        return text[: item.start] + new + text[item.end :]
    if items:
        last = items[-1]
        like = text[last.start : last.end]
        between = (
            text[items[-2].end : items[-1].start]
            if len(items) > 1
            else "," + text[array.start + 1 : items[0].start]
        )
        indent = _indent_of(text, last.start) if "\n" in between or "\r" in between else ""
        new = _json_entry(entry, like, indent, text)
        return text[: last.end] + between + new + text[last.end :]
    # An empty list: one entry a line, indented one step more than the key.
    key_at = text.rfind('"signatures"', root.start, array.start)
    indent = _indent_of(text, key_at)
    step = _indent_step(text) if "\n" in text or "\r" in text else ""
    if not step:
        return text[: array.start + 1] + _json_entry(entry, None, "", text) + text[array.end - 1 :]
    inside = f"{newline}{indent}{step}{_json_entry(entry, None, indent + step, text)}"
    return text[: array.start + 1] + inside + newline + indent + text[array.end - 1 :]


def _indent_step(text: str) -> str:
    """The file's indentation step: the indent of its first indented line."""
    match = re.search(r"[\r\n]([ \t]+)\S", text)
    return match.group(1) if match else "  "


# --- Markdown (YAML front-matter) ---------------------------------------------------


def markdown_with_signature(text: str, entry: dict[str, Any], replace: int | None = None) -> str:
    """A Markdown plan with `entry` added to its front-matter's `signatures` block list
    (or in place of item `replace`), every other byte kept."""
    from plandoc.planfile.markdown_plan import _FENCE
    from plandoc.planfile.yaml_text import _PlanYamlLoader, dump_yaml

    lines = re.split(r"(?<=\r\n)|(?<=\n)(?<!\r\n)|(?<=\r)(?!\n)", text)
    if lines and lines[-1] == "":
        lines.pop()
    newline = _newline(text)
    close = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i].rstrip("\r\n"))), None)
    if close is None:
        raise ValueError("no front-matter")
    front = "".join(line.rstrip("\r\n") + "\n" for line in lines[1:close])
    loader = _PlanYamlLoader(front)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    value = next((v for k, v in root.value if k.value == "signatures"), None)

    def block(dash: str, key_offset: int) -> list[str]:
        # Dates and times plain, as plan files write them (plandoc reads them as text).
        dumped = [
            re.sub(r"^((?:- |  )(?:date|signed_at): )'([0-9T:+-]+)'$", r"\1\2", line)
            for line in dump_yaml([entry]).splitlines()
        ]
        shaped = []
        for number, line in enumerate(dumped):
            if number == 0 or line.startswith("- "):
                shaped.append(dash + "-" + " " * (key_offset - 1) + line[2:])
            else:
                shaped.append(dash + " " * key_offset + line[2:])
        return [line + newline for line in shaped]

    def file_line(yaml_line: int) -> int:
        return yaml_line + 1  # the front-matter starts on the file's second line

    if value is None:  # a new key at the end of the front-matter
        added = ["signatures:" + newline, *block("", 2)]
        return "".join(lines[:close] + added + lines[close:])
    if value.tag.endswith(":null") or (getattr(value, "flow_style", None) and not value.value):
        line_index = file_line(value.start_mark.line)
        line = lines[line_index]
        ending = line[len(line.rstrip("\r\n")) :] or newline
        body = line.rstrip("\r\n")
        start, end = value.start_mark.column, value.end_mark.column
        kept = body[:start].rstrip() + body[end:] if end > start else body
        key_column = len(body) - len(body.lstrip())
        added = block(" " * key_column, 2)
        return "".join([*lines[:line_index], kept + ending, *added, *lines[line_index + 1 :]])
    if getattr(value, "flow_style", True) or not value.value:
        raise ValueError("signatures is not a block list")
    items = value.value

    def dash_of(item: Any) -> tuple[str, int, int]:
        """The item's dash indent, its keys' offset from the dash, and its first line."""
        line_index = file_line(item.start_mark.line)
        before = lines[line_index].rstrip("\r\n")[: item.start_mark.column]
        match = re.fullmatch(r"([ \t]*)-([ \t]+)", before)
        if match is None:
            raise ValueError("an entry not on its dash's line")
        return match.group(1), 1 + len(match.group(2)), line_index

    def last_line(item: Any) -> int:
        """The file line holding the end of the item's last value (comments after it
        stay where they are)."""
        node = item
        while getattr(node, "value", None) and isinstance(node.value, list):
            last = node.value[-1]
            node = last[1] if isinstance(last, tuple) else last
        end = node.end_mark
        return file_line(end.line if end.column > 0 else end.line - 1)

    if replace is not None:
        item = items[replace]
        dash, offset, first = dash_of(item)
        return "".join([*lines[:first], *block(dash, offset), *lines[last_line(item) + 1 :]])
    dash, offset, _ = dash_of(items[0])
    after = last_line(items[-1])
    return "".join([*lines[: after + 1], *block(dash, offset), *lines[after + 1 :]])
