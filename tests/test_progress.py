"""Progress and outcomes: the instrument registry, progress per goal, flags, and charts."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from PIL import Image

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents import charts
from plandoc.documents.documents import render_documents
from plandoc.errors import PlandocError
from plandoc.layouts import find_layout
from plandoc.model.instruments import built_in_registry, load_registry
from plandoc.model.progress import ProgressRules, plan_progress

AS_OF = dt.date(2026, 11, 26)


def phq9_goal(plan_data, scores, baseline=16, target=4, target_date="2027-06-01"):
    """Goal G1 measured on the PHQ-9, with a score every four weeks from the plan's start."""
    goal = plan_data["goals"][0]
    goal["measure"] = {"instrument": "PHQ-9", "baseline": baseline, "target": target}
    goal["target_date"] = target_date
    start = dt.date(2026, 8, 3)
    goal["progress"] = [
        {"date": (start + dt.timedelta(days=28 * i)).isoformat(), "score": score}
        for i, score in enumerate(scores)
    ]
    goal.pop("status", None)
    plan_data["assessment"]["baseline_measures"] = []
    return plan_data


def progress_of(write_plan, plan_data, as_of=AS_OF, rules=None):
    checked = check_file(write_plan(plan_data), today=as_of)
    assert checked.plan is not None and not checked.failed(), [str(p) for p in checked.problems]
    return plan_progress(checked.plan, built_in_registry(), rules or ProgressRules(), as_of)


# --- the registry ------------------------------------------------------------


