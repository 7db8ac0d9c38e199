"""A goal's scores over time, drawn as a chart: SVG for HTML, PNG for DOCX and Markdown.

One `ChartLayout` places everything (plot area, severity bands, target line,
points, ticks, labels) in a 640 x 280 box; `svg` and `png` only draw what it
placed, so both pictures always agree. No clock, no randomness, no fonts from
the system: the same scores give the same bytes. The PNG uses the font that
ships inside Pillow.

Accessible: the SVG has a title and a description stating the trend (the
same sentence is the DOCX picture's description and the Markdown image's alt
text), and the numbers are always also in a table beside the chart.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

from plandoc.model.instruments import Band, Instrument
from plandoc.model.plan import number_text
from plandoc.model.progress import GoalProgress

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 112, 34, 42  # margins around the plot area
INK = (34, 34, 34)
MUTED = (102, 102, 102)
GRID = (221, 221, 221)
LINE = (31, 78, 140)
TARGET = (0, 110, 70)
# Severity bands, mildest first: light tints, told apart by their labels too.
BAND_TINTS = [(236, 246, 238), (250, 246, 224), (252, 236, 222), (250, 226, 222), (244, 216, 220)]


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    size: int
    anchor: str  # start, middle, end
    color: tuple[int, int, int]
    bold: bool = False


@dataclass(frozen=True)
class ChartLayout:
    title: str
    description: str
    bands: tuple[tuple[float, float, float, float, tuple[int, int, int]], ...]  # x, y, w, h, fill
    grid: tuple[float, ...]  # y of each horizontal grid line
    axis: tuple[float, float, float, float]  # plot area: x0, y0, x1, y1
    target: tuple[float, float, float]  # x0, x1, y
    points: tuple[tuple[float, float], ...]
    texts: tuple[Text, ...]


def chart_layout(progress: GoalProgress) -> ChartLayout:
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    low, high = _score_range(progress)

    def y_of(score: float) -> float:
        return y1 - (score - low) / (high - low) * (y1 - y0)

    first, last = progress.points[0].date, progress.points[-1].date
    span = max((last - first).days, 1)

    def x_of(date: dt.date) -> float:
        inset = 14  # keep the first and last points off the axes
        return x0 + inset + (date - first).days / span * (x1 - x0 - 2 * inset)

    title = f"{_fit(progress.measure)} over time"
    texts: list[Text] = [Text(x0, 20, title, 14, "start", INK, True)]
    bands = []
    instrument = progress.instrument
    if instrument and (instrument.bands or instrument.cutoff is not None):
        for index, band in enumerate(_bands(instrument)):
            top_score = min(band.max + 0.5, high) if band.max < instrument.max else high
            bottom_score = max(band.min - 0.5, low) if index else low
            top, bottom = y_of(top_score), y_of(bottom_score)
            tint = _tint(index, len(_bands(instrument)), instrument.lower_is_better)
            bands.append((x0, top, x1 - x0, bottom - top, tint))
            if bottom - top >= 11:
                middle = (top + bottom) / 2 + 4
                texts.append(Text(x1 + 6, middle, _fit(band.label), 10, "start", MUTED))
    grid = []
    for tick in _ticks(low, high):
        grid.append(y_of(tick))
        texts.append(Text(x0 - 6, y_of(tick) + 4, number_text(tick, 6), 10, "end", MUTED))
    ty = y_of(progress.target)
    texts.append(
        Text(x1 + 6, ty - 3, f"target {number_text(progress.target)}", 10, "start", TARGET, True)
    )
    points = tuple((x_of(p.date), y_of(p.score)) for p in progress.points)
    for (x, y), point in zip(points, progress.points, strict=True):
        texts.append(Text(x, y - 8, number_text(point.score), 10, "middle", INK, True))
    for index in _label_indexes(len(points)):
        point = progress.points[index]
        label = "baseline" if point.baseline else point.date.isoformat()
        texts.append(Text(points[index][0], y1 + 16, label, 10, "middle", MUTED))
    unit = "score" if progress.unit == "points" else _fit(progress.unit)
    texts.append(Text(x0, y1 + 34, f"{unit}; {progress.direction_text}", 10, "start", MUTED))
    return ChartLayout(
        title=f"{progress.measure} over time",
        description=progress.trend_text,
        bands=tuple(bands),
        grid=tuple(grid),
        axis=(x0, y0, x1, y1),
        target=(x0, x1, ty),
        points=points,
        texts=tuple(texts),
    )


MOST_CHARACTERS = 80  # of a plan's text drawn in a chart: more would not fit its width


def _fit(text: str) -> str:
    """A plan's text as the picture draws it: cut to what fits (the title and the
    description, which screen readers and the table beside the chart give, keep it whole).
    Drawing a megabyte of text would take a picture of gigabytes."""
    return text if len(text) <= MOST_CHARACTERS else text[: MOST_CHARACTERS - 1] + "…"


def _tint(index: int, count: int, lower_is_better: bool) -> tuple[int, int, int]:
    """Mildest band green, most severe red, whichever way the scale runs."""
    severity = index if lower_is_better else count - 1 - index
    last = len(BAND_TINTS) - 1
    return BAND_TINTS[round(severity * last / (count - 1)) if count > 1 else 0]


def _bands(instrument: Instrument) -> tuple[Band, ...]:
    """The measure's severity bands, else two made from its clinical cut-off."""
    if instrument.bands or instrument.cutoff is None:
        return instrument.bands
    cut = instrument.cutoff
    if instrument.lower_is_better:
        return (Band(instrument.min, cut - 0.5, "below cut-off"),
                Band(cut, instrument.max, f"cut-off {number_text(cut)} or more"))  # fmt: skip
    return (Band(instrument.min, cut, f"cut-off {number_text(cut)} or less"),
            Band(cut + 0.5, instrument.max, "above cut-off"))  # fmt: skip


