"""The public crisis lines as data (model/crisis_lines.toml) and the `crisis-lines` check."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest
from pydantic import ValidationError

from plandoc.checks.crisis import crisis_lines
from plandoc.checks.layout_rules import RuleContext
from plandoc.errors import PlandocError
from plandoc.model.crisis_lines import (
    LANGUAGES,
    CrisisLinesFile,
    built_in_lines,
    load_crisis_lines,
)
from plandoc.model.plan import parse_plan

REQUIRED = {  # country: numbers a client copy there must print
    "US": {"988", "911"}, "CA": {"988", "911"}, "GB": {"116 123", "999", "111"},
    "IE": {"116 123", "112"}, "AU": {"13 11 14", "000"}, "NZ": {"1737", "111"},
    "ES": {"024", "112"}, "MX": {"800 911 2000", "911"},
}  # fmt: skip


def _raw():
    text = resources.files("plandoc.model").joinpath("crisis_lines.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_built_in_table_validates_and_holds_each_country_s_lines():
    lines = built_in_lines()
    for country, numbers in REQUIRED.items():
        found = lines.lines_for(country)
        assert numbers <= {line.number for line in found}, country
        assert found[-1].kind == "emergency" or any(line.kind == "emergency" for line in found)
        for line in found:
            assert set(LANGUAGES) <= set(line.labels)
            assert line.source.url.startswith("https://") and line.source.says
    us = lines.lines_for("US")[0]
    assert us.text and us.chat == "988lifeline.org" and "call or text 988" in us.label("en")
    assert us.label("es-MX") == us.labels["es"] and us.label("fr") == us.labels["en"]
    assert lines.lines_for("FR") == ()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d["countries"]["US"]["lines"][0]["label"].pop("es"), "es missing"),
        (lambda d: d["countries"]["US"]["lines"][0].update(number="call 988"), "number"),
        (lambda d: d["countries"].update(us=d["countries"]["US"]), "ISO 3166"),
        (lambda d: d["countries"]["MX"]["lines"].pop(), "emergency"),
        (lambda d: d["countries"]["GB"]["lines"][0]["source"].pop("url"), "url"),
        (lambda d: d["countries"]["GB"]["lines"][0].update(phone="1"), "phone"),
    ],
)
def test_a_malformed_table_is_refused(change, why):
    data = _raw()
    change(data)
    with pytest.raises(ValidationError, match=re.escape(why) if why != "phone" else "Extra"):
        CrisisLinesFile.model_validate(data)


def test_a_clinic_file_adds_a_country_and_replaces_one(tmp_path):
    path = tmp_path / "lines.toml"
    path.write_text(
        '[countries.FR]\nname = "France"\nchecked = 2026-11-30\n\n'
        '[[countries.FR.lines]]\nnumber = "3114"\nkind = "crisis"\n'
        'label = { en = "3114: call 3114", es = "3114: llame al 3114" }\n'
        'source = { document = "d", section = "s", url = "https://example.org", says = "x" }\n\n'
        '[[countries.FR.lines]]\nnumber = "112"\nkind = "emergency"\n'
        'label = { en = "Call 112", es = "Llame al 112" }\n'
        'source = { document = "d", section = "s", url = "https://example.org", says = "x" }\n',
        "utf-8",
    )
    lines = load_crisis_lines(path)
    assert [line.number for line in lines.lines_for("FR")] == ["3114", "112"]
    assert lines.lines_for("US") == built_in_lines().lines_for("US")
    path.write_text('[countries.FR]\nname = "France"\n', "utf-8")
    with pytest.raises(PlandocError, match="lines"):
        load_crisis_lines(path)
    with pytest.raises(PlandocError, match="cannot read"):
        load_crisis_lines(tmp_path / "none.toml")


def test_a_country_with_no_lines_known_is_found(plan_data):
    plan_data["practice"]["country"] = "FR"
    plan, _ = parse_plan(plan_data)
    ((where, detail),) = crisis_lines(plan, RuleContext(None, None))
    assert where == ("practice", "country")
    assert "no public crisis lines for" in detail and "FR" in detail
    assert "(it knows: AU, CA, ES, GB, IE, MX, NZ, US)" in detail
    assert "practice.crisis_phone" in detail
    plan_data["practice"]["country"] = "US"  # every line checked against its source
    assert list(crisis_lines(parse_plan(plan_data)[0], RuleContext(None, None))) == []
    plan_data["practice"]["country"] = "IE"  # lines known, not yet checked: never printed
    found = [d for _, d in crisis_lines(parse_plan(plan_data)[0], RuleContext(None, None))]
    assert any("116 123" in d and "not yet checked" in d for d in found)
