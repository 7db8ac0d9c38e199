"""Numbers and values: bounds and precision checked when a plan is read, text in NFC,
ids without invisible characters, nesting bounded; and the promise they buy: a plan
that validates renders in every layout and format, in bounded time and memory.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import re
import tracemalloc
from decimal import Decimal
from pathlib import Path

import docx
import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.documents import render_documents
from plandoc.errors import PlandocError
from plandoc.interop.json_schema import plan_schema
from plandoc.model.instruments import load_registry
from plandoc.model.plan import MOST_PROGRESS, NUMBERS, number_text, read_number
from plandoc.planfile import new as new_plan
from plandoc.planfile.read import MAX_DEPTH, MAX_PLAN_BYTES
from plandoc.problems import shown

ROOT = Path(__file__).resolve().parents[1]
BUILT_IN = ("standard", "client-copy", "medicare", "medicaid", "managed-care")
FORMATS = ("md", "html", "docx")
PROPERTY = settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "40")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A clinic's scale as wide as a score may be, so that every score validates somewhere.
WIDE_SCALE = """
[WIDE-SCALE]
title = "A clinic's own scale, as wide as plandoc takes"
min = -100000
max = 100000
lower_is_better = true
cutoff = 0.5
meaningful_change = 0.01
"""


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _messages(checked, path):
    """The messages about one field, plan values shown."""
    return [shown(p.message, values=True) for p in checked.problems if p.field == path]


def _exact(text: str) -> float:
    return float(Decimal(text))


# --- each bound, both ways ---------------------------------------------------------

# (field, kind, a change that lets the plan validate at either end of the bound)
WHOLE_FIELDS = [
    (("plan", "version"), "version"),
    (("methods", 0, "session_minutes"), "session_minutes"),
    (("time_estimate", "sessions"), "sessions"),
    (("time_estimate", "weeks"), "weeks"),
    (("services", 0, "units"), "units"),
]


@pytest.mark.parametrize(("path", "kind"), WHOLE_FIELDS, ids=[k for _, k in WHOLE_FIELDS])
def test_each_whole_number_is_taken_from_its_least_to_its_most(write_plan, plan_data, path, kind):
    bounds = NUMBERS[kind]
    for value in (bounds.least, bounds.most, float(bounds.most), str(bounds.least)):
        _set(plan_data, path, value)
        checked = check_file(write_plan(plan_data))
        assert not checked.failed(), (value, [str(p) for p in checked.problems])
        taken = checked.plan
        for key in path:
            taken = taken[key] if isinstance(key, int) else getattr(taken, key)
        assert taken == int(value) and type(taken) is int


@pytest.mark.parametrize(("path", "kind"), WHOLE_FIELDS, ids=[k for _, k in WHOLE_FIELDS])
def test_past_a_whole_numbers_bounds_is_one_line_naming_field_and_bound(
    write_plan, plan_data, path, kind
):
    bounds = NUMBERS[kind]
    wanted = f"must be a whole number from {bounds.least:,} to {bounds.most:,}"
    cases = [  # a list: True == 1 and False == 0 as keys of a dict
        (bounds.least - 1, f"{wanted}, not {bounds.least - 1}"),
        (bounds.most + 1, f"{wanted}, not {bounds.most + 1:}"),
        (2.5, f"{wanted}, not 2.5"),
        (True, f"{wanted}, not true or false"),
        (False, f"{wanted}, not true or false"),
        ("two", wanted),
        (10**20, f"{wanted}, not a number of more than 15 digits"),
        (10**300, wanted),  # more than 100 digits: read as its digits, as text
    ]
    for value, message in cases:
        _set(plan_data, path, value)
        plan = write_plan(plan_data)
        checked = check_file(plan)
        assert checked.failed(), value
        found = [p for p in checked.problems if p.field == path]
        assert _messages(checked, path) == [message], value
        line = plan.read_text().splitlines()[found[0].line - 1]  # the line of the field
        assert f'"{path[-1]}": {json.dumps(value)}' in line, (value, line)
        assert "\n" not in str(found[0])


@pytest.fixture
def wide(tmp_path):
    path = tmp_path / "clinic-instruments.toml"
    path.write_text(WIDE_SCALE)
    return load_registry(path)


SCORE_EDGES_INSIDE = ["-100000", "100000", "-99999.99", "99999.99", "0", "0.01", "-0.01", "12.5"]
SCORE_EDGES_OUTSIDE = {
    "-100000.01": "-100000.01 is out of bounds: a score is from -100,000 to 100,000 (docs: Limits)",
    "100000.01": "100000.01 is out of bounds: a score is from -100,000 to 100,000 (docs: Limits)",
    "1e308": "1e+308 is out of bounds: a score is from -100,000 to 100,000 (docs: Limits)",
    "0.001": "0.001 has more than 2 decimal places; round it (docs: Limits)",
    "1e-15": "1e-15 has more than 2 decimal places; round it (docs: Limits)",
    "12.345": "12.345 has more than 2 decimal places; round it (docs: Limits)",
}


@pytest.mark.parametrize("text", SCORE_EDGES_INSIDE)
def test_a_score_at_its_bounds_validates_and_renders(write_plan, plan_data, wide, text):
    plan_data["goals"][0]["measure"]["instrument"] = "WIDE-SCALE"
    value = _exact(text)
    for entry in plan_data["goals"][0]["progress"]:
        entry["score"] = value
    plan_data["goals"][0]["measure"]["baseline"] = value
    checked = check_file(write_plan(plan_data), instruments=wide)
    assert not checked.failed(), [str(p) for p in checked.problems]
    documents = render_documents(checked.plan, checked.layout, FORMATS, instruments=wide)
    shown = number_text(value)
    assert f"| {shown} |" in documents["md"].decode()  # as written: no exponent, no lost digit
    assert shown in documents["html"].decode()


@pytest.mark.parametrize("text", list(SCORE_EDGES_OUTSIDE))
def test_a_score_past_its_bounds_or_precision_is_one_clear_error(write_plan, plan_data, wide, text):
    plan_data["goals"][0]["progress"][1]["score"] = json.loads(text)
    checked = check_file(write_plan(plan_data), instruments=wide)
    assert _messages(checked, ("goals", 0, "progress", 1, "score")) == [SCORE_EDGES_OUTSIDE[text]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, None),
        (100000, None),
        (0.01, None),
        (-0.01, "-0.01 is out of bounds: a count is from 0 to 100,000 (docs: Limits)"),
        (100000.01, "100000.01 is out of bounds: a count is from 0 to 100,000 (docs: Limits)"),
        (1e-15, "1e-15 has more than 2 decimal places; round it (docs: Limits)"),
        (True, "must be a number, not true or false"),
    ],
)
def test_a_behaviour_count_is_from_0_to_100000_with_2_decimals(
    write_plan, plan_data, value, message
):
    plan_data["goals"][1]["measure"]["baseline"] = value
    checked = check_file(write_plan(plan_data))
    assert _messages(checked, ("goals", 1, "measure", "baseline")) == ([message] if message else [])


def test_true_is_not_a_score_nor_a_number_of_sessions_nor_the_format(write_plan, plan_data):
    plan_data["goals"][0]["progress"][0]["score"] = True
    plan_data["assessment"]["baseline_measures"][0]["score"] = False
    plan_data["time_estimate"]["sessions"] = True
    plan_data["plandoc"] = True
    checked = check_file(write_plan(plan_data))
    assert sorted((p.field_name, p.message) for p in checked.problems) == [
        ("assessment.baseline_measures[0].score", "must be a number, not true or false"),
        ("goals[0].progress[0].score", "must be a number, not true or false"),
        ("plandoc", "must be 1, not true or false"),
        ("time_estimate.sessions", "must be a whole number from 1 to 2,000, not true or false"),
    ]


def test_a_revision_version_has_the_version_bounds_and_yaml_inf_is_not_a_number(
    write_plan, plan_data
):
    plan_data["revisions"] = [{"version": 10_000, "date": "2026-10-29", "summary": "Review."}]
    text = json.dumps(plan_data)
    checked = check_file(write_plan(text))
    assert _messages(checked, ("revisions", 0, "version")) == [
        "must be a whole number from 1 to 9,999, not 10000"
    ]
    yaml_plan = (ROOT / "inputs" / "adolescent-depression.md").read_text()
    yaml_plan = yaml_plan.replace("  version: 1\n", "  version: .inf\n", 1)
    checked = check_file(write_plan(yaml_plan, "plan.md"))
    assert [p.message for p in checked.problems if p.field == ("plan", "version")] == [
        "must be a whole number from 1 to 9,999"
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("12.50", None),  # YAML keeps it as text, so as not to lose the 0: still 12.5
        ("12.500", None),
        ("1.2e1", None),
        ("0.000", None),
        ("12.345", "12.345 has more than 2 decimal places; round it (docs: Limits)"),
        ("1e-15", "1e-15 has more than 2 decimal places; round it (docs: Limits)"),
        ("1.000000000000000000000000001", "1.000000000000000000000000001 has more than 2 "
         "decimal places; round it (docs: Limits)"),  # exact: no 28-digit rounding
        ("1_000", "must be a number"),
        ("true", "must be a number, not true or false"),
        (".inf", "must be a number"),  # YAML 1.2 core: text
    ],
)  # fmt: skip
def test_yaml_numbers_are_read_as_written(write_plan, written, message):
    text = (ROOT / "inputs" / "adolescent-depression.md").read_text()
    text = text.replace("    baseline: 17\n", f"    baseline: {written}\n", 1)
    checked = check_file(write_plan(text, "plan.md"))
    path = ("goals", 0, "measure", "baseline")
    got = _messages(checked, path)
    if message is None:
        assert got == [], got
    else:
        assert got[:1] == [message], got  # then, maybe, the PHQ-A's range


def test_numbers_are_shown_as_written_never_with_an_exponent_or_a_negative_zero():
    assert [number_text(v) for v in (7, 7.0, 2.5, 99999.99, 100000, -0.0, 0.1 + 0.2)] == [
        "7", "7", "2.5", "99999.99", "100000", "0", "0.3",
    ]  # fmt: skip
    assert number_text(0.0025, 6) == "0.0025"  # a chart's tick
    assert read_number(-0.0, "score") == 0 and str(read_number(-0.0, "score")) == "0.0"
    assert read_number("12.50", "score") == 12.5  # YAML keeps `12.50` as text: still a number
    assert read_number(" 16 ", "sessions") == 16 and read_number(16.0, "sessions") == 16


def test_a_target_equal_to_the_baseline_and_tiny_counts_render_sanely(write_plan, plan_data):
    goal = plan_data["goals"][1]
    goal["measure"].update(baseline=0.01, target=0.01)
    for entry in goal["progress"]:
        entry["score"] = 0.01
    checked = check_file(write_plan(plan_data))
    assert not checked.failed(), [str(p) for p in checked.problems]
    documents = render_documents(checked.plan, checked.layout, FORMATS)
    html = documents["html"].decode()
    assert len(documents["html"]) < 2 * len(_sample_html())  # was 2.9 MB of ticks at 1e-13
    assert "| Of the way to target | \\- |" in documents["md"].decode()  # no division by 0
    labels = re.findall(r">([^<]*)</text>", html.split("<svg", 2)[2].split("</svg>")[0])
    assert "0.01" in labels and "target 0.01" in labels
    assert not [t for t in labels if re.search(r"[0-9][eE][-+]?[0-9]", t)]  # no exponent


def _sample_html() -> bytes:
    checked = check_file(ROOT / "inputs" / "adult-ptsd.json")
    return render_documents(checked.plan, checked.layout, ("html",))["html"]


# --- the JSON Schema and the instruments file say the same -----------------------------


def test_the_schema_states_each_numbers_bounds_and_refuses_past_them(plan_data):
    schema = plan_schema()
    validator = jsonschema.Draft202012Validator(schema)
    version = schema["$defs"]["PlanInfo"]["properties"]["version"]
    assert (version["minimum"], version["maximum"], version["type"]) == (1, 9999, "integer")
    assert "A whole number from 1 to 9,999." in version["description"]
    score = schema["$defs"]["ProgressEntry"]["properties"]["score"]["anyOf"][0]
    assert (score["minimum"], score["maximum"]) == (-100000, 100000)
    for change in (
        lambda p: p["plan"].update(version=10_000),
        lambda p: p["time_estimate"].update(sessions=True),
        lambda p: p["goals"][0]["progress"][0].update(score=100000.01),
        lambda p: p["goals"][1]["measure"].update(baseline=-1),
        lambda p: p.update(plandoc=True),
    ):
        data = copy.deepcopy(plan_data)
        change(data)
        assert list(validator.iter_errors(data))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("max = inf", "must be a finite number"),
        ("max = nan", "must be a finite number"),
        ("max = 1e300", "out of bounds"),
        ("cutoff = 0.125", "more than 2 decimal places"),
    ],
)
def test_a_clinic_measure_has_a_scores_bounds(tmp_path, line, says):
    key = line.split(" =")[0]
    was = next(text for text in WIDE_SCALE.splitlines() if text.startswith(f"{key} ="))
    path = tmp_path / "clinic.toml"
    path.write_text(WIDE_SCALE.replace(was, line))
    with pytest.raises(PlandocError, match=says) as error:
        load_registry(path)
    assert f"WIDE-SCALE.{key}: " in str(error.value)


# --- text: NFC, and ids that are what they show ----------------------------------------


@pytest.mark.parametrize("escaped", [True, False], ids=["json-escapes", "utf-8"])
def test_ids_equal_in_nfc_are_the_same_id(write_plan, plan_data, escaped):
    plan_data["goals"][0]["id"] = "\u00c9"  # É, one character
    plan_data["goals"][1]["id"] = "E\u0301"  # E and a combining accent
    checked = check_file(write_plan(json.dumps(plan_data, ensure_ascii=escaped)))
    assert [(p.field_name, shown(p.message, values=True)) for p in checked.problems] == [
        ("goals[0].id", "id '\u00c9' is used more than once in the plan"),
        ("goals[1].id", "id '\u00c9' is used more than once in the plan"),
    ]


def test_a_method_named_in_either_form_is_found_and_text_reaches_documents_in_nfc(
    write_plan, plan_data
):
    plan_data["methods"][0]["id"] = "M\u00e9"
    for goal in plan_data["goals"]:
        for objective in goal["objectives"]:
            objective["methods"] = ["Me\u0301" if m == "M1" else m for m in objective["methods"]]
    for service in plan_data["services"]:
        if service.get("method") == "M1":
            service["method"] = "Me\u0301"
    plan_data["client"]["name"] = "Jose\u0301 Okafor"
    checked = check_file(write_plan(plan_data))
    assert not checked.failed(), [str(p) for p in checked.problems]
    documents = render_documents(checked.plan, checked.layout, FORMATS)
    assert "Jos\u00e9 Okafor" in documents["md"].decode()
    assert "e\u0301" not in documents["md"].decode()
    assert checked.source.data["client"]["name"] == "Jos\u00e9 Okafor"  # `new --from` copies it


@pytest.mark.parametrize("form", ["json", "md"])
def test_a_plan_written_with_decomposed_text_reads_back_in_nfc(tmp_path, plan_data, form):
    """What `import-fhir` and `new` write reads back as the same plan, in NFC."""
    plan_data["client"]["name"] = "Jose\u0301 Okafor"
    write = new_plan.as_markdown if form == "md" else new_plan.as_json
    path = tmp_path / f"plan.{form}"
    path.write_text(write(plan_data))  # never UnwritablePlan: the same text, composed
    checked = check_file(path)
    assert not checked.failed(), [str(p) for p in checked.problems]
    assert checked.plan.client.name == "Jos\u00e9 Okafor"


def test_keys_are_left_as_written_so_two_never_become_one(write_plan, plan_data):
    plan_data["x-caf\u00e9"] = 1
    plan_data["x-cafe\u0301"] = 2
    checked = check_file(write_plan(plan_data))
    assert not checked.failed()
    assert {k: v for k, v in checked.source.data.items() if k.startswith("x-")} == {
        "x-caf\u00e9": 1,
        "x-cafe\u0301": 2,
    }


@pytest.mark.parametrize(
    ("character", "named"),
    [
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\u200d", "U+200D ZERO WIDTH JOINER"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("\u00ad", "U+00AD SOFT HYPHEN"),
        ("\u2060", "U+2060 WORD JOINER"),
        ("\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
        ("\u3164", "U+3164 HANGUL FILLER"),
        ("\u00a0", "U+00A0 NO-BREAK SPACE"),
        ("\u2028", "U+2028 LINE SEPARATOR"),
        ("\U000e0001", "U+E0001 LANGUAGE TAG"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [("goals", 0, "id"), ("goals", 0, "objectives", 0, "id"), ("methods", 1, "id"),
     ("goals", 1, "objectives", 0, "methods", 0)],
    ids=["goal", "objective", "method", "method reference"],
)  # fmt: skip
def test_an_invisible_character_in_an_id_is_refused_naming_it(
    write_plan, plan_data, character, named, path
):
    _set(plan_data, path, "M" + character + "2")
    checked = check_file(write_plan(plan_data))
    assert checked.failed()
    message = (
        f"holds a character that does not show as itself ({named}, at character 2); "
        "ids that look the same must be the same: remove it"
    )
    assert _messages(checked, path) == [message]
    for problem in checked.problems:  # the id itself is never printed unmarked
        assert character not in problem.text(values=False)


# --- nesting --------------------------------------------------------------------------


def _nested(levels: int) -> object:
    value: object = "leaf"
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


def _with_nested_x(plan_data, levels: int, form: str) -> str:
    """The plan with an `x-` value nested so deep that the whole file has `levels` levels."""
    if form == "json":
        return json.dumps({**plan_data, "x-deep": _nested(levels - 1)}, indent=1)
    yaml_plan = (ROOT / "inputs" / "adolescent-depression.md").read_text()
    front, body = yaml_plan.split("\n---\n", 1)
    return f"{front}\nx-deep: {json.dumps(_nested(levels - 1))}\n---\n{body}"


@pytest.mark.parametrize("form", ["json", "md"])
def test_new_from_a_plan_nested_500_deep_is_one_clear_line(tmp_path, plan_data, form):
    plan = tmp_path / f"plan.{form}"
    plan.write_text(_with_nested_x(plan_data, 500, form))
    out = tmp_path / "next"
    result = CliRunner().invoke(main, ["new", "--from", str(plan), "-o", str(out), "--values"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    first = result.output.splitlines()[0]
    line = int(first.split(":")[1])
    assert (
        first
        == f"{plan}:{line}: nested more than 50 levels deep (lists and sets of keys; docs: Limits)"
    )
    written = plan.read_text().splitlines()
    key = next(number for number, text in enumerate(written, 1) if "x-deep" in text)
    assert key <= line < len(written)  # the line where its 51st level opens
    assert not out.exists()


@pytest.mark.parametrize("form", ["json", "md"])
def test_nesting_to_the_limit_is_taken_and_new_from_copies_it(tmp_path, plan_data, form):
    plan = tmp_path / f"plan.{form}"
    plan.write_text(_with_nested_x(plan_data, MAX_DEPTH, form))
    assert not check_file(plan).failed()
    for output in ("next.json", "next.md"):
        result = CliRunner().invoke(
            main, ["new", "--from", str(plan), "-o", str(tmp_path / output)]
        )
        assert result.exit_code == 0, result.output
    plan.write_text(_with_nested_x(plan_data, MAX_DEPTH + 1, form))
    assert [p.message for p in check_file(plan).problems] == [
        "nested more than 50 levels deep (lists and sets of keys; docs: Limits)"
    ]


def test_brackets_inside_a_text_are_not_nesting(write_plan, plan_data):
    plan_data["goals"][0]["progress"][0]["note"] = "[" * 10_000 + "{" * 10_000
    assert not check_file(write_plan(plan_data)).failed()


@pytest.mark.parametrize("form", ["json", "md"])
def test_a_number_of_5000_digits_is_one_clear_error(write_plan, plan_data, form):
    digits = "9" * 5000  # Python refuses to read more than 4,300 digits as a number
    if form == "json":
        text = json.dumps(plan_data).replace('"version": 2', f'"version": {digits}')
    else:
        text = (ROOT / "inputs" / "adolescent-depression.md").read_text()
        text = text.replace("  version: 1\n", f"  version: {digits}\n", 1)
    checked = check_file(write_plan(text, f"plan.{form}"))
    assert [(p.field_name, p.message) for p in checked.problems] == [
        ("plan.version", "must be a whole number from 1 to 9,999")
    ]


def test_new_from_the_last_version_says_so(tmp_path, plan_data):
    plan_data["plan"]["version"] = NUMBERS["version"].most
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_data))
    result = CliRunner().invoke(main, ["new", "--from", str(plan), "-o", str(tmp_path / "n.json")])
    assert (
        result.exit_code == 1 and "plan.version is 9,999, the last plandoc takes" in result.output
    )
    assert "Traceback" not in result.output


# --- the docs say what the code does ------------------------------------------------------


def test_the_limits_page_states_every_numbers_bounds_and_the_nesting_limit():
    section = (ROOT / "docs" / "limits.md").read_text("utf-8")
    for kind, bounds in NUMBERS.items():
        row = next((line for line in section.splitlines() if f"`{kind}`" in line), None)
        assert row is not None, kind
        assert f"{bounds.least:,}" in row and f"{bounds.most:,}" in row, row
    assert f"| {MAX_DEPTH} levels |" in section


# --- the property: whatever validates renders, everywhere, bounded -----------------------


def _edges(kind: str) -> tuple[list[object], list[object]]:
    """(values a field of `kind` takes, values it refuses), at and around its bounds."""
    bounds = NUMBERS[kind]
    step = Decimal(1).scaleb(-bounds.places)
    least, most = Decimal(bounds.least), Decimal(bounds.most)
    number = int if bounds.places == 0 else float
    inside = [least, most, least + step, most - step, (least + most) // 2]
    inside += [v for v in (Decimal(0), step, -step) if least <= v <= most]
    outside: list[object] = [number(least - step), number(most + step), True, False, 1e308]
    if bounds.places:
        outside += [float(step / 10), 1e-15, -1e-300]
        inside += [least + Decimal("0.25"), most - Decimal("12.75")]
    else:
        outside += [1.5, 10**300]
        inside.append(float(most))  # 16.0 is read as 16
    return [number(v) if isinstance(v, Decimal) else v for v in inside], outside


# (field, its kind, the kind its values in bounds are drawn from: a behaviour's
# progress is a count, which the checks keep from going below 0)
NUMBER_FIELDS = [
    (("plan", "version"), "version", "version"),
    (("revisions", 0, "version"), "version", "version"),
    (("methods", 0, "session_minutes"), "session_minutes", "session_minutes"),
    (("methods", 1, "session_minutes"), "session_minutes", "session_minutes"),
    (("time_estimate", "sessions"), "sessions", "sessions"),
    (("time_estimate", "weeks"), "weeks", "weeks"),
    (("services", 0, "units"), "units", "units"),
    (("goals", 0, "measure", "baseline"), "score", "score"),
    (("goals", 0, "measure", "target"), "score", "score"),
    *((("goals", 0, "progress", i, "score"), "score", "score") for i in range(4)),
    (("goals", 1, "measure", "baseline"), "count", "count"),
    (("goals", 1, "measure", "target"), "count", "count"),
    *((("goals", 1, "progress", i, "score"), "score", "count") for i in range(3)),
    (("assessment", "baseline_measures", 0, "score"), "score", "score"),
]
ON_THE_SCALE = {path for path, kind, _ in NUMBER_FIELDS if kind == "score"} - {
    path for path, _, _ in NUMBER_FIELDS if path[:2] == ("goals", 1)
}
# Texts that any text field takes, and ids (the invisible characters ids refuse are
# tested above); empty and blank texts, which required fields refuse, are drawn rarely.
EDGE_TEXTS = [
    "x",
    "W" * 4000,  # one very long word
    "e\u0301" * 400,  # combining marks, not in NFC
    "Z" + "\u0336" * 300,  # a stack of combining marks on one letter
    "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd 12",  # Arabic, Hebrew, digits
    "\u202eevil\u202c and \u2067isolate\u2069",  # bidi controls
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f3f3\ufe0f\u200d\U0001f308 \u200b",
    "<script>alert(1)</script> &amp; <b>x</b> <!-- c -->",
    "* _ ` ~ # | \\ [a](b) ![c](d) <e> {{ f }} {% g %} {# h #} $x$ ^y^ :smile: 1e308 -0",
    "1. not a list",
    "- not a list",
    "> not a quote",
    "---",
    "\n\n# a heading\n\n| a | b |\n|---|---|\n\n```\ncode\n",
    "a\u2028b\u2029c line\nbreak\r\nand\ttab",
]
BLANK_TEXTS = ["", "   ", "\u00a0\u3000", "\n\t"]
ID_FIELDS = [("goals", 0, "id"), ("goals", 0, "objectives", 0, "id")]
EDGE_IDS = ["G" * 2000, "E\u0301", "\u05d0\u05d1", "<G1>|*#_[x]", "1.", "-", "\ufb01", "\u01c4"]
TEXT_FIELDS = [
    ("client", "name"),
    ("client", "preferred_name"),
    ("goals", 0, "statement"),
    ("goals", 0, "client_words"),
    ("goals", 0, "objectives", 0, "statement"),
    ("goals", 0, "progress", 1, "note"),
    ("goals", 1, "measure", "behavior"),
    ("goals", 1, "measure", "unit"),
    ("methods", 0, "name"),
    ("methods", 0, "frequency"),
    ("time_estimate", "frequency"),
    ("time_estimate", "note"),
    ("diagnoses", 0, "description"),
    ("services", 0, "description"),
    ("contract", "modality"),
    ("assessment", "history"),
    ("presenting_problem", "text"),
    ("progress_notes", 0, "text"),
    ("signatures", 1, "credentials"),
    ("revisions", 0, "summary"),
]
# Each document is at most this many times the plan file's size, plus a page's worth.
SIZE_FACTOR, SIZE_FLOOR = 16, 256 * 1024
MOST_DOCUMENT = 8 * 1024 * 1024


@st.composite
def edge_plans(draw):
    """Changes to the sample plan: numbers at and around their bounds, texts at the edges.

    Most plans drawn validate (every number in bounds); one in four has one number
    out of bounds, one in ten a blank text, so refusals are tested too.
    """
    one_in = lambda n: draw(st.sampled_from([False] * (n - 1) + [True]))  # noqa: E731
    refused = draw(st.sampled_from(range(len(NUMBER_FIELDS)))) if one_in(4) else None
    scale = draw(st.sampled_from(["WIDE-SCALE", "PCL-5"]))
    numbers = {}
    for index, (path, kind, drawn_from) in enumerate(NUMBER_FIELDS):
        inside, _ = _edges(drawn_from)
        if scale == "PCL-5" and path in ON_THE_SCALE:  # its range's edges: 0 to 80
            inside = [0, 80, 0.01, 79.99, 40, 12.25]
        outside = _edges(kind)[1]
        value = draw(st.sampled_from(outside if index == refused else inside))
        numbers[path] = (value, kind, index == refused)
    plan, revision = numbers[("plan", "version")], numbers[("revisions", 0, "version")]
    if refused is None and revision[0] > plan[0]:  # a revision is never after the plan
        numbers[("plan", "version")], numbers[("revisions", 0, "version")] = revision, plan
    texts = draw(st.dictionaries(st.sampled_from(TEXT_FIELDS), st.sampled_from(EDGE_TEXTS),
                                 max_size=6))  # fmt: skip
    if one_in(10):
        texts[draw(st.sampled_from(TEXT_FIELDS))] = draw(st.sampled_from(BLANK_TEXTS))
    ids = draw(st.lists(st.sampled_from(EDGE_IDS), max_size=2, unique=True))
    return {
        "numbers": numbers,
        "texts": texts,
        "ids": dict(zip(ID_FIELDS, ids, strict=False)),  # as many ids as were drawn
        "scale": scale,
        "unit": draw(st.sampled_from(["highway trips per week", "attacks per week"])),
        "flat": draw(st.booleans()),  # every score of goal 2 equal to its baseline and target
    }


def _edge_plan(plan_data, edges):
    data = copy.deepcopy(plan_data)
    data["revisions"] = [{"version": 1, "date": "2026-08-03", "summary": "First version."}]
    data["goals"][0]["measure"]["instrument"] = edges["scale"]
    data["assessment"]["baseline_measures"][0]["instrument"] = edges["scale"]
    data["goals"][1]["measure"]["unit"] = edges["unit"]
    # Billing is not the point here: no evaluation billed 9,999 times, no 1-minute 90837.
    data["services"] = [s for s in data["services"] if s["cpt"] != "90791"]
    for service in data["services"]:
        service.pop("method", None)
    for path, (value, _, _) in edges["numbers"].items():
        _set(data, path, value)
    if edges["flat"]:
        goal = data["goals"][1]
        for entry in goal["progress"]:
            entry["score"] = goal["measure"]["baseline"]
        goal["measure"]["target"] = goal["measure"]["baseline"]
    for path, text in [*edges["texts"].items(), *edges["ids"].items()]:
        _set(data, path, text)
    return data


@PROPERTY
@given(edges=edge_plans())
def test_a_plan_at_the_edges_of_every_field_renders_everywhere_if_it_validates(
    tmp_path, plan_data, wide, edges
):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_edge_plan(plan_data, edges), indent=1))
    size = path.stat().st_size
    rendered = 0
    for layout in BUILT_IN:
        checked = check_file(path, layout, instruments=wide)
        for field, (value, kind, refused) in edges["numbers"].items():
            if refused and not (edges["flat"] and field[:2] == ("goals", 1)):
                with pytest.raises(ValueError) as error:
                    read_number(value, kind)
                said = shown(str(error.value), values=True)
                assert said in _messages(checked, field), (field, value)
        if checked.plan is None or checked.layout_failed(checked.layout):
            continue
        documents = render_documents(checked.plan, checked.layout, FORMATS, instruments=wide)
        for name, content in documents.items():
            assert len(content) <= min(SIZE_FACTOR * size + SIZE_FLOOR, MOST_DOCUMENT), (
                layout, name, len(content), size
            )  # fmt: skip
        docx.Document(io.BytesIO(documents["docx"]))
        rendered += 1
    event(f"renders in {rendered} of {len(BUILT_IN)} layouts")  # --hypothesis-show-statistics
    if _only_bounds_apply(edges):
        assert rendered == len(BUILT_IN)  # numbers in their bounds: the plan validates


def _only_bounds_apply(edges) -> bool:
    """Every number in its bounds (and a scale's scores in its range), no blank text."""
    return not any(refused for _, _, refused in edges["numbers"].values()) and not any(
        text in BLANK_TEXTS for text in edges["texts"].values()
    )


def test_numbers_at_their_edges_cost_no_more_memory_than_ordinary_ones(plan_data, wide, tmp_path):
    """Rendering a plan whose scores are the widest and the smallest plandoc takes
    (500 of them) peaks at about the memory of the same plan with ordinary scores:
    nothing in a document grows with a number's size or smallness. (At 1e-15 a
    chart once took 292 MB of HTML.)"""

    def plan(scores: list[float], baseline: float, target: float, count: float):
        data = copy.deepcopy(plan_data)
        data["goals"][0]["measure"].update(
            instrument="WIDE-SCALE", baseline=baseline, target=target
        )
        template = data["goals"][0]["progress"][0]
        data["goals"][0]["progress"] = [
            {**template, "date": (dt.date(2026, 8, 3) + dt.timedelta(days=i % 100)).isoformat(),
             "score": score}
            for i, score in enumerate(scores)
        ]  # fmt: skip
        data["goals"][1]["measure"].update(baseline=count, target=0)
        for entry in data["goals"][1]["progress"]:
            entry["score"] = count
        return data

    def peak(data) -> int:
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(data))
        checked = check_file(path, instruments=wide)
        assert not checked.failed(), [str(p) for p in checked.problems][:3]
        tracemalloc.start()
        try:
            render_documents(checked.plan, checked.layout, FORMATS, instruments=wide)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    widest = [(-1) ** i * float(100000 - Decimal(i) / 100) for i in range(MOST_PROGRESS)]
    ordinary = [float(40 + i % 30) for i in range(MOST_PROGRESS)]
    edge = plan(widest, 100000, -100000, 0.01)
    assert len(json.dumps(edge)) < MAX_PLAN_BYTES
    usual_plan = plan(ordinary, 52, 30, 3)
    # Templates, fonts and caches load once, unmeasured: each plan's short texts are
    # remembered by the writers (documents/text_cache.py), so each is rendered once first.
    peak(usual_plan), peak(edge)
    usual, at_edges = peak(usual_plan), peak(edge)
    assert at_edges < 1.5 * usual, (at_edges, usual)
