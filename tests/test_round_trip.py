"""Writing a plan and reading it back gives the same plan: `read(write(plan)) == plan`.

The guarantee (docs: "The input format"): for any plan as plain data (what the
reader returns: keys, lists, text, numbers, true/false, null), the file that
`new_plan.as_markdown` or `new_plan.as_json` writes reads back as the same data,
types included and key order aside (`new_plan.same_data`), so as the same `Plan`
model with the same `x-` data. `plandoc new --from` and `plandoc import-fhir`
write their plans this way.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plandoc.cli import main
from plandoc.model.plan import parse_plan
from plandoc.planfile.new import UnwritablePlan, as_json, as_markdown, same_data
from plandoc.planfile.read import read_plan
from plandoc.planfile.source import in_nfc
from plandoc.planfile.yaml_text import dump_yaml

from .conftest import SAMPLES

PROPERTY = settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "40")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = "2026-11-26"

# Text that has moved between fields, or broken the file, on its way through Markdown.
HOSTILE = [
    "\n\n## Progress and Outcomes\n\nX", "# Family", "Before\n# Family\nafter", "```",
    "```python\nunclosed", "~~~", "<!--", "<!-- open\n\nstill open", "<script>", "<?x", "<![CDATA[",
    "<div>", "---", "...", "===", "Setext\n===", "Setext\n---", "> ## History", "- # Family",
    "    ## indented", "\t", "a\tb", "\r\n", "\r", "line\r\nnext", "trailing   ", "   leading",
    "\n", "\n\n", "", " ", "\u2028", "\u2029", "\x85", "\ufeff", "\x00", "\x1b", "#", ": ", " #",
    "- ", "? ", "'", '"', "\\", "|", ">", "&anchor", "*alias", "!tag", "%", "@", "`", "{", "[",
    "1e5", "+1", "-1", ".5", "1_000", "0x10", "0o17", "00100", "296.30", "~", "null", "Null",
    "NULL", "true", "True", "FALSE", "yes", "no", "on", "2026-01-01", "2026-01-01T10:00:00Z",
    "12:30", "<<", "=", "x" * 150, "word " * 40, "\U0001f600", "\ud7ff\ue000\ufffd",
]  # fmt: skip
TEXT = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=12), max_size=6).map("".join)
X_KEY = TEXT.map(lambda text: f"x-{text}")
X_VALUE = st.recursive(
    TEXT | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans()
    | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
# Fields whose value the property replaces: the narratives (and the presenting problem as a
# plain text), then inline text.
TEXT_FIELDS = [
    ("presenting_problem",), ("presenting_problem", "text"), ("assessment", "history"), ("assessment", "symptom_onset"),
    ("assessment", "prior_treatment"), ("contract", "summary"), ("progress_notes", 0, "text"),
    ("presenting_problem", "client_words"), ("client", "name"), ("plan", "id"),
    ("goals", 0, "statement"), ("diagnoses", 0, "description"), ("methods", 0, "name"),
    ("goals", 0, "objectives", 0, "statement"), ("presenting_problem", "client_summary"),
    ("methods", 0, "client_description"), ("goals", 0, "objectives", 0, "client_statement"),
]  # fmt: skip
X_PARTS = [(), ("plan",), ("client",), ("goals", 0), ("goals", 0, "objectives", 0)]


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _put(data: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set the value at `path`, unless an earlier change replaced a part of it."""
    for part in path[:-1]:
        if not isinstance(data, dict | list):
            return
        data = data[part]
    if isinstance(data, dict):
        data[path[-1]] = value


def _read(tmp_path: Path, text: str, suffix: str) -> Any:
    path = tmp_path / f"written{suffix}"
    path.write_text(text, "utf-8", newline="")
    source = read_plan(path)
    assert source.problems == [], [str(p) for p in source.problems]
    return source.data


@PROPERTY
@given(
    texts=st.lists(st.tuples(st.sampled_from(TEXT_FIELDS), TEXT | X_VALUE), max_size=6),
    extensions=st.lists(
        st.tuples(st.sampled_from(X_PARTS), st.dictionaries(X_KEY, X_VALUE, max_size=2)),
        max_size=3,
    ),
)
def test_any_plan_reads_back_from_markdown_and_json(tmp_path, plan_data, texts, extensions):
    plan = copy.deepcopy(plan_data)
    for path, value in texts:
        _put(plan, path, value)
    for part, values in extensions:
        _at(plan, part).update(values)
    plan = in_nfc(plan)  # the reader reads every text in NFC (U+2F800 is U+4E3D): so does the test
    model, findings = parse_plan(plan)
    for text, suffix in ((as_markdown(plan), ".md"), (as_json(plan), ".json")):
        back = _read(tmp_path, text, suffix)
        assert same_data(back, plan), suffix
        back_model, back_findings = parse_plan(back)
        assert back_model == model and back_findings == findings  # x- data included
        if model is not None:
            assert back_model.model_dump() == model.model_dump()


