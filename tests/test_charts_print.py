"""Charts on paper (issue 17, part 3): labels that never run together, a target label
clear of the band labels, text the size of the body's, the same bytes every time, and
no chart left alone on a page of the PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import subprocess
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from PIL import Image

from plandoc.checks.file import check_file
from plandoc.documents import charts
from plandoc.documents.documents import render_documents
from plandoc.model.instruments import built_in_registry
from plandoc.model.progress import GoalProgress, Point
from tests.test_pdf import needs_pdf

SAMPLES = Path(__file__).parent.parent / "inputs"
START = dt.date(2026, 1, 5)
TODAY = dt.date(2026, 11, 30)
# 45 weekly PCL-5 scores, slowly down with plateaus: runs of equal and close scores.
PCL5_SCORES = [52, 50, 51, 48, 47, 47, 45, 46, 44, 41, 40, 41, 39, 38, 38, 37, 36, 36, 35,
               34, 33, 33, 33, 33, 32, 31, 30, 31, 30, 29, 28, 28, 27, 27, 26, 26, 25, 25,
               25, 24, 23, 23, 22, 22, 21]  # fmt: skip
# 45 weekly counts that repeat (0 1 1 2 3 3 3 ... 10 10 10 5): "1010" and "3 3 3 3" today.
COUNTS = [[0, 1, 1, 2, 3, 3, 3, 3, 3, 3, 4, 10, 10, 10, 5][i % 15] for i in range(45)]


def progress(
    scores: list[float], instrument: str | None = "PCL-5", target: float = 30, weeks: int = 1
) -> GoalProgress:
    found = built_in_registry().find(instrument) if instrument else None
    points = tuple(
        Point(START + dt.timedelta(weeks=weeks * i), score, baseline=i == 0)
        for i, score in enumerate(scores)
    )
    lower = found.lower_is_better if found else target < scores[0]
    return GoalProgress(
        goal_id="G1",
        measure=instrument or "Highway driving",
        unit="points" if found else "highway trips per week",
        instrument=found,
        lower_is_better=lower,
        baseline=scores[0],
        target=target,
        points=points,
        status="in-progress",
        as_of=points[-1].date,
        flags=(),
    )


def boxes(layout: charts.ChartLayout, color=None) -> list[tuple[charts.Text, tuple]]:
    return [(t, t.box) for t in layout.texts if color is None or t.color == color]


def score_labels(layout: charts.ChartLayout) -> list[charts.Text]:
    return [t for t in layout.texts if t.color == charts.INK and t.bold and t.size < 15][1:]


# --- labels thinned to what fits ---------------------------------------------------


@pytest.mark.parametrize("font_size", [10, 12])
@pytest.mark.parametrize(
    "scores, instrument, target",
    [(PCL5_SCORES, "PCL-5", 30), (COUNTS, None, 5), ([9] * 45, "PHQ-9", 4)],
    ids=["pcl5", "counts", "flat"],
)
def test_no_two_labels_of_a_chart_overlap_and_the_telling_points_are_labelled(
    scores, instrument, target, font_size
):
    chart = charts.chart_layout(progress(scores, instrument, target), font_size)
    texts = [t for t in chart.texts if t.text]
    for a, b in combinations(texts, 2):
        assert not charts.overlap(a.box, b.box), (a, b)
    for text in texts:  # and all inside the picture
        left, top, right, bottom = text.box
        assert left >= 0 and right <= charts.WIDTH and top >= 0 and bottom <= charts.HEIGHT, text
    labelled = set(chart.labelled)
    wanted = {0, len(scores) - 1, scores.index(min(scores)), scores.index(max(scores))}
    assert wanted <= labelled
    assert 2 < len(labelled) < len(scores)  # thinned, yet more than the ends
    drawn = [t.text for t in chart.texts if t.bold and t.color == charts.INK][1:]
    assert drawn == [charts.number_text(scores[i]) for i in sorted(labelled)]


def test_thinned_labels_are_every_nth_besides_the_telling_ones():
    scores = PCL5_SCORES
    chart = charts.chart_layout(progress(scores))
    wanted = {0, len(scores) - 1, scores.index(min(scores)), scores.index(max(scores))}
    others = sorted(set(chart.labelled) - wanted)
    steps = {b - a for a, b in pairwise(others)}
    assert len(steps) <= 2 and min(steps) > 1  # a regular step (skipping a wanted point)


def test_a_few_scores_are_all_labelled():
    chart = charts.chart_layout(progress([16, 12, 8], "PHQ-9", 4, weeks=4))
    assert chart.labelled == (0, 1, 2)


@pytest.mark.parametrize("font_size", [10, 12, 18])
@pytest.mark.parametrize("date_format", ["%Y-%m-%d", "%B %-d, %Y"])
def test_every_label_stays_inside_the_picture_with_long_dates_and_large_print(
    font_size, date_format
):
    """Before, the first date of a large-print client copy ("Sep 15, 2026" at 18 points)
    was cut at the picture's left edge."""
    two = (Point(dt.date(2026, 9, 15), 17), Point(dt.date(2026, 10, 13), 14))  # a sample's
    for drawn in (
        dataclasses.replace(progress([17, 14], "PHQ-A", 9), points=two),
        progress(PCL5_SCORES),
    ):
        chart = charts.chart_layout(drawn, font_size, date_format)
        for text in (t for t in chart.texts if t.text):
            left, _, right, _ = text.box
            assert left >= 0 and right <= charts.WIDTH, text


