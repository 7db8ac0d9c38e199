"""Billing (issue 16): service codes, session times, add-ons, places of service,
modifiers, the first-listed diagnosis, authorizations, and a clinic's own codes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
from importlib import resources

import pytest

from plandoc.builds.batch import BuildOptions, build
from plandoc.checks.file import check_file, check_path
from plandoc.documents.documents import render_documents
from plandoc.errors import SettingsError
from plandoc.model.service_codes import BuiltInFile, built_in_codes, load_codes
from plandoc.problems import Severity
from plandoc.reports.status import status_row
from plandoc.settings import Settings

AS_OF = dt.date(2026, 11, 26)
PAYERS = ("medicare", "medicaid", "managed-care")
ERROR, WARNING = Severity.ERROR, Severity.WARNING


def _problems(checked, layout=None):
    found = list(checked.problems)
    for name, problems in checked.layout_problems.items():
        if layout is None or name == layout:
            found += problems
    return found


def _at(checked, field, layout=None):
    return [p for p in _problems(checked, layout) if p.field_name == field]


def _check(write_plan, data, layout="standard"):
    return check_file(write_plan(data), layout, today=AS_OF)


# --- the registry ----------------------------------------------------------------


def test_the_built_in_registry_is_valid_and_every_source_it_names_exists():
    text = resources.files("plandoc.model").joinpath("service_codes.toml").read_text("utf-8")
    data = BuiltInFile.model_validate(tomllib.loads(text))
    for code, entry in data.codes.items():
        assert entry.source is None or entry.source in data.sources, code
    for source in data.sources.values():
        assert source.url.startswith("https://") and source.says and source.section
    codes = built_in_codes()
    for code in ("90791", "90832", "90834", "90837", "90833", "90836", "90838", "90785"):
        assert codes.find(code) is not None, code
    for code in ("90839", "90840", "90846", "90847", "90853", "96127", "H0031", "H0032"):
        assert codes.find(code) is not None, code
    for code in ("H0004", "H2011", "H2019", "T1017", "96130", "96131", "96136", "96138"):
        assert codes.find(code) is not None, code
    assert codes.find("99214").code == "99202-99215"  # a range stands for each code in it
    assert codes.find("12345") is None


@pytest.mark.parametrize(
    ("code", "minutes", "fits"),
    [
        ("90832", 15, False), ("90832", 16, True), ("90832", 37, True), ("90832", 38, False),
        ("90834", 37, False), ("90834", 38, True), ("90834", 52, True), ("90834", 53, False),
        ("90837", 52, False), ("90837", 53, True), ("90837", 600, True),
        ("90833", 16, True), ("90836", 52, True), ("90838", 53, True),
        ("90839", 29, False), ("90839", 30, True), ("90839", 74, True), ("90839", 75, False),
    ],
)  # fmt: skip
def test_each_timed_code_holds_exactly_its_minutes(code, minutes, fits):
    assert built_in_codes().find(code).fits(minutes) is fits


def test_the_closest_code_shares_the_longest_beginning_then_the_nearest_number():
    codes = built_in_codes()
    assert codes.closest("90835") == "90834"
    assert codes.closest("H0003") == "H0004"
    assert codes.closest("12345")[0].isdigit()


# --- session times, in every layout ------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "code", "fits_with"),
    [
        (15, "90832", None), (16, "90832", "90832"), (37, "90832", "90832"),
        (38, "90832", "90834"), (37, "90834", "90832"), (38, "90834", "90834"),
        (52, "90834", "90834"), (53, "90834", "90837"), (52, "90837", "90834"),
        (53, "90837", "90837"),
    ],
)  # fmt: skip
def test_the_psychotherapy_time_boundaries(write_plan, plan_data, minutes, code, fits_with):
    plan_data["services"][1].update(cpt=code, minutes=minutes)
    for layout in ("standard", *PAYERS):
        checked = _check(write_plan, plan_data, layout)
        found = _at(checked, "services[1].minutes", layout)
        if fits_with == code:
            assert found == [], (layout, [str(p) for p in found])
            continue
        assert len(found) == 1, (layout, minutes, code)
        expected = WARNING if layout == "standard" else ERROR
        assert found[0].severity is expected
        advice = f"bill {fits_with}" if fits_with else "no code of this kind is for that length"
        assert advice in str(found[0]) and "Novitas" in str(found[0])
        assert checked.layout_failed(checked.layout) is (layout != "standard")


def test_a_service_without_minutes_takes_its_methods_session_length(write_plan, plan_data):
    plan_data["methods"][0]["session_minutes"] = 45  # the service bills 90837 for M1
    checked = _check(write_plan, plan_data, "managed-care")
    [problem] = _at(checked, "services[1].method", "managed-care")
    assert "bill 90834" in str(problem) and problem.line is not None
    plan_data["services"][1].pop("method")  # nothing to measure: nothing said
    assert _at(_check(write_plan, plan_data, "managed-care"), "services[1].method") == []


# --- codes, add-ons, evaluations -----------------------------------------------------


def test_an_unknown_code_is_a_warning_naming_the_closest_known(write_plan, plan_data):
    plan_data["services"][1]["cpt"] = "90835"
    checked = _check(write_plan, plan_data)
    [problem] = _at(checked, "services[1].cpt")
    assert problem.severity is WARNING and "closest known is 90834" in str(problem)
    assert "service_codes" in str(problem) and not checked.failed()


def test_hcpcs_codes_are_accepted_and_a_malformed_code_is_an_error(write_plan, plan_data):
    plan_data["services"][1].update(cpt="H0004", method=None)
    plan_data["services"][1].pop("method")
    assert _at(_check(write_plan, plan_data), "services[1].cpt") == []
    plan_data["services"][1]["cpt"] = "9083"
    [problem] = _at(_check(write_plan, plan_data), "services[1].cpt")
    assert problem.severity is ERROR and "HCPCS code (a letter and 4 digits" in str(problem)


@pytest.mark.parametrize(
    ("add_on", "primary"),
    [("90833", "99214"), ("90785", "90834"), ("90840", "90839"), ("96131", "96130")],
)
def test_an_add_on_needs_its_primary_code(write_plan, plan_data, add_on, primary):
    service = {"cpt": add_on, "description": "Add-on", "frequency": "weekly", "units": 4}
    plan_data["services"] = [service]
    [problem] = _at(_check(write_plan, plan_data), "services[0].cpt")
    assert problem.severity is ERROR and "is an add-on code" in str(problem)
    assert primary[:3] in str(problem)
    plan_data["services"].append({**service, "cpt": primary, "description": "Primary"})
    assert _at(_check(write_plan, plan_data), "services[0].cpt") == []


def test_an_evaluation_requested_more_than_once(write_plan, plan_data):
    plan_data["services"][0]["units"] = 2
    assert _at(_check(write_plan, plan_data), "services[0].units")[0].severity is WARNING
    for layout in PAYERS:
        [problem] = _at(_check(write_plan, plan_data, layout), "services[0].units", layout)
        assert problem.severity is ERROR and "billed once for an episode" in str(problem)


def test_a_service_naming_a_method_the_plan_lacks_is_an_error(write_plan, plan_data):
    plan_data["services"][1]["method"] = "M9"
    [problem] = _at(_check(write_plan, plan_data), "services[1].method")
    assert problem.severity is ERROR and "no method has the id" in str(problem)


# --- the first-listed diagnosis -------------------------------------------------------


@pytest.mark.parametrize("code", ["Z63.0", "Y04.0XXA"])
def test_a_z_or_external_cause_code_first(write_plan, plan_data, code):
    plan_data["diagnoses"][0]["code"] = code
    severities = {}
    for layout in ("standard", *PAYERS):
        found = _at(_check(write_plan, plan_data, layout), "diagnoses[0].code", layout)
        found = [p for p in found if "primary diagnosis" in str(p)]
        assert len(found) == 1 and "I.C.21.a" in str(found[0])
        severities[layout] = found[0].severity
    assert severities == {
        "standard": WARNING, "medicare": ERROR, "medicaid": WARNING, "managed-care": WARNING,
    }  # fmt: skip
    plan_data["diagnoses"][0]["primary"] = False
    plan_data["diagnoses"][1]["primary"] = True  # G47.00 first, the Z code second: fine
    found = _at(_check(write_plan, plan_data, "medicare"), "diagnoses[0].code", "medicare")
    assert [p for p in found if "primary diagnosis" in str(p)] == []


# --- places of service and modifiers ------------------------------------------------------


def test_places_of_service_and_modifiers(write_plan, plan_data):
    service = plan_data["services"][1]
    service.update(place_of_service=2)  # YAML and JSON read 02 as the number 2
    [problem] = _at(_check(write_plan, plan_data), "services[1].place_of_service")
    assert "'02'" in str(problem) and problem.severity is ERROR
    service.update(place_of_service="11", modifiers=["gt"])
    [problem] = _at(_check(write_plan, plan_data), "services[1].modifiers[0]")
    assert "two capital letters" in str(problem) and problem.severity is ERROR
    service.update(place_of_service="98", modifiers=["ZZ", "HO", "HO"])
    checked = _check(write_plan, plan_data)
    assert _at(checked, "services[1].place_of_service")[0].severity is WARNING
    assert _at(checked, "services[1].modifiers[0]")[0].severity is WARNING
    assert "given twice" in str(_at(checked, "services[1].modifiers[2]")[0])
    service.update(modifiers=["95", "HO", "HQ", "59", "25"])
    assert "at most 4" in str(_at(_check(write_plan, plan_data), "services[1].modifiers")[0])


def test_telehealth_modifiers_as_each_payer_layout_asks(write_plan, plan_data):
    plan_data["services"][1]["place_of_service"] = "10"
    [problem] = _at(_check(write_plan, plan_data, "managed-care"), "services[1].modifiers")
    assert problem.severity is WARNING and "no telehealth modifier" in str(problem)
    plan_data["services"][1]["modifiers"] = ["95"]
    assert _at(_check(write_plan, plan_data, "managed-care"), "services[1].modifiers") == []
    [problem] = _at(_check(write_plan, plan_data, "medicare"), "services[1].modifiers[0]")
    assert problem.severity is WARNING and "modifier 95" in str(problem)
    plan_data["services"][1]["modifiers"] = []
    assert _at(_check(write_plan, plan_data, "medicare"), "services[1].modifiers") == []


# --- authorizations --------------------------------------------------------------------


def _authorization(plan_data):
    return plan_data["client"]["coverage"]["authorization"]


def test_bad_authorizations_are_each_one_clear_error(write_plan, plan_data):
    _authorization(plan_data).update(start="2027-02-01", sessions=-1, used=2.5)
    checked = _check(write_plan, plan_data)
    assert "before it starts" in str(_at(checked, "client.coverage.authorization.end")[0])
    assert "whole number from 1" in str(_at(checked, "client.coverage.authorization.sessions")[0])
    assert "whole number from 0" in str(_at(checked, "client.coverage.authorization.used")[0])
    assert all(p.line for p in checked.problems)
    plan_data = json.loads(json.dumps(plan_data))
    _authorization(plan_data).update(start="2026-08-01", sessions=24, used=6)
    plan_data["client"]["coverage"]["authorization_number"] = "AUTH-1"
    [problem] = _at(_check(write_plan, plan_data), "client.coverage.authorization")
    assert "give the authorization number once" in str(problem)


def test_authorization_sessions_period_and_use(write_plan, plan_data):
    _authorization(plan_data).update(sessions=20, used=10)  # 10 left, 16 estimated
    [left] = _at(_check(write_plan, plan_data), "time_estimate.sessions")
    assert left.severity is WARNING and "has" in str(left) and "left" in str(left)
    _authorization(plan_data).update(sessions=30, start="2026-09-01", end="2026-12-31")
    checked = _check(write_plan, plan_data)
    assert "before the authorization starts" in (
        str(_at(checked, "client.coverage.authorization.start")[0])
    )
    assert "after the authorization ends" in (
        str(_at(checked, "client.coverage.authorization.end")[0])
    )
    _authorization(plan_data).update(start="2026-08-01", end="2027-01-31", sessions=10, used=12)
    for layout, severity in (("standard", WARNING), ("managed-care", ERROR)):
        found = _at(_check(write_plan, plan_data, layout), "client.coverage.authorization.used")
        assert [p.severity for p in found] == [severity]


def test_the_older_authorization_number_still_reads_and_shows(write_plan, plan_data):
    plan_data["client"]["coverage"].pop("authorization")
    plan_data["client"]["coverage"]["authorization_number"] = "AUTH-OLD-1"
    checked = _check(write_plan, plan_data, "managed-care")
    assert not checked.failed(), [str(p) for p in checked.all_problems]
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "| Current authorization | AUTH-OLD-1 |" in markdown


def test_the_managed_care_request_shows_the_authorization_and_requests_recurring_services(
    write_plan, plan_data
):
    plan_data["services"][1].update(place_of_service="10", modifiers=["95"])
    checked = _check(write_plan, plan_data, "managed-care")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert (
        "| Current authorization | AUTH-77120, 08/01/2026 to 01/31/2027; 24 sessions "
        "authorized, 6 used, 18 remaining |"
    ) in markdown
    requested = markdown.split("### Services Requested", 1)[1].split("###", 1)[0]
    assert "| 90837 | Psychotherapy, 60 minutes | 60 | weekly | 16 |" in requested
    assert "10 (telehealth, the patient at home) | 95 |" in requested
    assert "| 90791 |" not in requested  # the evaluation is named, not requested
    assert "Evaluations (once for this episode, not part of the request): 90791" in requested


# --- a clinic's own codes ---------------------------------------------------------------

CLINIC_CODES = """
[sources.state]
document = "State behavioral health manual"
section = "4.2"
url = "https://example.org/manual.pdf"
says = "Peer support is billed in 15-minute units."