def test_the_registry_holds_the_published_figures():
    phq9 = built_in_registry().find("phq-9")
    assert (phq9.min, phq9.max, phq9.lower_is_better, phq9.loinc) == (0, 27, True, "44261-6")
    assert [(b.min, b.max, b.label) for b in phq9.bands] == [
        (0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
        (15, 19, "moderately severe"), (20, 27, "severe"),
    ]  # fmt: skip
    assert phq9.responded(16, 8) and not phq9.responded(16, 9)
    assert phq9.in_remission(4) and not phq9.in_remission(5)
    gad7 = built_in_registry().find("GAD-7")
    assert gad7.loinc == "70274-6" and [b.max for b in gad7.bands] == [4, 9, 14, 21]
    assert built_in_registry().find("PCL-5").cutoff == 33
    assert built_in_registry().find("PC-PTSD-5").max == 5
    assert built_in_registry().find("AUDIT-C").max == 12
    assert built_in_registry().find("PHQ-A") is not None
    assert built_in_registry().find_behavior("Attacks per  WEEK").name == "panic-attacks"


def test_every_band_table_covers_its_range_without_gaps():
    for instrument in built_in_registry().instruments.values():
        if instrument.bands:
            assert instrument.bands[0].min == instrument.min, instrument.name
            assert instrument.bands[-1].max == instrument.max, instrument.name
            for lower, upper in zip(instrument.bands, instrument.bands[1:], strict=False):
                assert upper.min > lower.max, instrument.name


def test_a_clinic_adds_its_own_measure_in_plandoc_toml(tmp_path, monkeypatch, plan_data):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "measures.toml").write_text(
        '[WEMWBS]\ntitle = "Warwick-Edinburgh Mental Wellbeing Scale"\nmin = 14\nmax = 70\n'
        "lower_is_better = false\nmeaningful_change = 3\n"
    )
    goal = plan_data["goals"][0]
    goal["measure"] = {"instrument": "WEMWBS", "baseline": 30, "target": 50}
    goal["progress"] = [{"date": "2026-09-01", "score": 36}]
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    runner = CliRunner()
    unknown = runner.invoke(main, ["validate", "plan.json", "--as-of", "2026-11-26", "--values"])
    assert unknown.exit_code == 1 and "unknown instrument 'WEMWBS'" in unknown.output
    (tmp_path / "plandoc.toml").write_text('instruments = "measures.toml"\n')
    known = runner.invoke(main, ["validate", "plan.json", "--as-of", "2026-11-26"])
    assert known.exit_code == 0, known.output
    goal["progress"][0]["score"] = 71
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    out_of_range = runner.invoke(
        main, ["validate", "plan.json", "--as-of", "2026-11-26", "--values"]
    )
    assert "71 is outside the WEMWBS range (14 to 70)" in out_of_range.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[PHQ-9]\ntitle = "x"\nmin = 0\nmax = 27\nlower_is_better = true\n', "is built in"),
        ('[X]\ntitle = "x"\nmin = 0\nmax = 9\nlower_is_better = true\nlowr = 1\n',
         "measures.toml:6: X.lowr: unknown key"),
        ('[X]\ntitle = "x"\nmin = 0\nlower_is_better = true\n', "measures.toml:1: X: max: missing (a scale has a score range)"),
        ('[X]\ntitle = "x"\nmin = 0\nmax = 9\nlower_is_better = true\n'
         'bands = [{ min = 0, max = 3, label = "a" }, { min = 5, max = 9, label = "b" }]\n',
         None),
        ('[X]\ntitle = "x"\nmin = 0\nmax = 9\nlower_is_better = true\n'
         'bands = [{ min = 0, max = 3, label = "a" }]\n', "must cover the whole range"),
        ('[X]\nkind = "behavior"\ntitle = "x"\nmin = 0\nlower_is_better = true\n',
         "X: unit: missing"),
        ("[X\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_clinic_measures_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "measures.toml"
    path.write_text(text)
    if message is None:  # bands with a gap between whole scores are fine (3, then 5)
        assert load_registry(path).find("X") is not None
        return
    with pytest.raises(PlandocError, match=re.escape(message)):
        load_registry(path)


# --- progress per goal ---------------------------------------------------------


def test_progress_states_baseline_latest_band_change_and_share_of_the_way(write_plan, plan_data):
    progress = progress_of(write_plan, phq9_goal(plan_data, [16, 12, 8]))["G1"]
    assert [p.score for p in progress.points] == [16, 12, 8]
    assert (progress.latest.score, progress.band, progress.baseline_band) == (
        8,
        "mild",
        "moderately severe",
    )
    assert progress.change == -8 and progress.improvement == 8
    assert progress.percent_text == "67%"  # 8 of the 12 points from 16 to 4
    assert progress.responded is True and progress.in_remission is False
    assert progress.flags == ()


def test_a_baseline_before_the_first_score_starts_the_line(write_plan, plan_data):
    phq9_goal(plan_data, [])
    plan_data["goals"][0]["progress"] = [{"date": "2026-09-15", "score": 11}]
    progress = progress_of(write_plan, plan_data)["G1"]
    assert [(p.date.isoformat(), p.score, p.baseline) for p in progress.points] == [
        ("2026-08-03", 16, True), ("2026-09-15", 11, False),
    ]  # fmt: skip


def test_a_behaviour_the_registry_does_not_know_reads_its_direction_from_the_target(
    write_plan, plan_data
):
    progress = progress_of(write_plan, plan_data)["G2"]  # highway trips: 0 -> 5
    assert progress.lower_is_better is False and progress.improvement == 3
    assert progress.percent_text == "60%"


# --- "is it working" flags: each with a plan that trips it and one that does not -----


@pytest.mark.parametrize(
    ("scores", "kinds"),
    [
        ([16, 15, 16, 16], {"stalled"}),  # 15 -> 16 -> 16: no better over the last three
        ([16, 15, 14, 13], set()),
        ([16, 10, 12, 15], {"worsened", "stalled"}),  # 5 worse than its best (10)
        ([16, 10, 12, 14], {"stalled"}),  # 4 worse: under the PHQ-9's 5 points
        ([16, 12], set()),  # too few measurements to call it stalled
        ([16, 21], {"worsened"}),  # 5 worse than the baseline
    ],
)
def test_stalled_and_worsened_goals_are_flagged(write_plan, plan_data, scores, kinds):
    progress = progress_of(write_plan, phq9_goal(plan_data, scores))["G1"]
    assert {flag.kind for flag in progress.flags} == kinds


def test_a_goal_past_its_target_date_and_not_met_is_flagged(write_plan, plan_data):
    phq9_goal(plan_data, [16, 12, 9], target_date="2026-10-01")
    assert {f.kind for f in progress_of(write_plan, plan_data)["G1"].flags} == {"past-target"}
    checked = check_file(write_plan(plan_data), today=AS_OF)
    early = dt.date(2026, 9, 30)  # before the target date
    assert (
        plan_progress(checked.plan, built_in_registry(), ProgressRules(), early)["G1"].flags == ()
    )
    reached = phq9_goal(plan_data, [16, 9, 4], target_date="2026-10-01")
    assert progress_of(write_plan, reached)["G1"].flags == ()
    plan_data["goals"][0]["status"] = "met"
    assert progress_of(write_plan, plan_data)["G1"].flags == ()


def test_a_goal_without_a_recent_score_is_flagged_as_not_measured(write_plan, plan_data):
    # Scores every four weeks from 2026-08-03: the third is on 2026-09-28.
    phq9_goal(plan_data, [16, 12, 8])
    later = dt.date(2026, 9, 28) + dt.timedelta(days=91)
    progress = progress_of(write_plan, plan_data, as_of=later)["G1"]
    flag = next(f for f in progress.flags if f.kind == "not-measured")
    assert flag.text == (
        "the latest score is from 2026-09-28, more than 90 days before 2026-12-28: measure again"
    )
    on_time = progress_of(write_plan, plan_data, as_of=later - dt.timedelta(days=1))["G1"]
    assert "not-measured" not in {f.kind for f in on_time.flags}
    monthly = ProgressRules(not_measured_after=30)
    month_on = dt.date(2026, 9, 28) + dt.timedelta(days=31)
    assert "not-measured" in {
        f.kind for f in progress_of(write_plan, plan_data, month_on, monthly)["G1"].flags
    }
    # No score at all: the baseline is what is old.
    phq9_goal(plan_data, [])
    plan_data["goals"][0]["progress"] = []
    bare = progress_of(write_plan, plan_data, as_of=dt.date(2027, 1, 1))["G1"]
    assert any(f.text.startswith("the baseline is from") for f in bare.flags)
    plan_data["goals"][0]["status"] = "met"  # a closed goal is never flagged
    assert progress_of(write_plan, plan_data, as_of=dt.date(2027, 1, 1))["G1"].flags == ()


def test_a_documents_flags_and_chart_dates_follow_its_layouts_date_format(write_plan, plan_data):
    phq9_goal(plan_data, [16, 12, 8], target_date="2026-10-01")
    checked = check_file(write_plan(plan_data), "medicare", today=AS_OF)
    assert not checked.failed(), [str(p) for p in checked.problems]
    html = render_documents(checked.plan, checked.layout, ("html",))["html"].decode()
    assert 'target date <span class="nowrap">10/01/2026</span> has passed' in html
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert ">09/28/2026</text>" in chart and "2026-09-28" not in chart
    assert "G1: PHQ-9 from 16 at baseline to 8 on 09/28/2026" in chart
    data = html[html.index('class="chart-data"') :]
    assert data.startswith('class="chart-data">G1: PHQ-9 over time: 16 on 08/03/2026; 12 on')
    client = check_file(write_plan(plan_data), "client-copy", today=AS_OF)
    html = render_documents(client.plan, client.layout, ("html",))["html"].decode()
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert ">Sep 28, 2026</text>" in chart  # "%B %-d, %Y", the month abbreviated on the axis


def test_progress_words_say_what_response_and_remission_mean(write_plan, plan_data):
    progress = progress_of(write_plan, phq9_goal(plan_data, [16, 12, 8]))["G1"]
    assert progress.response_text == "yes: 50% better than baseline (response: 50% better or more)"
    assert progress.remission_text == "not yet: latest 8 (remission: below 5)"
    slower = progress_of(write_plan, phq9_goal(plan_data, [16, 14]))["G1"]
    assert slower.response_text == (
        "not yet: 12% better than baseline (response: 50% better or more)"
    )
    behaviour = progress_of(write_plan, plan_data)["G2"]  # highway trips per week
    assert behaviour.measure_text.endswith("(highway trips per week)")
    assert behaviour.title == f"G2: {behaviour.measure_text} over time"
    assert behaviour.response_text == "-" and behaviour.remission_text == "-"
    assert behaviour.change_short == "3 better"  # its unit is in the measure's cell
    assert progress.change_short == progress.change_text == "8 points better"


def test_the_thresholds_come_from_the_layout_manifest(write_plan, plan_data, tmp_path):
    phq9_goal(plan_data, [16, 15, 16, 16])
    stricter = ProgressRules(stalled_after=4)  # 16 -> 15 -> 16 -> 16: 16 is not better than 16
    assert {f.kind for f in progress_of(write_plan, plan_data, rules=stricter)["G1"].flags} == {
        "stalled"
    }
    looser = ProgressRules(stalled_after=5)
    assert progress_of(write_plan, plan_data, rules=looser)["G1"].flags == ()
    manifests = {
        "patient": "stalled_after = 5",
        "too-eager": "stalled_after = 1",
        "misspelt": "stall = 3",
    }
    for name, line in manifests.items():
        (tmp_path / "layouts" / name).mkdir(parents=True)
        (tmp_path / "layouts" / name / "layout.toml").write_text(
            f'extends = "standard"\n[progress]\n{line}\n'
        )
    assert find_layout("patient", [tmp_path / "layouts"]).progress.stalled_after == 5
    with pytest.raises(
        PlandocError, match=r"layout.toml:3: progress.stalled_after: must be 2 to 12"
    ):
        find_layout("too-eager", [tmp_path / "layouts"])
    with pytest.raises(
        PlandocError, match=r"progress\.stall: unknown key; keys are: stalled_after"
    ):
        find_layout("misspelt", [tmp_path / "layouts"])


def test_flags_show_in_the_document_and_in_plandoc_status(write_plan, plan_data, tmp_path):
    phq9_goal(plan_data, [16, 10, 12, 15])
    path = write_plan(plan_data)
    checked = check_file(path, today=AS_OF)
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "> [!WARNING]\n> **Needs attention:** no improvement over the last 3 measurements" in (
        markdown
    )
    assert "5 points worse than 10 on 2026-08-31" in markdown
    html = render_documents(checked.plan, checked.layout, ("html",))["html"].decode()
    assert '<blockquote class="warning">' in html
    result = CliRunner().invoke(
        main, ["status", str(path.parent), "--format", "json", "--as-of", "2026-11-26"]
    )
    row = json.loads(result.output)[0]
    assert {"goal-stalled", "goal-worsened"} <= set(row["flags"])


# --- charts ----------------------------------------------------------------------


def test_the_chart_draws_the_plans_scores_with_its_target_and_trend(write_plan, plan_data):
    progress = progress_of(write_plan, phq9_goal(plan_data, [16, 12, 8]))["G1"]
    svg = charts.svg(progress, "goal-1")
    assert svg.count("<circle") == 3
    labels = re.findall(r'font-weight="bold">(\d+)</text>', svg)
    assert labels == ["16", "12", "8"]
    assert "target 4" in svg and 'role="img"' in svg
    assert '<title id="goal-1-title">G1: PHQ-9 over time</title>' in svg
    assert "G1: PHQ-9 from 16 at baseline to 8 on 2026-09-28 (8 points better" in svg
    for label in ("minimal", "mild", "moderate", "moderately severe", "severe"):
        assert f">{label}</text>" in svg
    layout = charts.chart_layout(progress)
    ys = [y for _, y in layout.points]
    assert ys[0] > ys[1] > ys[2] or ys[0] < ys[1] < ys[2]
    assert "<script" not in svg and "href" not in svg


def test_charts_are_byte_stable_and_follow_the_data(write_plan, plan_data):
    progress = progress_of(write_plan, phq9_goal(plan_data, [16, 12, 8]))["G1"]
    first, second = charts.png(progress), charts.png(progress)
    assert first == second and first.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(first)).size == (1280, 560)
    assert charts.svg(progress, "g") == charts.svg(progress, "g")
    other = progress_of(write_plan, phq9_goal(plan_data, [16, 12, 9]))["G1"]
    assert charts.png(other) != first