def _score_range(progress: GoalProgress) -> tuple[float, float]:
    """The scores the plot area spans: the scale's range, or 0 to a round number above
    the counts. Always low < high, so every score has a place."""
    instrument = progress.instrument
    if instrument is not None and math.isfinite(instrument.max):
        return instrument.min, instrument.max
    values = [p.score for p in progress.points] + [progress.baseline, progress.target]
    low = min(instrument.min if instrument else 0.0, *values)
    high = _nice_ceiling(max(values) * 1.15 or 1) if max(values) > 0 else 1.0
    return low, high if high > low else low + 1


def _nice_ceiling(value: float) -> float:
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float) -> list[float]:
    """Round numbers from low to high, two to six of them, whatever the scale's size."""
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw)
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(index * step, 6) for index in range(first, last + 1)]


def _label_indexes(count: int, most: int = 6) -> list[int]:
    """Which points get a date label: all of them, or an even spread with the first and last."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


# --- SVG ---------------------------------------------------------------------


def svg(progress: GoalProgress, element_id: str) -> str:
    """An inline <svg> element (no script, no external resources)."""
    chart = chart_layout(progress)
    x0, y0, x1, y1 = chart.axis
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{element_id}-title {element_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{element_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{element_id}-desc">{escape(chart.description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for x, y, w, h, fill in chart.bands:
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                   f'fill="{_hex(fill)}"/>')  # fmt: skip
    for y in chart.grid:
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{_hex(GRID)}"/>')
    out.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" '
               f'stroke="{_hex(MUTED)}"/>')  # fmt: skip
    tx0, tx1, ty = chart.target
    out.append(f'<line x1="{tx0}" y1="{ty:.1f}" x2="{tx1}" y2="{ty:.1f}" stroke="{_hex(TARGET)}" '
               'stroke-width="2" stroke-dasharray="6 4"/>')  # fmt: skip
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in chart.points)
    out.append(f'<polyline points="{path}" fill="none" stroke="{_hex(LINE)}" stroke-width="2.5"/>')
    for x, y in chart.points:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_hex(LINE)}"/>')
    for text in chart.texts:
        weight = ' font-weight="bold"' if text.bold else ""
        out.append(
            f'<text x="{text.x:.1f}" y="{text.y:.1f}" font-size="{text.size}" '
            f'text-anchor="{text.anchor}" fill="{_hex(text.color)}"{weight}>'
            f"{escape(text.text)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


# --- PNG ---------------------------------------------------------------------

SCALE = 2  # pixels per SVG unit in the PNG (1280 x 560: about 210 dpi across a page)


def png(progress: GoalProgress) -> bytes:
    """The chart as a PNG: drawn in a fixed palette, so it is small and quick to encode."""
    from PIL import Image, ImageDraw  # imported when a chart is drawn, not at start-up

    chart = chart_layout(progress)
    k = SCALE
    image = Image.new("P", (WIDTH * k, HEIGHT * k), 0)
    image.putpalette([channel for color in PALETTE for channel in color])
    draw = ImageDraw.Draw(image)
    ink = {color: index for index, color in enumerate(PALETTE)}
    x0, y0, x1, y1 = chart.axis
    for x, y, w, h, fill in chart.bands:
        draw.rectangle([x * k, y * k, (x + w) * k, (y + h) * k], fill=ink[fill])
    for y in chart.grid:
        draw.line([(x0 * k, y * k), (x1 * k, y * k)], fill=ink[GRID], width=k // 2 or 1)
    draw.rectangle([x0 * k, y0 * k, x1 * k, y1 * k], outline=ink[MUTED], width=k // 2 or 1)
    tx0, tx1, ty = chart.target
    dash, gap, x = 6 * k, 4 * k, tx0 * k
    while x < tx1 * k:
        draw.line([(x, ty * k), (min(x + dash, tx1 * k), ty * k)], fill=ink[TARGET], width=2 * k)
        x += dash + gap
    scaled = [(x * k, y * k) for x, y in chart.points]
    draw.line(scaled, fill=ink[LINE], width=round(2.5 * k), joint="curve")
    for x, y in scaled:
        r = 4 * k
        draw.ellipse([x - r, y - r, x + r, y + r], fill=ink[LINE])
    for text in chart.texts:
        font = _font(text.size * k)
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[text.anchor]
        for shift in (0, 0.5) if text.bold else (0,):  # the built-in font has no bold
            xy = (text.x * k + shift * k, text.y * k)
            draw.text(xy, text.text, fill=ink[text.color], font=font, anchor=anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


# Every colour the chart uses: white first (the background).
PALETTE = [(255, 255, 255), INK, MUTED, GRID, LINE, TARGET, *BAND_TINTS]


@cache
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.load_default(size=size)