def test_the_date_labels_never_overlap_and_keep_the_first_and_last():
    chart = charts.chart_layout(progress(PCL5_SCORES), 12)
    dates = [t for t in chart.texts if re.fullmatch(r"\d{4}-\d{2}-\d{2}|baseline", t.text)]
    assert dates[0].text == "baseline" and dates[-1].text == "2026-11-09"
    assert 3 <= len(dates) < 45
    for a, b in combinations(dates, 2):
        assert not charts.overlap(a.box, b.box)


# --- the target's label and the bands' --------------------------------------------


def edges(instrument: str) -> list[float]:
    found = built_in_registry().find(instrument)
    bands = charts._bands(found)
    values = {found.min, found.max}
    for band in bands:
        values |= {band.min, band.max, band.min - 1, band.max + 1, (band.min + band.max) / 2}
    return sorted(v for v in values if found.min <= v <= found.max)


@pytest.mark.parametrize("font_size", [10, 12, 16])
@pytest.mark.parametrize("instrument", ["PHQ-9", "GAD-7", "PCL-5", "PHQ-A"])
def test_the_target_label_never_meets_a_band_label(instrument, font_size):
    found = built_in_registry().find(instrument)
    start = found.max * 0.7
    for target in edges(instrument):
        chart = charts.chart_layout(progress([start, start - 1], instrument, target), font_size)
        target_label = next(t for t in chart.texts if t.color == charts.TARGET)
        bands = [t for t in chart.texts if t.color == charts.MUTED and t.x == target_label.x]
        assert bands, (instrument, target)
        for band in bands:
            assert not charts.overlap(band.box, target_label.box), (instrument, target, band)
        for a, b in combinations(bands, 2):
            assert not charts.overlap(a.box, b.box)


def test_every_band_keeps_its_label_in_the_samples_instruments():
    for instrument in ("PHQ-9", "GAD-7"):
        found = built_in_registry().find(instrument)
        chart = charts.chart_layout(progress([15, 12], instrument, 7), 10)
        drawn = {t.text for t in chart.texts}
        assert {band.label for band in found.bands} <= drawn


# --- the body's size ----------------------------------------------------------------


def test_the_chart_text_follows_the_layouts_font_size():
    small = charts.chart_layout(progress(PCL5_SCORES), 10)
    large = charts.chart_layout(progress(PCL5_SCORES), 12)
    label_small, title_small = charts.text_sizes(10)
    label_large, title_large = charts.text_sizes(12)
    assert label_large > label_small and title_large > title_small
    # In print the picture is 640 units over 480 pt: labels at 0.9 of the body's size.
    assert label_large * 0.75 == pytest.approx(12 * 0.9, abs=0.4)
    assert {t.size for t in small.texts} == {label_small, title_small}
    assert {t.size for t in large.texts} == {label_large, title_large}
    svg = charts.svg(progress(PCL5_SCORES), "g", 12)
    assert f'font-size="{label_large}"' in svg and f'font-size="{label_small}"' not in svg


def test_the_client_copy_draws_larger_text_than_the_standard_layout(write_plan):
    sample = SAMPLES / "adult-ptsd.json"
    sizes = {}
    for layout in ("standard", "client-copy"):
        checked = check_file(sample, layout)
        html = render_documents(checked.plan, checked.layout, ("html",))["html"].decode()
        sizes[layout] = {int(s) for s in re.findall(r'<text [^>]*font-size="(\d+)"', html)}
        assert checked.layout.font_size in (10, 12)
    assert min(sizes["client-copy"]) == charts.text_sizes(12)[0]
    assert min(sizes["standard"]) == charts.text_sizes(10)[0]


# --- the same bytes -----------------------------------------------------------------


@pytest.mark.parametrize("font_size", [10, 12])
def test_the_same_scores_give_the_same_bytes(font_size):
    one, two = progress(PCL5_SCORES), progress(list(PCL5_SCORES))
    assert charts.png(one, font_size) == charts.png(two, font_size)
    assert charts.svg(one, "g", font_size) == charts.svg(two, "g", font_size)
    assert Image.open(io.BytesIO(charts.png(one, font_size))).size == (1280, 560)
    assert charts.png(one, 10) != charts.png(one, 12)


# --- on paper -------------------------------------------------------------------------