def test_every_format_carries_the_chart(write_plan, plan_data):
    phq9_goal(plan_data, [16, 12, 8])
    checked = check_file(write_plan(plan_data), today=AS_OF)
    documents = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    markdown = documents["md"].decode()
    assert "](TP-2026-0042-v2.standard.goal-1.png)" in markdown
    assert documents["goal-1.png"].startswith(b"\x89PNG")
    assert "| 2026-09-28 | 8 |" in markdown  # the same numbers as a table
    html = documents["html"].decode()
    assert html.count("<svg") == 2 and "chart:" not in html
    package = zipfile.ZipFile(io.BytesIO(documents["docx"]))
    assert package.read("word/media/chart1.png") == documents["goal-1.png"]
    assert 'Extension="png"' in package.read("[Content_Types].xml").decode()
    body = package.read("word/document.xml").decode()
    assert 'descr="G1: PHQ-9 from 16 at baseline to 8' in body
    assert 'title="G1: PHQ-9 over time"' in body
    assert len(docx.Document(io.BytesIO(documents["docx"])).inline_shapes) == 2


def test_a_goal_without_a_second_point_has_no_chart_and_layouts_can_turn_charts_off(
    write_plan, plan_data, tmp_path
):
    phq9_goal(plan_data, [])
    plan_data["goals"][1]["progress"] = []
    checked = check_file(write_plan(plan_data), today=AS_OF)
    documents = render_documents(checked.plan, checked.layout, ("md", "html"))
    assert not [name for name in documents if name.endswith(".png")]
    assert "<svg" not in documents["html"].decode()
    folder = tmp_path / "layouts" / "no-charts"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('extends = "standard"\n[progress]\ncharts = false\n')
    assert find_layout("no-charts", [tmp_path / "layouts"]).progress.charts is False