JSON_DATA = st.recursive(
    TEXT | st.integers() | st.floats() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)


@PROPERTY
@given(front=st.dictionaries(TEXT, JSON_DATA, min_size=1, max_size=5))
def test_the_front_matter_yaml_reads_back_as_written(tmp_path, front):
    """Any data, any keys, even NaN: the plan's loader reads the dump back as it was."""
    yaml_text = dump_yaml(front)
    assert not any(line.rstrip(" \t") in ("---", "...") for line in yaml_text.split("\n"))
    back = _read(tmp_path, f"---\n{yaml_text}---\n", ".md")
    assert same_data(back, front)


# --- through the command line ------------------------------------------------------------

# Narratives that `new --from p.json --format md` cut short, turned into a progress note,
# into another section, or into a file plandoc could not read.
NARRATIVES = [
    ("assessment", "history", "Grew up in Ohio.\n\n## Progress and Outcomes\n\nX"),
    ("assessment", "history", "Lives with:\n# Family\nher mother and a sister."),
    ("assessment", "history", "A code block left open:\n\n```\nprintf"),
    ("assessment", "history", "A comment left open <!-- and\n\n<!-- here"),
    ("assessment", "symptom_onset", "Since May\n==="),
    ("assessment", "symptom_onset", "Since May\n---\nworse in June"),
    ("presenting_problem", "text", "Low mood.\n\n---\n\n## History\n\nSee above."),
    ("presenting_problem", "text", "Low mood, in the client's words:\n\n> ## I am tired"),
    ("contract", "summary", "Weekly CBT.\r\n\r\n## Treatment Contract\r\nAgain"),
]  # fmt: skip


def _next_versions(tmp_path: Path, plan: dict[str, Any]) -> tuple[Any, Any]:
    """`plandoc new --from` the plan, as Markdown and as JSON; both files as read."""
    old = tmp_path / "plan.json"
    old.write_text(json.dumps(plan), "utf-8")
    written = []
    for suffix in (".md", ".json"):
        target = tmp_path / f"next{suffix}"
        result = CliRunner().invoke(
            main, ["new", "--from", str(old), "--format", suffix[1:], "-o", str(target),
                   "--as-of", TODAY, "--values"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        written.append(_read(tmp_path, target.read_text("utf-8"), suffix))
    return written[0], written[1]


@pytest.mark.parametrize(("part", "key", "text"), NARRATIVES)
def test_new_from_json_to_markdown_keeps_each_narrative_in_its_field(
    tmp_path, plan_data, part, key, text
):
    plan_data[part][key] = text
    as_md, as_json_file = _next_versions(tmp_path, plan_data)
    assert as_md[part][key] == text
    assert as_md["progress_notes"] == plan_data["progress_notes"]
    assert same_data(as_md, as_json_file)


def test_new_from_json_to_markdown_keeps_each_value_s_type(tmp_path, plan_data):
    values = {
        "x-exponent": "1e5", "x-signed": "+1", "x-half": ".5", "x-digits": "00100",
        "x-code": "296.30", "x-word": "no", "x-tilde": "~", "x-null": "Null", "x-true": "True",
        "x-date": "2026-01-01", "x-large": 1e16, "x-small": 5e-324, "x-negative-zero": -0.0,
        "x-int": -7, "x-none": None, "x-spaces": "  both ends  ", "x-tab": "a\tb",
        "x-separators": "a\u2028b\u2029c", "x-bom": "\ufeffmark", "x-cr": "a\rb",
        "x-end": "keeps\n\n", "x-fence": "---", "x-dots": "...", "x-comment": "a # b",
        "x-long": "word " * 60, "x-nested": [{"x-deep": ["1e5", 1e5, "0x10"]}],
    }  # fmt: skip
    plan_data.update(values)
    plan_data["goals"][0].update(values)
    as_md, as_json_file = _next_versions(tmp_path, plan_data)
    for key, value in values.items():
        assert same_data(as_md[key], value), key
        assert same_data(as_md["goals"][0][key], value), key
    assert same_data(as_md, as_json_file)


@pytest.mark.parametrize("text", [text for part, _, text in NARRATIVES if part != "contract"])
def test_import_fhir_to_markdown_keeps_the_presenting_problem(tmp_path, plan_data, text):
    plan_data["presenting_problem"]["text"] = text
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_data), "utf-8")
    runner = CliRunner()
    exported = runner.invoke(main, ["export-fhir", str(plan), "-o", str(tmp_path / "fhir")])
    assert exported.exit_code == 0, exported.output
    (bundle,) = (tmp_path / "fhir").iterdir()
    read = []
    for suffix in (".md", ".json"):
        target = tmp_path / f"imported{suffix}"
        result = runner.invoke(
            main, ["import-fhir", str(bundle), "-o", str(target), "--format", suffix[1:]]
        )
        assert result.exit_code == 0, result.output
        read.append(_read(tmp_path, target.read_text("utf-8"), suffix))
    as_md, as_json_file = read
    assert as_md["presenting_problem"]["text"] == text.strip()
    assert as_md["progress_notes"] == plan_data["progress_notes"]
    assert same_data(as_md, as_json_file)