def weekly_plan(tmp_path: Path) -> Path:
    """The adult PTSD sample with 45 weekly scores for each of its two goals."""
    data = json.loads((SAMPLES / "adult-ptsd.json").read_text("utf-8"))
    for goal, scores in zip(data["goals"], (PCL5_SCORES, COUNTS), strict=False):
        goal["progress"] = [
            {"date": (START + dt.timedelta(weeks=i)).isoformat(), "score": score,
             "status": "in-progress" if i else "not-started"}
            for i, score in enumerate(scores)
        ]  # fmt: skip
    data["plan"].update(created="2026-01-05", effective="2026-01-05",
                        last_reviewed="2026-11-16", review_by="2027-01-27")  # fmt: skip
    for signature in data["signatures"]:  # signed over the sample, not over this edit of it
        signature.pop("content_sha256", None)
        signature.pop("parts_sha256", None)
    path = tmp_path / "weekly.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_the_docx_keeps_a_chart_with_the_block_before_and_the_next(tmp_path):
    import zipfile

    checked = check_file(weekly_plan(tmp_path), today=TODAY)
    assert checked.plan is not None
    document = render_documents(checked.plan, checked.layout, ("docx",))["docx"]
    body = zipfile.ZipFile(io.BytesIO(document)).read("word/document.xml").decode()
    pictures = [m.start() for m in re.finditer("<w:drawing>", body)]
    assert len(pictures) == 2
    for at in pictures:
        paragraph = body[body.rindex("<w:p>", 0, at) : at]
        assert "<w:keepNext/>" in paragraph  # the picture keeps with what follows
        before = body[: body.rindex("<w:p>", 0, at)]
        spacer = before[before.rindex("<w:p>") :]
        assert "<w:keepNext/>" in spacer  # the paragraph after the table before it
        last_row = before[before.rindex("<w:tr>") :]
        assert last_row.count("<w:keepNext/>") == last_row.count("TableText") + 1  # + spacer


@needs_pdf
@pytest.mark.parametrize("page_size", ["letter", "a4"])
@pytest.mark.parametrize("layout", ["standard", "managed-care", "medicaid", "medicare"])
def test_no_page_of_the_pdf_holds_only_a_chart(tmp_path, layout, page_size):
    checked = check_file(weekly_plan(tmp_path), layout, today=TODAY)
    assert checked.plan is not None and not checked.failed()
    rendered = render_documents(checked.plan, checked.layout, ("pdf", "md"), page_size=page_size)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(rendered["pdf"])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    from plandoc.documents.compose import compose

    document = compose(checked.plan, checked.layout, built_in_registry())
    chart_words = set()
    titles = []
    for _, goal in document.charts:
        chart = charts.chart_layout(goal, checked.layout.font_size, checked.layout.date_format)
        titles.append(chart.texts[0].text)
        for text in chart.texts:
            chart_words |= set(text.text.split())
    plan = checked.plan.plan
    charted = 0
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        if not any(title in text for title in titles):
            continue
        charted += 1
        lines = [
            line for line in text.splitlines()
            if f"{plan.id} v{plan.version}" not in line and not re.search(r"Page \d+ of", line)
        ]  # fmt: skip
        words = [w for line in lines for w in line.split() if w not in chart_words]
        assert len(words) >= 5, f"page {page} holds only a chart: {words}"
    assert charted >= 1


STRESS = Path(__file__).parent / "fixtures" / "stress-plan.json"


@needs_pdf
@pytest.mark.parametrize("page_size", ["letter", "a4"])
def test_the_client_copys_goal_intro_keeps_with_its_latest_result_and_chart(tmp_path, page_size):
    """Before, 7 of the stress plan's goal intros ("Goal 3: we use the PCL-5 ...") ended a
    page, their result and chart on the next."""
    checked = check_file(STRESS, "client-copy", today=TODAY)
    assert checked.plan is not None and not checked.failed()
    rendered = render_documents(checked.plan, checked.layout, ("pdf",), page_size=page_size)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(rendered["pdf"])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    stranded = []
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        body = [line for line in text.splitlines() if line.strip()][1:-1]  # no header, footer
        tail = " ".join(body[-3:])
        if re.search(r"Goal \d+: we", tail) and "latest result" not in tail.split("Goal")[-1]:
            stranded.append(page)
    assert stranded == []


def test_the_docx_keeps_the_two_paragraphs_before_a_chart_with_it():
    import zipfile

    checked = check_file(STRESS, "client-copy", today=TODAY)
    docx = render_documents(checked.plan, checked.layout, ("docx",))["docx"]
    body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    intros = [
        paragraph
        for paragraph in re.findall(r"<w:p>.*?</w:p>", body)
        if re.search(r"Goal \d+:.*? we (?:use|count) ", re.sub(r"<[^>]+>", "", paragraph))
    ]
    assert intros
    for intro in intros:
        assert "<w:keepNext/>" in intro