def test_plan_text_cannot_place_a_chart_or_an_image(write_plan, plan_data):
    phq9_goal(plan_data, [16, 12, 8])
    plan_data["presenting_problem"]["text"] = "Look ![here](chart:goal-1) and ![x](http://a/b.png)"
    checked = check_file(write_plan(plan_data), today=AS_OF)
    documents = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    html = documents["html"].decode()
    assert html.count("<svg") == 2  # only the charts of the two goals
    assert "Look ![here](chart:goal-1) and ![x](http://a/b.png)" in html
    assert "<img" not in html
    assert len(docx.Document(io.BytesIO(documents["docx"])).inline_shapes) == 2


def test_a_built_folder_lists_chart_files_as_its_own(tmp_path):
    from plandoc.builds.batch import BuildOptions, build

    inputs = Path(__file__).resolve().parents[1] / "inputs"
    out = tmp_path / "out"
    first = build(BuildOptions(inputs, out))
    charts_made = sorted(p.name for p in out.glob("*.png"))
    assert charts_made and not first.failed
    assert all(name in [o for r in first.records for o in r.outputs()] for name in charts_made)
    second = build(BuildOptions(inputs, out, prune=True))
    assert second.count("current") == len(first.records) and second.pruned == []
    (out / charts_made[0]).unlink()  # a missing chart rebuilds its plan
    assert build(BuildOptions(inputs, out)).count("built") == 1