def test_a_plan_no_file_can_carry_is_one_clear_error(tmp_path, plan_data):
    """A lone surrogate (JSON's `\\ud800`) is no character; NaN is no JSON number."""
    plan_data["presenting_problem"]["text"] = "Low mood \ud800"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_data), "utf-8")
    runner = CliRunner()
    exported = runner.invoke(main, ["export-fhir", str(plan), "-o", str(tmp_path / "fhir")])
    assert exported.exit_code == 1  # the plan's checks refuse it; a bundle can still hold it
    bundle = tmp_path / "bundle.json"
    plan_data["presenting_problem"]["text"] = "Low mood"
    plan.write_text(json.dumps(plan_data), "utf-8")
    runner.invoke(main, ["export-fhir", str(plan), "-o", str(tmp_path / "fhir")])
    (exported_bundle,) = (tmp_path / "fhir").iterdir()
    bundle.write_text(exported_bundle.read_text("utf-8").replace("Low mood", "Low mood \\ud800"))
    for file_format in ("md", "json"):
        target = tmp_path / f"imported.{file_format}"
        result = runner.invoke(
            main, ["import-fhir", str(bundle), "-o", str(target), "--format", file_format]
        )
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "lone surrogate" in result.output  # the import refuses it before writing
        assert not target.exists()
    # Should a plan reach a writer with one anyway, the writer refuses it in one line.
    with pytest.raises(UnwritablePlan, match="cannot be written as Markdown"):
        as_markdown({**plan_data, "x-note": "Low mood \ud800"})
    with pytest.raises(UnwritablePlan, match="cannot be written as JSON"):
        as_json({"x-score": float("nan")})


# --- the reader --------------------------------------------------------------------------


def test_a_heading_inside_a_quote_or_a_list_item_is_not_a_section(tmp_path):
    sample = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    quoted = "In his words:\n\n> ## History\n> I just stopped.\n\n- # Family\n- ## School"
    text = sample.replace("## History\n", f"{quoted}\n\n## History\n", 1)
    path = tmp_path / "plan.md"
    path.write_text(text, "utf-8")
    source = read_plan(path)
    assert source.problems == []
    original = read_plan(SAMPLES / "adolescent-depression.md").data
    assert source.data["presenting_problem"]["text"].endswith(quoted)
    assert source.data["assessment"] == original["assessment"]


def test_a_markdown_plan_with_carriage_return_line_endings_reads_as_with_line_feeds(tmp_path):
    sample = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    path = tmp_path / "plan.md"
    path.write_text(sample.replace("\n", "\r"), "utf-8", newline="")
    source = read_plan(path)
    assert source.problems == []
    assert source.data == read_plan(SAMPLES / "adolescent-depression.md").data


def test_a_kept_block_at_the_end_of_the_front_matter_keeps_its_line_breaks(tmp_path):
    path = tmp_path / "plan.md"
    path.write_text("---\nplandoc: 1\nx-note: |+\n  a\n\n---\n", "utf-8")
    assert read_plan(path).data == {"plandoc": 1, "x-note": "a\n\n"}


@pytest.mark.parametrize(
    "value", ["!!binary aGVsbG8=", "!!set {a: null}", "!!omap [a: 1]", "!!pairs [a: 1]"]
)
def test_yaml_values_json_cannot_hold_are_refused(tmp_path, value):
    path = tmp_path / "plan.md"
    path.write_text(f"---\nplandoc: 1\nx-data: {value}\n---\n", "utf-8")
    source = read_plan(path)
    assert source.data is None
    (problem,) = source.problems
    assert problem.line == 3
    assert f"{value.split()[0]} is not plan data: a plan holds text" in problem.message
