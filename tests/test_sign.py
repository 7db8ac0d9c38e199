"""`plandoc sign`, the signed content's hash, stale signatures, and how signatures print."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from plandoc.checks.file import check_file, check_path
from plandoc.cli import main
from plandoc.documents.compose import SIGNATURE_LINE, signature_rows
from plandoc.errors import OutputError, PlanError
from plandoc.layouts import find_layout
from plandoc.model.plan import parse_plan
from plandoc.model.signed_content import content_sha256
from plandoc.planfile import sign as signing
from plandoc.planfile.new import as_markdown
from plandoc.planfile.read import read_plan
from plandoc.planfile.sign import SignRefused, sign_file
from plandoc.settings import load_settings

SAMPLES = Path(__file__).resolve().parents[1] / "inputs"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
AS_OF = dt.date(2026, 11, 30)


def _check(path: Path):
    return check_path(path, load_settings(None), None, AS_OF)


def _sign(path: Path, **options):
    options.setdefault("role", "client")
    options.setdefault("name", "Dana Okafor")
    return sign_file(path, _check, now=NOW, **options)


def _unsigned_json(tmp_path: Path, plan_data, text: str | None = None) -> Path:
    plan_data["signatures"] = [
        s for s in plan_data["signatures"] if s["role"] != "client"
    ]  # the clinician's is left, on paper
    path = tmp_path / "plan.json"
    path.write_text(text if text is not None else json.dumps(plan_data, indent=2), "utf-8")
    return path


def _problems(path: Path, layout: str = "standard") -> list[str]:
    checked = check_file(path, layout, today=AS_OF)
    return [str(p) for p in checked.all_problems]


def _one_insertion(old: str, new: str) -> str:
    """`new` is `old` with one run of text inserted: that text (else the test fails)."""
    start = 0
    while start < len(old) and old[start] == new[start]:
        start += 1
    end = 0
    while end < len(old) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    assert start + end == len(old), "bytes of the file other than the new entry changed"
    return new[start : len(new) - end]


# --- signing, then validating -------------------------------------------------------


def test_sign_then_validate_is_clean(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    signed = _sign(path, at="2026-10-29T14:05")
    entry = json.loads(path.read_text("utf-8"))["signatures"][-1]
    assert entry == signed.entry
    assert entry["role"] == "client" and entry["method"] == "electronic"
    assert entry["date"] == "2026-10-29" and entry["signed_at"].startswith("2026-10-29T14:05:00")
    assert len(entry["content_sha256"]) == 64
    for layout in ("standard", "medicare", "managed-care"):
        assert not any("signature" in p for p in _problems(path, layout)), layout


def test_a_copy_a_killed_sign_left_beside_the_plan_is_removed_once_it_is_old(tmp_path, plan_data):
    # A sign killed between writing its temporary file and the rename leaves a hidden
    # copy of the plan (protected health information) beside it.
    path = _unsigned_json(tmp_path, plan_data)
    stale = tmp_path / ".plandoc-0123456789abcdef.part"
    fresh = tmp_path / ".plandoc-fedcba9876543210.part"  # another sign, writing right now
    mine = tmp_path / ".plandoc-notes.part"  # not a name plandoc gives: a person's own file
    for left in (stale, fresh, mine):
        left.write_text(path.read_text("utf-8"), "utf-8")
    old = time.time() - signing.UNFINISHED_AFTER - 60
    os.utime(stale, (old, old))
    os.utime(mine, (old, old))
    _sign(path, at="2026-10-29T14:05")
    assert not stale.exists()
    assert fresh.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, fresh.name, mine.name])


def test_a_name_typed_with_combining_accents_is_signed_as_the_plan_reads_it(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    signed = _sign(path, name="Jose\u0301 Nun\u0303ez", credentials="Psy\u0301D", at="2026-10-29")
    assert (
        signed.entry["name"] == "Jos\u00e9 Nu\u00f1ez"
        and signed.entry["credentials"] == "Ps\u00fdD"
    )
    assert json.loads(path.read_text("utf-8"))["signatures"][-1]["name"] == "Jos\u00e9 Nu\u00f1ez"


def test_a_plan_the_signature_would_take_past_the_size_limit_is_refused_for_that(
    tmp_path, plan_data
):
    from plandoc.planfile.source import MAX_PLAN_BYTES

    path = _unsigned_json(tmp_path, plan_data)
    text = path.read_text("utf-8").rstrip()
    path.write_text(text + " " * (MAX_PLAN_BYTES - len(text.encode()) - 50) + "\n", "utf-8")
    before = path.read_bytes()
    with pytest.raises(SignRefused, match=r"would be larger than a plan file may be \(2 MiB"):
        _sign(path, at="2026-10-29")
    assert path.read_bytes() == before


def test_sign_from_the_command_line(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    result = CliRunner().invoke(
        main,
        ["sign", str(path), "--role", "client", "--name", "Dana Okafor", "--values",
         "--at", "2026-10-29T14:05:00-05:00"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added the client signature of Dana Okafor" in result.output
    entry = json.loads(path.read_text("utf-8"))["signatures"][-1]
    assert entry["signed_at"] == "2026-10-29T14:05:00-05:00"
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0 and "0 warnings" in result.output, result.output


def test_a_wet_signature_recorded_later_needs_no_time(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    _sign(path, method="wet", at="2026-10-29")
    entry = json.loads(path.read_text("utf-8"))["signatures"][-1]
    assert entry["method"] == "wet" and "signed_at" not in entry and entry["date"] == "2026-10-29"
    assert _problems(path) == []


# --- the signed content ---------------------------------------------------------------


def test_a_json_and_a_markdown_file_of_one_plan_hash_the_same(tmp_path):
    data = json.loads((SAMPLES / "adult-ptsd.json").read_text("utf-8"))
    (tmp_path / "plan.md").write_text(as_markdown(data), "utf-8")
    json_plan, _ = parse_plan(read_plan(SAMPLES / "adult-ptsd.json").data)
    md_plan, _ = parse_plan(read_plan(tmp_path / "plan.md").data)
    day = dt.date(2026, 10, 29)
    assert content_sha256(json_plan, day) == content_sha256(md_plan, day)


def test_signatures_revisions_and_later_progress_are_not_signed(plan_data):
    plan, _ = parse_plan(plan_data)
    day = dt.date(2026, 10, 29)
    before = content_sha256(plan, day)
    plan_data["signatures"].append({"role": "other", "name": "A. Friend", "date": "2026-11-01"})
    plan_data["revisions"] = [{"version": 2, "date": "2026-11-02", "summary": "Reviewed."}]
    plan_data["goals"][0]["progress"].append({"date": "2026-11-20", "score": 30})
    plan_data["progress_notes"].append({"date": "2026-11-20", "text": "Doing better."})
    later, _ = parse_plan(plan_data)
    assert content_sha256(later, day) == before
    # Progress dated on or before the day of signing is part of what was signed.
    plan_data["goals"][0]["progress"].append({"date": "2026-10-28", "score": 31})
    earlier, _ = parse_plan(plan_data)
    assert content_sha256(earlier, day) != before


def test_the_samples_signatures_are_current():
    for sample in ("adult-ptsd.json", "adolescent-depression.md"):
        plan, _ = parse_plan(read_plan(SAMPLES / sample).data)
        hashed = [s for s in plan.signatures if s.content_sha256]
        assert hashed, sample
        for signature in hashed:
            assert content_sha256(plan, signature.date) == signature.content_sha256, sample


# --- stale signatures -----------------------------------------------------------------


def _edit_goal(path: Path) -> None:
    data = json.loads(path.read_text("utf-8"))
    data["goals"][0]["statement"] = "Fewer nightmares and flashbacks."
    data["goals"][0]["objectives"][0]["statement"] += " Twice a week."
    path.write_text(json.dumps(data, indent=2), "utf-8")


def test_a_goal_edited_after_signing_is_a_stale_signature(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    _sign(path, at="2026-10-29T14:05")
    _edit_goal(path)
    [standard] = [p for p in _problems(path) if "changed after" in p]
    assert "signatures[1].content_sha256: warning: [standard] the plan changed after" in standard
    assert "(client) signed on" in standard and "sign again or record a revision" in standard
    assert "CMS PIM ch. 3 §3.3.2.4" in standard
    [medicare] = [p for p in _problems(path, "medicare") if "changed after" in p]
    assert "warning" not in medicare.split("[medicare]")[0]  # an error in a payer layout
    assert check_file(path, "medicare", today=AS_OF).failed()
    assert not check_file(path, "standard", today=AS_OF).failed()


def _without_parts(path: Path) -> None:
    """A signature with its content hash only (as written by hand, or before parts)."""
    data = json.loads(path.read_text("utf-8"))
    for signature in data["signatures"]:
        signature.pop("parts_sha256", None)
    path.write_text(json.dumps(data, indent=2), "utf-8")


def test_the_stale_signature_names_the_parts_changed_added_and_removed(tmp_path, plan_data):
    """No copy of what was signed is needed: `parts_sha256` names what changed."""
    path = _unsigned_json(tmp_path, plan_data)
    _sign(path, at="2026-10-29T14:05")
    entry = json.loads(path.read_text("utf-8"))["signatures"][-1]
    goal = plan_data["goals"][0]
    assert {f"goal {goal['id']}", f"objective {goal['objectives'][0]['id']}"} <= set(
        entry["parts_sha256"]
    )
    _edit_goal(path)
    [found] = [p for p in _problems(path) if "changed after" in p]
    named = f"goal {goal['id']} and objective {goal['objectives'][0]['id']} changed"
    assert named in found and "compared with" not in found, found
    data = json.loads(path.read_text("utf-8"))
    data["methods"].append(dict(data["methods"][0], id="M9", name="Sleep hygiene"))
    data["goals"][1]["objectives"].pop()
    data["time_estimate"]["sessions"] += 4
    path.write_text(json.dumps(data, indent=2), "utf-8")
    [found] = [p for p in _problems(path) if "changed after" in p]
    assert "the time estimate" in found and "method M9 added" in found, found
    assert f"objective {plan_data['goals'][1]['objectives'][-1]['id']} removed" in found


def test_the_stale_signature_names_what_changed_when_the_signed_version_is_beside_it(
    tmp_path, plan_data
):
    path = _unsigned_json(tmp_path, plan_data)
    _sign(path, at="2026-10-29T14:05")
    _without_parts(path)
    shutil.copy(path, tmp_path / "plan-as-signed.json")
    _edit_goal(path)
    [found] = [p for p in _problems(path) if "changed after" in p]
    goal = plan_data["goals"][0]
    named = f"goal {goal['id']} and objective {goal['objectives'][0]['id']} changed"
    assert named in found and "plan-as-signed.json" in found, found


def test_the_stale_signature_names_the_revisions_recorded_since(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    _sign(path, at="2026-10-29T14:05")
    _without_parts(path)
    data = json.loads(path.read_text("utf-8"))
    data["goals"][0]["statement"] = "Fewer nightmares."
    data["revisions"] = [{"version": 2, "date": "2026-11-03", "summary": "Goal reworded."}]
    path.write_text(json.dumps(data, indent=2), "utf-8")
    [found] = [p for p in _problems(path) if "changed after" in p]
    assert "recorded since: revision 2 of 2026-11-03" in found


def test_signatures_without_a_hash_are_taken_as_they_are(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    _edit_goal(path)
    assert not any("changed after" in p for p in _problems(path))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"signed_at": "2026-10-30T09:00:00-05:00"},
            "signatures[0].signed_at",
            "must be the same day",
        ),
        ({"signed_at": "2026-10-29T09:00:00"}, "signatures[0].signed_at", "with its UTC offset"),
        ({"method": "typed"}, "signatures[0].method", "'wet' or 'electronic'"),
        ({"content_sha256": "abc"}, "signatures[0].content_sha256", "64 lowercase hex digits"),
    ],
)
def test_bad_signature_keys_are_one_line_each(tmp_path, plan_data, change, field, message):
    plan_data["signatures"][0].update(change)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_data, indent=2), "utf-8")
    problems = _problems(path)
    key = f'"{next(iter(change))}"'
    lines = path.read_text().splitlines()
    start = next(n for n, text in enumerate(lines) if '"signatures"' in text)
    line = next(n for n, text in enumerate(lines, 1) if n > start and key in text)
    assert any(f"plan.json:{line}: {field}: " in p and message in p for p in problems), problems


# --- every other byte kept ------------------------------------------------------------

COMPACT_JSON = """{
\t"plandoc": 1,
\t"signatures": [
\t\t{
\t\t\t"role": "clinician",
\t\t\t"name": "Morgan Reyes",
\t\t\t"date": "2026-10-29"
\t\t}
\t]
}"""


def test_json_keeps_every_byte_but_the_new_entry_in_the_files_own_style(tmp_path, plan_data):
    sample = (SAMPLES / "adult-ptsd.json").read_text("utf-8")
    path = tmp_path / "adult-ptsd.json"
    path.write_text(sample.replace('"role": "client"', '"role": "other"'), "utf-8")
    old = path.read_text("utf-8")
    signed = _sign(path, at="2026-10-29T14:05-05:00")
    inserted = _one_insertion(old, path.read_text("utf-8"))
    digest = signed.entry["content_sha256"]
    parts = json.dumps(signed.entry["parts_sha256"])  # one line too
    assert inserted == (  # one line, like the sample's other entries
        ',\n    {"role": "client", "name": "Dana Okafor", "date": "2026-10-29", '
        '"signed_at": "2026-10-29T14:05:00-05:00", "method": "electronic", '
        f'"content_sha256": "{digest}", "parts_sha256": {parts}}}'
    )


def test_json_entries_one_key_a_line_get_a_new_entry_the_same_way(tmp_path):
    text = COMPACT_JSON.replace("\n", "\r\n")
    inserted = _one_insertion(
        text, signing.json_with_signature(text, {"role": "client", "name": "Dana"})
    )
    assert inserted == (',\r\n\t\t{\r\n\t\t\t"role": "client",\r\n\t\t\t"name": "Dana"\r\n\t\t}')


def test_json_without_signatures_gets_the_key_indented_like_the_others():
    text = '{\n  "plandoc": 1,\n  "goals": []\n}\n'
    new = signing.json_with_signature(text, {"role": "client", "name": "Dana"})
    assert new == (
        '{\n  "plandoc": 1,\n  "goals": [],\n  "signatures": [\n'
        '    {"role": "client", "name": "Dana"}\n  ]\n}\n'
    )
    empty = '{\n  "plandoc": 1,\n  "signatures": []\n}\n'
    assert signing.json_with_signature(empty, {"role": "client"}) == (
        '{\n  "plandoc": 1,\n  "signatures": [\n    {"role": "client"}\n  ]\n}\n'
    )


def _commented_markdown(tmp_path: Path) -> Path:
    text = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    text = text.replace("signatures:\n", "# Who signed, and how.\nsignatures:  # on the day\n", 1)
    text = text.replace(
        "  method: electronic\n", "  # at the intake session\n  method: electronic\n"
    )
    end = text.index("\nmedical_necessity:")  # the signatures' last line ends here
    text = text[:end] + "  # by plandoc sign" + text[end:]
    text = text.replace(
        "\nmedical_necessity:", "\n# the supervisor signs at the review\n\nmedical_necessity:", 1
    )
    path = tmp_path / "plan.md"
    path.write_text(text, "utf-8")
    return path


def test_markdown_keeps_its_body_and_front_matter_comments(tmp_path):
    path = _commented_markdown(tmp_path)
    old = path.read_text("utf-8")
    signed = sign_file(
        path, _check, role="supervisor", name="Samuel Ortiz", credentials="PhD, LP",
        at="2026-11-02T09:30-05:00", now=NOW,
    )  # fmt: skip
    new = path.read_text("utf-8")
    inserted = _one_insertion(old, new)
    head, parts = inserted.split("  parts_sha256:\n")
    assert head == (
        "- role: supervisor\n"
        "  name: Samuel Ortiz\n"
        "  credentials: PhD, LP\n"
        "  date: 2026-11-02\n"
        "  signed_at: 2026-11-02T09:30:00-05:00\n"
        "  method: electronic\n"
        f"  content_sha256: {signed.entry['content_sha256']}\n"
    )
    lines = parts.splitlines()  # one a part, under the key (a hash of digits quoted)
    assert all(line.startswith("    ") for line in lines)
    assert yaml.safe_load(parts) == signed.entry["parts_sha256"]
    # After the last entry's last line (its comment kept), before the comment after the list.
    assert "  # by plandoc sign\n" + inserted + "# the supervisor signs" in new
    assert _problems(path) == [p for p in _problems(path) if "changed after" not in p]


def test_markdown_with_an_empty_list_or_no_signatures(tmp_path):
    text = "---\nplandoc: 1\nsignatures: []  # none yet\nz: 1\n---\n\n# Body\n"
    entry = {"role": "client", "name": "Dana", "date": "2026-10-29"}
    assert signing.markdown_with_signature(text, entry) == (
        "---\nplandoc: 1\nsignatures:  # none yet\n- role: client\n  name: Dana\n"
        "  date: 2026-10-29\nz: 1\n---\n\n# Body\n"
    )
    text = "---\r\nplandoc: 1\r\n# end\r\n---\r\nBody\r\n"
    assert signing.markdown_with_signature(text, entry) == (
        "---\r\nplandoc: 1\r\n# end\r\nsignatures:\r\n- role: client\r\n  name: Dana\r\n"
        "  date: 2026-10-29\r\n---\r\nBody\r\n"
    )


def test_replace_puts_the_new_entry_in_place_of_the_old(tmp_path):
    path = tmp_path / "adult-ptsd.json"
    shutil.copy(SAMPLES / "adult-ptsd.json", path)
    old = path.read_text("utf-8")
    _sign(path, at="2026-11-02T10:00", replace=True)
    new = path.read_text("utf-8")
    old_lines, new_lines = old.splitlines(), new.splitlines()
    changed = [n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(changed) == 1 and '"date": "2026-11-02"' in new_lines[changed[0]]


# --- refused, nothing written -----------------------------------------------------------


def _refused(path: Path, error: type[Exception], message: str, **options) -> None:
    before = path.read_bytes()
    with pytest.raises(error) as raised:
        _sign(path, **options)
    assert message in raised.value.message
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_plan_that_does_not_validate_is_not_signed(tmp_path, plan_data):
    del plan_data["goals"][0]["objectives"]
    path = _unsigned_json(tmp_path, plan_data)
    _refused(path, PlanError, "does not validate")
    result = CliRunner().invoke(main, ["sign", str(path), "--role", "client", "--name", "D"])
    assert result.exit_code == 1 and "goals[0].objectives: " in result.output


def test_a_second_signature_of_a_role_needs_replace(tmp_path):
    path = tmp_path / "adult-ptsd.json"
    shutil.copy(SAMPLES / "adult-ptsd.json", path)
    _refused(path, SignRefused, "the client signature is already recorded", at="2026-11-02")


@pytest.mark.parametrize(
    ("at", "message"),
    [("2026-12-01T09:00", "is in the future"), ("2026-12-25", "is in the future"),
     ("2026-01-02T10:00", "before the plan was created"), ("yesterday", "give a date and time")],
)  # fmt: skip
def test_a_time_in_the_future_or_before_the_plan_is_refused(tmp_path, plan_data, at, message):
    path = _unsigned_json(tmp_path, plan_data)
    _refused(path, SignRefused, message, at=at)


def test_an_unknown_role_lists_the_roles(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    result = CliRunner().invoke(main, ["sign", str(path), "--role", "nurse", "--name", "D"])
    assert result.exit_code == 2
    for role in ("client", "guardian", "clinician", "supervisor", "other"):
        assert role in result.output
    _refused(path, SignRefused, "unknown role", role="nurse")


def test_a_file_changed_on_disk_while_signing_is_not_overwritten(tmp_path, plan_data, monkeypatch):
    path = _unsigned_json(tmp_path, plan_data)
    real = signing.json_with_signature

    def someone_saves_meanwhile(text, entry, replace=None):
        path.write_text(text.replace("Dana Okafor", "Dana Okafor-Reyes"), "utf-8")
        return real(text, entry, replace)

    monkeypatch.setattr(signing, "json_with_signature", someone_saves_meanwhile)
    saved = None
    with pytest.raises(OutputError, match="changed on disk"):
        try:
            _sign(path, at="2026-10-29T14:05")
        finally:
            saved = path.read_text("utf-8")
    assert "Dana Okafor-Reyes" in saved and "content_sha256" not in saved
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


# --- printing -------------------------------------------------------------------------


def test_each_kind_of_signature_prints_as_it_was_made():
    plan, _ = parse_plan(read_plan(SAMPLES / "adolescent-depression.md").data)
    rows = {row.role: row for row in signature_rows(plan, find_layout("standard"))}
    assert rows["Clinician"].signed == (
        "Electronically signed by Priya Natarajan, LPC on 2026-09-15 at 16:40 UTC-05:00"
    )
    assert (rows["Client"].signed, rows["Client"].date) == ("Signed on paper", "2026-09-15")
    assert (rows["Clinical supervisor"].signed, rows["Clinical supervisor"].date) == (
        SIGNATURE_LINE, SIGNATURE_LINE,
    )  # fmt: skip
    medicare = {r.role: r for r in signature_rows(plan, find_layout("medicare"))}
    assert medicare["Clinician"].signed.endswith("on 09/15/2026 at 16:40 UTC-05:00")


# --- found by an outside attack -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"name": "Ann\x1b Lee"}, "--name: holds a character no document can carry"),
        ({"name": "Ren\udce9e Roy"}, "--name: not text"),  # a byte that is not UTF-8
        ({"name": "FILL IN: the client's name"}, "--name: a placeholder"),
        ({"credentials": "LC\x07SW"}, "--credentials: holds a character"),
        ({"at": "2026-10-29T10:00+05:30:15"}, "give a date and time"),  # offset seconds
        ({"at": "20261029"}, "give a date and time"),  # another ISO form of a date
        ({"at": "2026-W44-4"}, "give a date and time"),  # a week date
    ],
)
def test_sign_refuses_what_would_leave_the_plan_invalid(tmp_path, plan_data, options, said):
    """Before, each was written and the plan then failed `validate` (or, a byte not UTF-8,
    an internal error)."""
    path = _unsigned_json(tmp_path, plan_data)
    before = path.read_bytes()
    with pytest.raises(SignRefused, match=re.escape(said)):
        _sign(path, **options)
    assert path.read_bytes() == before


def test_a_time_at_utc_plus_14_is_not_in_the_future_when_it_has_passed(tmp_path, plan_data):
    path = _unsigned_json(tmp_path, plan_data)
    tomorrow = (NOW.astimezone(dt.UTC) + dt.timedelta(days=1)).date()
    at = f"{tomorrow}T00:01+14:00"  # before NOW in UTC, tomorrow on the clock there
    if dt.datetime.fromisoformat(at) < NOW:
        signed = _sign(path, at=at)
        assert signed.entry["signed_at"].endswith("+14:00")
        assert not [p for p in _problems(path) if "signed_at" in p]