[codes.H0025]
kind = "HCPCS"
description = "Prevention education"
unit = "15 minutes"
source = "state"

[codes.S9484]
kind = "HCPCS"
description = "Crisis intervention, per hour"
minutes = [30, 90]
"""


def test_a_clinic_adds_its_own_codes_in_a_file_the_settings_name(tmp_path, write_plan, plan_data):
    (tmp_path / "clinic-codes.toml").write_text(CLINIC_CODES)
    plan_data["services"][1].update(cpt="S9484", minutes=120)
    path = write_plan(plan_data)
    plain = check_path(path, Settings(), as_of=AS_OF)
    assert "not a behavioural-health code" in str(_at(plain, "services[1].cpt")[0])
    settings = Settings(service_codes=tmp_path / "clinic-codes.toml")
    clinic = check_path(path, settings, ["medicare"], as_of=AS_OF)
    assert _at(clinic, "services[1].cpt") == []
    [timed] = _at(clinic, "services[1].minutes", "medicare")  # its own range is checked
    assert "30 to 90 minutes" in str(timed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[codes.90834]\nkind = 'CPT'\ndescription = 'Mine'\n", ":1: codes.90834: 90834 is built"),
        ("[codes.99213]\nkind = 'CPT'\ndescription = 'Mine'\n", "99213 is built in"),
        ("[codes.H0099]\nkind = 'CPT'\ndescription = 'x'\n", ":2: codes.H0099.kind: "),
        (
            "[codes.H0099]\nkind = 'HCPCS'\ndescription = 'x'\nadd_on_to = ['H0098']\n",
            ":4: codes.H0099.add_on_to: H0098 is not a code",
        ),
        ("[codes.'90899-90800']\nkind = 'CPT'\ndescription = 'x'\n", "from the lower code"),
        ("[codes.'90800-90899']\nkind = 'CPT'\ndescription = 'x'\n", "overlaps built-in codes"),
        (
            "[codes.H0099]\nkind = 'HCPCS'\ndescription = 'x'\nbogus = 1\n",
            "keys are: kind, description",
        ),
        ("[codes.X1]\nkind = 'CPT'\ndescription = 'x'\n", "not a CPT or HCPCS code"),
        ("[codes.H0099]\nkind = 'HCPCS'\ndescription = 'x'\nminutes = [50, 40]\n", "low end"),
        (
            "[codes.H0099]\nkind = 'HCPCS'\ndescription = 'x'\nsource = 'nope'\n",
            ":4: codes.H0099.source: no [sources.nope]",
        ),
        ("[codes.H0099]\nkind = 'ICD'\ndescription = 'x'\n", "clinic-codes.toml:2: codes.H0099"),
        ("[codes.H0099\n", "not valid TOML"),
    ],
)
def test_a_wrong_clinic_codes_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "clinic-codes.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=None) as raised:
        load_codes(path)
    assert message in str(raised.value)


def test_the_clinic_codes_file_is_part_of_the_build_fingerprint(tmp_path):
    codes = tmp_path / "clinic-codes.toml"
    codes.write_text(CLINIC_CODES)
    options = BuildOptions(tmp_path, tmp_path / "out", service_codes=codes)
    before = options.fingerprint()
    codes.write_text(CLINIC_CODES.replace("[30, 90]", "[30, 95]"))
    assert BuildOptions(tmp_path, tmp_path / "out", service_codes=codes).fingerprint() != before


def test_a_bad_clinic_codes_file_stops_build_before_any_plan(tmp_path):
    (tmp_path / "plandoc.toml").write_text('service_codes = "clinic-codes.toml"\n')
    (tmp_path / "clinic-codes.toml").write_text("[codes.90834]\nkind = 'CPT'\ndescription = 'x'\n")
    (tmp_path / "inputs").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "plandoc", "build"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0 and "90834 is built in" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "output").exists()


# --- the status report -------------------------------------------------------------------


def test_status_shows_sessions_left_and_flags_authorizations_running_out(write_plan, plan_data):
    _authorization(plan_data).update(sessions=24, used=21, end="2026-12-20")
    checked = check_file(write_plan(plan_data), today=AS_OF)
    row = status_row(checked, AS_OF, 30)
    assert row.sessions_left == 3
    assert {"authorization-low", "authorization-ending"} <= set(row.flags)
    assert "authorization-low" not in status_row(checked, AS_OF, 30, sessions_left=3).flags
    later = status_row(checked, dt.date(2026, 12, 21), 30)
    assert "authorization-ended" in later.flags and "authorization-ending" not in later.flags
    plan_data["plan"]["status"] = "completed"  # a finished plan needs no more sessions
    done = status_row(check_file(write_plan(plan_data), today=AS_OF), AS_OF, 30)
    assert not any(flag.startswith("authorization") for flag in done.flags)


def test_build_renders_every_sample_in_every_layout(tmp_path):
    from .conftest import SAMPLES

    for layout in ("standard", "client-copy", *PAYERS):
        result = build(
            BuildOptions(
                SAMPLES, tmp_path / layout, layouts=(layout,), as_of=AS_OF, formats=("md",)
            )
        )
        assert not result.failed, layout


def test_a_clinic_evaluation_code_is_named_not_requested_in_the_managed_care_request(
    tmp_path, write_plan, plan_data
):
    from plandoc.documents.documents import render_checked

    (tmp_path / "clinic-codes.toml").write_text(
        CLINIC_CODES
        + '\n[codes.H0002]\nkind = "HCPCS"\ndescription = "Screening"\nonce = "episode"\n'
    )
    plan_data["services"][0]["cpt"] = "H0002"
    settings = Settings(service_codes=tmp_path / "clinic-codes.toml")
    checked = check_path(write_plan(plan_data), settings, ["managed-care"], as_of=AS_OF)
    [(_, documents)] = list(render_checked(checked, settings, ("md",)))
    requested = documents["md"].decode().split("### Services Requested", 1)[1].split("###")[0]
    assert "| H0002 |" not in requested
    assert "once for this episode, not part of the request): H0002" in requested


def test_an_authorization_without_used_sessions_counts_none_used(write_plan, plan_data):
    _authorization(plan_data).pop("used")
    _authorization(plan_data)["sessions"] = 12  # 16 estimated
    [left] = _at(_check(write_plan, plan_data), "time_estimate.sessions")
    assert "none recorded as used" in str(left)
    checked = check_file(write_plan(plan_data), today=AS_OF)
    assert status_row(checked, AS_OF, 30).sessions_left == 12


def test_the_documents_state_an_overused_or_partial_authorization_as_it_is(write_plan, plan_data):
    _authorization(plan_data).update(sessions=24, used=30)
    checked = _check(write_plan, plan_data, "medicaid")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "24 sessions authorized, 30 used (6 more than authorized)" in markdown
    assert "remaining" not in markdown.split("| Authorization |")[1].split("\n")[0]
    plan_data["client"]["coverage"]["authorization"] = {"used": 5}
    checked = _check(write_plan, plan_data, "medicaid")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "| Authorization | no number; 5 sessions used |" in markdown


def test_an_evaluation_listed_twice_is_caught_in_every_row(write_plan, plan_data):
    plan_data["services"].append(dict(plan_data["services"][0]))
    for layout in PAYERS:
        [problem] = _at(_check(write_plan, plan_data, layout), "services[2].cpt", layout)
        assert problem.severity is ERROR and "listed again" in str(problem)


def test_crisis_time_past_90839s_range_is_billed_with_its_add_on(write_plan, plan_data):
    crisis = {"cpt": "90839", "description": "Crisis", "frequency": "once", "units": 1}
    plan_data["services"] = [{**crisis, "minutes": 90}]
    [problem] = _at(_check(write_plan, plan_data, "medicare"), "services[0].minutes", "medicare")
    assert "30 to 74 minutes" in str(problem)
    plan_data["services"].append({**crisis, "cpt": "90840", "description": "Each 30 more"})
    assert _at(_check(write_plan, plan_data, "medicare"), "services[0].minutes") == []


def test_a_deleted_code_inside_a_primary_range_is_no_primary(write_plan, plan_data):
    visit = {"cpt": "99216", "description": "Visit", "frequency": "monthly", "units": 6}
    add_on = {"cpt": "90833", "description": "Therapy", "frequency": "monthly", "units": 6}
    plan_data["services"] = [visit, add_on]
    checked = _check(write_plan, plan_data)
    assert "is an add-on code" in str(_at(checked, "services[1].cpt")[0])
    assert "closest known is 99221-99239" in str(_at(checked, "services[0].cpt")[0])


def test_a_completed_plan_coded_with_a_deleted_code_still_renders(write_plan, plan_data):
    plan_data["diagnoses"][1]["code"] = "F32.8"  # billable until FY2022, a category since
    plan_data["diagnoses"][1]["description"] = "Other depressive episodes"
    [current] = _at(_check(write_plan, plan_data, "medicare"), "diagnoses[1].code")
    assert current.severity is ERROR
    plan_data["plan"]["status"] = "completed"
    checked = _check(write_plan, plan_data, "medicare")
    [history] = _at(checked, "diagnoses[1].code")
    assert history.severity is WARNING and "release of its day" in str(history)
    assert not checked.any_failed()


def test_the_documented_recipe_makes_telehealth_modifier_an_error_and_keeps_history(
    tmp_path, write_plan, plan_data
):
    from .conftest import ROOT

    text = (ROOT / "docs" / "billing.md").read_text("utf-8")
    recipe = text.split("# clinic-layouts/acme-health/layout.toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "acme-health").mkdir()
    (tmp_path / "acme-health" / "layout.toml").write_text(recipe)
    plan_data["services"][1]["place_of_service"] = "10"
    settings = Settings(layout_folders=(tmp_path,))
    checked = check_path(write_plan(plan_data), settings, ["acme-health"], as_of=AS_OF)
    [problem] = _at(checked, "services[1].modifiers", "acme-health")
    assert problem.severity is ERROR and "Acme Health requires" in str(problem)
    plan_data["plan"]["status"] = "completed"
    checked = check_path(write_plan(plan_data), settings, ["acme-health"], as_of=AS_OF)
    assert not checked.any_failed()


def test_a_lowercase_code_and_a_misspelled_check_get_a_suggestion(tmp_path, write_plan, plan_data):
    from plandoc.errors import LayoutError
    from plandoc.layouts import find_layout

    plan_data["services"][1].update(cpt="h0004")
    plan_data["services"][1].pop("method")
    [problem] = _at(_check(write_plan, plan_data), "services[1].cpt")
    assert "write it in capitals: H0004" in str(problem)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "layout.toml").write_text(
        'name = "mine"\nextends = "standard"\n[[rules]]\nid = "x"\nmessage = "m"\n'
        'source = "s"\ncheck = "service-tme"\n'
    )
    with pytest.raises(LayoutError, match="did you mean 'service-time'"):
        find_layout("mine", [tmp_path])
