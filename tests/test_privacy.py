"""Protected health information stays where it belongs.

Plan values reach only the terminal of the person running the command: never a
log, a pipe, a JSON report or a file, and not even the terminal with
--no-values. Input file names (which a clinic may have made from client names)
stay out of JSON reports unless asked for, and a file named after its client
is a warning. The client copy never shows billing or internal content, whatever
that content is.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from plandoc.checks.file import check_file
from plandoc.checks.plan_checks import plan_id_problem
from plandoc.cli import display, main
from plandoc.documents.documents import render_documents
from plandoc.model.plan import Plan, model_in
from plandoc.problems import HIDDEN_VALUE, plan_value, shown

from .conftest import SAMPLES
from .test_layouts import _plan_with_every_internal_field

PROPERTY = settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "40")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


# Each case puts one plan value where a message would quote it; the secret is that value.
def _unknown_key(d):
    d["client"]["zqsecretkey"] = "x"


def _unknown_instrument(d):
    d["goals"][0]["measure"]["instrument"] = "ZQ-SECRET-9"


def _unknown_method(d):
    d["goals"][0]["objectives"][0]["methods"] = ["MZQSECRET"]


def _duplicate_goal_id(d):
    d["goals"][0]["id"] = d["goals"][1]["id"] = "GZQSECRET"


def _bad_diagnosis(d):
    twice = {"code": "F50.89", "description": "x", "primary": False}
    d["diagnoses"] += [twice, twice]


def _impossible_date(d):
    d["client"]["date_of_birth"] = "1983-02-29"


def _score_out_of_range(d):
    d["goals"][0]["progress"][0]["score"] = 4471.5


def _custom_key_with_a_control_character(d):
    d["x-zqsecret"] = "a\x00b"


def _unknown_layout(d):
    d["plan"]["layout"] = "ZQXPHI"


def _bad_layout_name(d):
    d["plan"]["layout"] = "ZQX PHI/.."


CASES = {
    "unknown key": (_unknown_key, "zqsecretkey"),
    "unknown instrument": (_unknown_instrument, "ZQ-SECRET-9"),
    "unknown method": (_unknown_method, "MZQSECRET"),
    "duplicate goal id": (_duplicate_goal_id, "GZQSECRET"),
    "diagnosis twice": (_bad_diagnosis, "F50.89"),
    "impossible date": (_impossible_date, "1983-02-29"),
    "score out of range": (_score_out_of_range, "4471.5"),
    "custom key": (_custom_key_with_a_control_character, "zqsecret"),
    "unknown plan layout": (_unknown_layout, "ZQXPHI"),
    "bad plan layout name": (_bad_layout_name, "ZQX PHI"),
}


@pytest.fixture
def as_terminal(monkeypatch):
    """Make plandoc believe its output goes to a terminal."""
    monkeypatch.setattr(display, "_is_terminal", lambda stream: True)


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_plan_value_reaches_only_the_terminal_of_the_person_running_the_command(
    write_plan, plan_data, tmp_path, tmp_path_factory, case
):
    change, secret = CASES[case]
    change(plan_data)
    path = write_plan(plan_data, "TP-2026-0042.json")
    shown_to_terminal = _run("validate", path, "--values")
    assert shown_to_terminal.exit_code == 1
    assert secret in shown_to_terminal.output  # the message does quote it: the test can fail
    # A pipe or a log (not a terminal): hidden, and the user is told why once.
    logged = _run("validate", path)
    assert logged.exit_code == 1 and secret not in logged.output
    assert HIDDEN_VALUE in logged.output
    assert logged.output.count("--values shows them") == 1
    # JSON reports: never, even with --values.
    report = _run("validate", path, "--format", "json", "--values")
    assert secret not in report.stdout and json.loads(report.stdout)["plans"][0]["problems"]
    build_report = tmp_path_factory.mktemp("reports") / "build.json"
    built = _run("build", path.parent, "-o", tmp_path / "out", "--report", build_report)
    assert built.exit_code == 1 and secret not in built.output
    assert secret not in build_report.read_text()
    manifest = (tmp_path / "out" / ".plandoc-build.json").read_text()
    assert secret not in manifest


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_no_values_hides_them_from_the_terminal_too(write_plan, plan_data, as_terminal, case):
    change, secret = CASES[case]
    change(plan_data)
    path = write_plan(plan_data, "TP-2026-0042.json")
    on_terminal = _run("validate", path)
    assert secret in on_terminal.output  # a terminal shows values by default
    hidden = _run("validate", path, "--no-values")
    assert hidden.exit_code == 1 and secret not in hidden.output
    assert HIDDEN_VALUE in hidden.output and "--values shows them" not in hidden.output


def test_values_in_markdown_sections_and_yaml_errors_are_hidden(tmp_path):
    plan = (Path(__file__).parents[1] / "inputs" / "adolescent-depression.md").read_text()
    section = tmp_path / "section.md"
    section.write_text(plan.replace("## History", "## Zqsecret Heading"))
    bad_tag = tmp_path / "tag.md"
    bad_tag.write_text("---\nplan: !zqsecret x\n---\n")
    for path in (section, bad_tag):
        result = _run("validate", path, "--no-values")
        assert result.exit_code == 1, result.output
        assert "zqsecret" not in result.output.casefold(), result.output
        assert "zqsecret" in _run("validate", path, "--values").output.casefold()


def test_fhir_import_errors_hide_the_bundles_values(tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:cp",
                "resource": {
                    "resourceType": "CarePlan",
                    "status": "zqsecret",
                    "intent": "plan",
                    "subject": {"reference": "urn:uuid:patient"},
                },
            }
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    hidden = _run("import-fhir", path, "-o", tmp_path / "p.md", "--no-values")
    assert hidden.exit_code == 1 and "zqsecret" not in hidden.output
    assert "zqsecret" in _run("import-fhir", path, "-o", tmp_path / "p.md", "--values").output


MARKS = "\ue000\ue001\ue002\ue003"
VALUE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(MARKS))


@PROPERTY
@given(text=VALUE_TEXT)
def test_no_value_escapes_its_mark_whatever_it_holds(text):
    """A value holding the marks themselves cannot end its mark early and show its tail."""
    message = f"before {plan_value('ZQX' + text + 'XQZ')} after {plan_value(text, quote=True)}"
    hidden = shown(message, values=False)
    assert "ZQX" not in hidden and "XQZ" not in hidden
    assert hidden == f"before {HIDDEN_VALUE} after {HIDDEN_VALUE}"
    assert "\n" not in shown(message, values=True)  # shown, a value never breaks the line


KEYS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


@PROPERTY
@given(key=KEYS, where=st.sampled_from([(), ("client",), ("goals", 0), ("methods", 0)]),
       instrument=KEYS, method=KEYS)  # fmt: skip
def test_any_text_the_author_wrote_is_hidden_from_messages(
    tmp_path, plan_data, key, where, instrument, method
):
    plan_data = copy.deepcopy(plan_data)  # the fixture is made once for all examples
    secret_key = f"QZK{key}"
    target = plan_data
    for part in where:
        target = target[part]
    target[secret_key] = "x"
    plan_data["goals"][0]["measure"]["instrument"] = f"QZI{instrument}"
    plan_data["goals"][0]["objectives"][0]["methods"] = [f"QZM{method}"]
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    checked = check_file(tmp_path / "plan.json")
    assert checked.all_problems
    for problem in checked.all_problems:
        for text in (problem.text(values=False), json.dumps(problem.as_dict(names=False))):
            assert "QZK" not in text and "QZI" not in text and "QZM" not in text, text
    everything = " ".join(str(p) for p in checked.all_problems)
    assert "QZK" in everything  # shown, the values are there: the search is real


def test_a_plan_id_without_an_ids_shape_is_a_value(tmp_path, plan_data):
    """Plan ids are printed everywhere, once they are ids; other text in `plan.id` is not."""
    folder = tmp_path / "plans"
    folder.mkdir()
    for number in range(4):  # the same goals in four plans: the copied-goals warning names them
        plan_data["plan"]["id"] = f"Dana Okafor {number}"
        (folder / f"{number}.json").write_text(json.dumps(plan_data))
    text = _run("validate", folder)
    assert "warning: the same goal statement is in 4 plans" in text.output
    assert "Okafor" not in text.output
    assert "Okafor" in _run("validate", folder, "--values").output
    report = _run("validate", folder, "--format", "json", "--values").stdout
    assert "Okafor" not in report
    assert json.loads(report)["repeated_statements"][0]["plan_ids"] == [None] * 4
    assert {entry["plan_id"] for entry in json.loads(report)["plans"]} == {None}
    plan_data["plan"]["id"] = "TP-2026-0042"
    other = folder / "other.json"
    other.write_text(json.dumps(plan_data))
    compared = _run("diff", folder / "0.json", other)
    assert compared.exit_code == 1 and "is plan [value hidden] and" in compared.output
    assert "Okafor" not in compared.output


def test_a_file_name_never_sends_an_escape_sequence_to_the_terminal(tmp_path):
    """A file in the output folder named like a document is listed, its name escaped."""
    (tmp_path / "plans").mkdir()
    shutil.copy(SAMPLES / "adult-ptsd.json", tmp_path / "plans")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "\x1b[2J\u202e-v1.standard.md").write_text("x")
    built = _run("build", tmp_path / "plans", "-o", tmp_path / "out", "-j", "1", "-f", "md")
    assert built.exit_code == 0 and "kept " in built.output
    assert "\x1b" not in built.output and "\u202e" not in built.output
    assert "\\x1b[2J\\u202e-v1.standard.md" in built.output


def test_plandoc_layouts_says_why_a_layout_cannot_be_used_in_plain_words(tmp_path):
    folder = tmp_path / "layouts" / "bad name"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('title = "X"\n')
    listed = _run("layouts", "--layout-folder", folder.parent)
    assert "(cannot be used: layout name 'bad name': use letters" in listed.output
    assert not MARK.search(listed.output)


# --- file names --------------------------------------------------------------------


def test_reports_name_files_only_when_asked(write_plan, plan_data, tmp_path, tmp_path_factory):
    plan_data["goals"][0]["objectives"][0]["methods"] = ["M9"]
    path = write_plan(plan_data, "zqfolder-name.json")
    report = json.loads(_run("validate", path, "--format", "json").stdout)
    assert "zqfolder" not in json.dumps(report)
    (entry,) = report["plans"]
    assert entry["plan_id"] == "TP-2026-0042" and len(entry["file_key"]) == 16
    named = json.loads(_run("validate", path, "--format", "json", "--show-names").stdout)
    assert named["plans"][0]["file"] == str(path)
    build_report = tmp_path_factory.mktemp("reports") / "build.json"
    _run("build", path.parent, "-o", tmp_path / "out", "--report", build_report)
    text = build_report.read_text()
    assert "zqfolder" not in text and json.loads(text)["plans"][0]["input_key"]
    _run("build", path.parent, "-o", tmp_path / "out", "--report", build_report, "--show-names")
    assert json.loads(build_report.read_text())["plans"][0]["input"] == str(path)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("alex-morgan.json", "client.name"),
        ("Morgan_plan.json", "client.name"),
        ("alexmorgan.json", "client.name"),
        ("plan-1988-03-14.json", "client.date_of_birth"),
        ("19880314.json", "client.date_of_birth"),
        ("M-7731904.json", "client.coverage.member_id"),
    ],
)
def test_a_file_named_after_its_client_is_a_warning_that_does_not_repeat_the_name(
    write_plan, plan_data, name, field
):
    plan_data["client"].update(name="Alex Morgan", date_of_birth="1988-03-14")
    plan_data["client"].setdefault("coverage", {"payer": "P"})["member_id"] = "M-7731904"
    checked = check_file(write_plan(plan_data, name))
    warnings = [p for p in checked.problems if "file name" in p.message]
    assert [p.field_name for p in warnings] == [field]
    assert "Morgan" not in warnings[0].message and "1988" not in warnings[0].message
    assert not checked.failed() and checked.failed(strict=True)


@pytest.mark.parametrize("name", ["TP-2026-0042.json", "plan.json", "morganite-notes.json"])
def test_a_file_named_by_plan_id_is_not(write_plan, plan_data, name):
    plan_data["client"].update(name="Alex Morgan", date_of_birth="1988-03-14")
    checked = check_file(write_plan(plan_data, name))
    assert not [p for p in checked.problems if "file name" in p.message]


# --- the client copy, under fuzzing ------------------------------------------------

INTERNAL = [
    ("client", "coverage", "payer"),
    ("client", "coverage", "plan_name"),
    ("client", "coverage", "member_id"),
    ("client", "coverage", "group_number"),
    ("client", "coverage", "authorization", "number"),
    ("provider", "license"),
    ("assessment", "risk", "summary"),
    ("services", 0, "description"),
    ("diagnoses", 0, "description"),
    ("assessment", "medications", 0),
    ("assessment", "history"),
    ("progress_notes", 0, "text"),
    ("x-internal", "flag"),
]
SECRET_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=0, max_size=40
)


def _client_copy_text(documents):
    texts = [documents["md"].decode(), documents["html"].decode()]
    with zipfile.ZipFile(io.BytesIO(documents["docx"])) as package:
        texts += [
            package.read(name).decode("utf-8")
            for name in package.namelist()
            if name.endswith((".xml", ".rels"))
        ]
    return "\n".join(texts)


@PROPERTY
@given(texts=st.lists(SECRET_TEXT, min_size=len(INTERNAL), max_size=len(INTERNAL)))
def test_the_client_copy_never_shows_billing_or_internal_content_whatever_it_is(
    tmp_path, plan_data, texts
):
    plan_data = _plan_with_every_internal_field(copy.deepcopy(plan_data))
    secrets = {}
    for number, (path, text) in enumerate(zip(INTERNAL, texts, strict=True)):
        secret = f"QZS{number:02d}Q"  # a marker no layout prints, then any text at all
        _set(plan_data, path, f"{secret}{text}")
        secrets[path] = secret
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    checked = check_file(tmp_path / "plan.json", "client-copy")
    assert not checked.failed(), [str(p) for p in checked.all_problems]
    documents = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    text = _client_copy_text(documents)
    for path, secret in secrets.items():
        assert secret not in text, path
    standard = check_file(tmp_path / "plan.json", "standard")
    shown_text = _client_copy_text(
        render_documents(standard.plan, standard.layout, ("md", "html", "docx"))
    )
    assert secrets[("client", "coverage", "member_id")] in shown_text  # the search is real


# --- file permissions ----------------------------------------------------------------


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in [folder, *folder.iterdir()]}


def test_everything_written_is_owner_only_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "inputs")
    assert _run("build", "--report", "reports/build.json").exit_code == 0
    assert _run("new", "TP-9", "-o", "drafts/TP-9.md").exit_code == 0
    assert _run("export-fhir", "inputs/adult-ptsd.json", "-o", "fhir").exit_code == 0
    for folder in ("output", "fhir"):
        modes = _modes(tmp_path / folder)
        assert modes.pop(folder) == 0o700
        assert set(modes.values()) == {0o600}, modes
    assert (tmp_path / "drafts").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "drafts" / "TP-9.md").stat().st_mode & 0o777 == 0o600


def test_plandoc_toml_file_mode_relaxes_it_for_a_clinic_group(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous = os.umask(0o077)  # the mode is what the clinic set, whatever the umask
    try:
        _check_relaxed_modes(tmp_path)
    finally:
        os.umask(previous)


def _check_relaxed_modes(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "inputs")
    assert _run("build").exit_code == 0
    (tmp_path / "plandoc.toml").write_text('file_mode = "0640"\n')
    rebuilt = _run("build", "--report", "reports/build.json")
    assert (
        rebuilt.exit_code == 0 and f"{len(list(SAMPLES.iterdir()))} built" in rebuilt.output
    )  # a new mode rewrites all
    modes = _modes(tmp_path / "output")
    assert modes.pop("output") == 0o700  # a folder that was there is left as it is
    assert set(modes.values()) == {0o640}, modes
    assert (tmp_path / "reports" / "build.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "reports").stat().st_mode & 0o777 == 0o750
    assert _run("render", "inputs/adult-ptsd.json", "-f", "html", "-o", "shared").exit_code == 0
    assert set(_modes(tmp_path / "shared").values()) == {0o750, 0o640}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('"640"', None),
        ('"0666"', "others may never read or write"),
        ('"0604"', "others may never read or write"),
        ('"0644"', "others may never read or write"),
        ('"0660"', None),
        ('"0755"', "never executable"),
        ('"0440"', "owner must be able to read and write"),
        ('"rw-r-----"', "octal mode"),
        ("640", 'write the mode as text, in quotes, such as "0640"'),
    ],
)
def test_a_bad_file_mode_is_one_clear_error(tmp_path, monkeypatch, value, says):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "inputs")
    (tmp_path / "plandoc.toml").write_text(f"strict = false\nfile_mode = {value}\n")
    result = _run("build")
    if says is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and "plandoc.toml:2: file_mode: " in result.output
    assert says in result.output and not (tmp_path / "output").exists()


def test_a_layouts_template_error_hides_the_plan_values_it_quotes(tmp_path):
    folder = tmp_path / "layouts" / "broken"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('extends = "standard"\ntitle = "Broken"\n')
    (folder / "plan.md.j2").write_text("{{ plan.client[plan.client.name] }}\n")
    args = ["render", SAMPLES / "adult-ptsd.json", "-l", "broken", "--layout-folder", folder.parent]
    shown_values = _run(*args, "-o", tmp_path / "a", "-f", "md", "--values")
    assert shown_values.exit_code == 1 and "Dana Okafor" in shown_values.output
    assert "plan.md.j2:1: template error" in shown_values.output
    hidden = _run(*args, "-o", tmp_path / "b", "-f", "md")
    assert hidden.exit_code == 1 and "Dana Okafor" not in hidden.output
    assert "plan.md.j2:1: template error" in hidden.output


# --- every place a plan holds text, through every command that prints ----------------
#
# Not a list of cases: the places are found by walking a plan (every value, every
# key, every field the format has that the plan leaves out, a new key in every
# table) and a Markdown plan's section headings; each command that reads plans
# prints what it prints to a pipe, with --no-values, or as JSON even with --values,
# and writes its reports. `plandoc diff` and the documents show plan content by
# design, and a plan id with an id's shape is printed everywhere (docs: "What plandoc guarantees").

RICH_PLAN = _plan_with_every_internal_field(json.loads((SAMPLES / "adult-ptsd.json").read_text()))
MARKDOWN_PLAN = (SAMPLES / "adolescent-depression.md").read_text("utf-8")


def _model_at(path):
    model = Plan
    for part in path:
        field = model.model_fields.get(part) if model and isinstance(part, str) else None
        if isinstance(part, str):
            model = model_in(field.annotation) if field else None
    return model


def _places(data, path=()):
    """(kind, path) of every place a plan's author can write text."""
    if isinstance(data, dict):
        model = _model_at(path)
        known = model.model_fields.items() if model else []
        fields = [f.alias or name for name, f in known if name != "extensions"]
        for key, value in data.items():
            yield ("key", (*path, key))
            yield from _places(value, (*path, key))
        yield from (("value", (*path, key)) for key in fields if key not in data)
        yield ("new key", path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _places(value, (*path, index))
    else:
        yield ("value", path)


PLACES = list(_places(RICH_PLAN))
HEADINGS = [line for line in MARKDOWN_PLAN.splitlines() if line.startswith("## ")]


def _with_text(data, place, text):
    """A copy of the plan with `text` at the place: a value, a key renamed, or a key added."""
    data = copy.deepcopy(data)
    kind, path = place
    parent = data
    for part in path if kind == "new key" else path[:-1]:
        parent = parent[part]
    if kind == "value":
        parent[path[-1]] = text
    elif kind == "key":
        parent[text] = parent.pop(path[-1])
    else:
        parent[text] = "x"
    return data


def _printed(folder, work, every_command=True):
    """What every command that reads plans prints and writes where plan values never go
    (`render` and the status table print what `validate` and the other status formats do)."""
    run = {
        "validate": ["validate", folder],
        "validate --no-values": ["validate", folder, "--no-values"],
        "validate json": ["validate", folder, "--format", "json", "--values"],
        "build": ["build", folder, "-o", work / "out", "-j", "1", "-f", "md",
                  "--report", work / "build.json"],
        "status json": ["status", folder, "--format", "json"],
        "status csv": ["status", folder, "--format", "csv"],
    }  # fmt: skip
    if every_command:
        run["render"] = ["render", folder, "-o", work / "rendered", "-f", "md"]
        run["status table"] = ["status", folder, "--format", "table"]
    printed = {name: _run(*args).output for name, args in run.items()}
    printed["build report"] = (work / "build.json").read_text()
    printed["build manifest"] = (work / "out" / ".plandoc-build.json").read_text()
    return printed


MARK = re.compile("[\ue000-\ue003]")
SENTINELS = ["ZQXPHI", "=ZQXPHI 'q\"\\ <b>\n\x1b[2J&amp;"]  # a name's shape, and anything


@pytest.mark.slow
@pytest.mark.parametrize("sentinel", SENTINELS, ids=["word", "anything"])
def test_text_in_any_place_of_a_plan_reaches_no_pipe_log_or_report(tmp_path, sentinel):
    """Each place in its own plan, all the plans in one folder, each command run once."""
    folder = tmp_path / "plans"
    folder.mkdir()
    for number, place in enumerate(PLACES):
        if place == ("value", ("plan", "id")) and plan_id_problem(sentinel) is None:
            continue  # a plan id is printed everywhere, by design
        data = copy.deepcopy(RICH_PLAN)
        data["plan"]["id"] = f"TP-{number:04d}"
        data = _with_text(data, place, sentinel)
        (folder / f"{number:04d}.json").write_text(json.dumps(data))
    one_line_sentinel = sentinel.replace("\n", " ")
    for number, heading in enumerate(HEADINGS):
        renamed = MARKDOWN_PLAN.replace(heading, f"## {one_line_sentinel}")
        (folder / f"heading-{number}.md").write_text(renamed.replace("TP-", f"TP-H{number}-"))
    secret = "zqxphi"
    printed = _printed(folder, tmp_path, every_command=False)  # the property test runs all
    for name, text in printed.items():
        assert secret not in text.casefold(), (name, _lines_with(text, secret))
        assert not MARK.search(text), name  # every mark was read by whoever printed it
    # The search is real: shown, the values are there, and hidden, each message still is.
    shown_lines = _run("validate", folder, "--values").output.splitlines()
    hidden_lines = printed["validate"].splitlines()
    quoted = [n for n, line in enumerate(shown_lines) if secret in line.casefold()]
    assert len(quoted) > 50, len(quoted)
    assert all(HIDDEN_VALUE in hidden_lines[n] for n in quoted)


def _lines_with(text, secret):
    return [line for line in text.splitlines() if secret in line.casefold()][:5]


CANARY = st.text(max_size=12).map(lambda text: f"qzc{text}")
CANARY_TREES = st.recursive(
    st.none() | st.booleans() | st.integers() | CANARY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CANARY, inner, max_size=3),
    max_leaves=12,
)
SECTIONS = ["plan", "client", "provider", "assessment", "presenting_problem", "diagnoses",
            "contract", "goals", "methods", "time_estimate", "signatures", "revisions"]  # fmt: skip