def test_a_build_reads_the_clinic_measures_and_rebuilds_when_they_change(
    tmp_path, monkeypatch, plan_data
):
    monkeypatch.chdir(tmp_path)
    measures = tmp_path / "measures.toml"
    measures.write_text(
        '[WEMWBS]\ntitle = "Warwick-Edinburgh"\nmin = 14\nmax = 70\nlower_is_better = false\n'
    )
    (tmp_path / "plandoc.toml").write_text('instruments = "measures.toml"\n')
    goal = plan_data["goals"][0]
    goal["measure"] = {"instrument": "WEMWBS", "baseline": 30, "target": 50}
    goal["progress"] = [{"date": "2026-09-01", "score": 36}]
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "plan.json").write_text(json.dumps(plan_data))
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--as-of", "2026-11-26"])
    assert first.exit_code == 0 and "1 built" in first.output, first.output
    assert "1 current" in runner.invoke(main, ["build", "--as-of", "2026-11-26"]).output
    measures.write_text(measures.read_text() + 'bands = [{ min = 14, max = 40, label = "low" }, '
                        '{ min = 41, max = 70, label = "high" }]\n')  # fmt: skip
    again = runner.invoke(main, ["build", "--as-of", "2026-11-26"])
    assert "1 built" in again.output
    assert "| Severity | low |" in (tmp_path / "output" / "TP-2026-0042-v2.standard.md").read_text()
    measures.write_text("[WEMWBS\n")
    broken = runner.invoke(main, ["build"])
    assert broken.exit_code == 1 and "measures.toml:1: not valid TOML" in broken.output


def test_the_built_in_measures_pass_the_model_a_clinics_file_must_pass(tmp_path):
    """plandoc reads its own instruments.toml without the model (start-up time): this is
    the check it would have made, and the registry it builds is the same."""
    from importlib import resources

    from plandoc.model import instruments

    text = resources.files("plandoc.model").joinpath("instruments.toml").read_text("utf-8")
    checked = instruments._parse(text, "instruments.toml")
    assert checked == instruments.built_in_registry().instruments


def test_status_flags_a_current_plan_whose_goal_has_no_recent_score(write_plan, plan_data):
    phq9_goal(plan_data, [16, 12, 8])  # the last score: 2026-09-28
    path = write_plan(plan_data)

    def flags(as_of: str) -> list[str]:
        result = CliRunner().invoke(
            main, ["status", str(path.parent), "--format", "json", "--as-of", as_of]
        )
        return json.loads(result.output)[0]["flags"]

    assert "goal-not-measured" not in flags("2026-12-27")  # 90 days on
    assert "goal-not-measured" in flags("2026-12-28")
    plan_data["plan"]["status"] = "completed"
    write_plan(plan_data)
    assert "goal-not-measured" not in flags("2026-12-28")