@PROPERTY
@example(
    place=("value", ("plan", "layout")), text="qzc", section=None, tree=None, extra=None, form="md"
)  # the layout a plan names (the property finds it only rarely)
@example(
    place=("value", ("plan", "id")), text="qzc x", section=None, tree=None, extra=None, form="json"
)  # a plan id without an id's shape is a value
@given(place=st.sampled_from(PLACES), text=CANARY, section=st.none() | st.sampled_from(SECTIONS),
       tree=CANARY_TREES, extra=st.none() | CANARY_TREES, form=st.sampled_from(["json", "md"]))  # fmt: skip
def test_no_value_from_any_tree_in_any_section_reaches_a_hidden_message(
    tmp_path, place, text, section, tree, extra, form
):
    """Whatever text a plan's author puts wherever, a message with values hidden shows none,
    and no command prints it to a pipe or writes it to a report."""
    assume(place != ("value", ("plan", "id")) or plan_id_problem(text) is not None)
    data = _with_text(RICH_PLAN, place, text)  # any text in any place (plan.layout too)
    if section is not None:
        data[section] = tree  # any tree in any section
    if extra is not None:
        data["qzc-key"] = extra  # and a key of the author's own, holding anything
    work = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example
    path = work / "plans" / f"plan.{form}"
    path.parent.mkdir()
    if form == "json":
        path.write_text(json.dumps(data))
    else:
        path.write_text(f"---\n{yaml.safe_dump(data, allow_unicode=True)}---\n")
    checked = check_file(path)
    if extra is not None:
        assert checked.all_problems  # the plan is broken: there is something to say
    for problem in checked.all_problems:
        for text in (problem.text(values=False), json.dumps(problem.as_dict(names=False))):
            assert "qzc" not in text.casefold(), text
    printed = _printed(path.parent, work)
    printed["new --from"] = _run("new", "--from", path, "-o", work / "next.md").output
    for name, text in printed.items():
        assert "qzc" not in text.casefold(), (name, _lines_with(text, "qzc"))
        assert not MARK.search(text), name
