"""The report's charts as inline SVG, laid out here and drawn by the Jinja2 templates in ``templates/charts/``.

Why SVG from templates and not a plotting library: the charts are a handful of bars, segments and lines; drawing
them directly keeps every label a real ``<text>`` element (searchable, selectable, read by screen readers), makes
the bytes depend on the journal alone (the same journal renders the same file, so a report's SHA256SUMS can be
re-derived), and keeps numpy, pillow and fonttools out of drdrill's install.

Why a share of the target: RTO targets range from seconds (in-place repair) to hours (AWS Backup restores); on one
seconds axis the fast drills are a few pixels wide. Each bar is the measured value as a percentage of its own
target, so 100 % is the line that matters for every row, and the row's text gives both numbers in full.

Layout is computed in Python (plain numbers, rounded to 0.1 so output is stable) and the templates only place it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_infra.report.fmt import fmt_seconds
from dr_infra.report.model import MeasureView, ScenarioView, guarantee_title

WIDTH = 760
LEFT = 10
BAR_WIDTH = 470
CHARS_PER_LINE = 105
GOOD, BAD, EXPECTED, NEUTRAL, INK, MUTED = "#2e7d32", "#c62828", "#b26a00", "#8a8f98", "#1f2937", "#5b6472"
PALETTE = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593")
#: Bars longer than this share of their target are drawn to the edge with an arrow (the text still says it).
MAX_SHARE = 3.0
LINE_H, BAR_H, ROW_GAP = 13.0, 11.0, 8.0


def _r(value: float) -> float:
    """Coordinates at 0.1 precision: small files, and the same bytes for the same journal on every machine."""
    return round(value + 0.0, 1)


def _lines(text: str) -> list[str]:
    """A label in full, wrapped (never cut) to the chart's width."""
    return textwrap.wrap(text, CHARS_PER_LINE, break_long_words=True, break_on_hyphens=False) or [""]


@dataclass
class ShareRow:
    """One scenario's measured value as a share of its target."""

    label: list[str]
    y: float
    bar_y: float
    width: float
    colour: str
    hatch: bool
    clipped: bool
    text: str
    title: str


@dataclass
class ShareChart:
    id: str
    title: str
    height: float
    axis_x: float
    axis_label: str
    target_x: float
    ticks: list[tuple[float, str]]
    rows: list[ShareRow]
    legend: list[tuple[str, str, bool]]


def _share(measure: MeasureView) -> float | None:
    if measure.measured_s is None or measure.target_s is None:
        return None
    if measure.target_s == 0:
        return 0.0 if measure.measured_s == 0 else math.inf
    return measure.measured_s / measure.target_s


def _status(scenario: ScenarioView, measure: MeasureView, kind: str) -> tuple[str, bool, str]:
    """(colour, hatched, word) of a bar: an expected violation is hatched amber, never plain red."""
    if measure.met is None:
        return NEUTRAL, False, "not judged"
    if measure.met:
        return GOOD, False, "within target"
    if scenario.expected_violation and kind in scenario.expected_measures:
        return EXPECTED, True, "violated as the injected fault intends (expected)"
    return BAD, False, "over target"


def share_chart(scenarios: Sequence[ScenarioView], kind: str, chart_id: str) -> ShareChart | None:
    """Measured RTO (or RPO) as a share of its target, per scenario; ``None`` when nothing has a target."""
    picked = [(s, getattr(s, kind)) for s in scenarios]
    picked = [(s, m) for s, m in picked if m.target_s is not None]
    if not picked:
        return None
    shares = [x for x in (_share(m) for _, m in picked) if x is not None and math.isfinite(x)]
    top = max([1.0, *shares])
    axis_max = min(MAX_SHARE, math.ceil(top * 1.1 / 0.5) * 0.5)
    scale = BAR_WIDTH / axis_max
    rows: list[ShareRow] = []
    y = 44.0
    used: dict[str, tuple[str, bool]] = {}
    for scenario, measure in picked:
        colour, hatch, word = _status(scenario, measure, kind)
        share = _share(measure)
        label = _lines(scenario.name)
        bar_y = y + LINE_H * len(label) + 1
        if share is None:
            width, clipped = 0.0, False
            text = f"not measured (target {fmt_seconds(measure.target_s)})"
        else:
            clipped = share > axis_max
            width = BAR_WIDTH if clipped else share * scale
            percent = "over a 0 s target" if not math.isfinite(share) else f"{share * 100:.0f} % of target"
            text = f"{measure.measured} of {measure.target} ({percent})"
            used[word] = (colour, hatch)
        title = f"{scenario.name}: {kind.upper()} {text}, {word}"
        rows.append(ShareRow(label, _r(y), _r(bar_y), _r(width), colour, hatch, clipped, text, title))
        y = bar_y + BAR_H + ROW_GAP
    ticks = [(_r(LEFT + f * scale), f"{f * 100:.0f} %") for f in _tick_steps(axis_max)]
    return ShareChart(
        id=chart_id,
        title=f"Measured {kind.upper()} as a share of its target, per scenario",
        height=_r(y + 22),
        axis_x=LEFT,
        axis_label=f"share of the {kind.upper()} target (100 % = the target)",
        target_x=_r(LEFT + scale),
        ticks=ticks,
        rows=rows,
        legend=[(word, colour, hatch) for word, (colour, hatch) in used.items()],
    )


def _tick_steps(axis_max: float) -> list[float]:
    step = 0.25 if axis_max <= 1.5 else 0.5
    return [round(i * step, 2) for i in range(int(axis_max / step + 1e-9) + 1)]


@dataclass
class Segment:
    x: float
    width: float
    colour: str
    title: str
    text: str


@dataclass
class TimelineRow:
    label: list[str]
    y: float
    bar_y: float
    segments: list[Segment]
    target_x: float | None
    text: str


@dataclass
class TimelineChart:
    id: str
    title: str
    height: float
    rows: list[TimelineRow]
    legend: list[tuple[str, str]]


def _parse(moment: Any) -> datetime | None:
    if not isinstance(moment, str):
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


def phase_segments(phases: Sequence[Mapping[str, Any]]) -> list[tuple[str, float, float]]:
    """``(name, start offset s, duration s)`` per phase, from timestamps when they exist.

    Timestamps show overlaps and gaps as they happened; without them phases are laid end to end.
    """
    starts = [_parse(p.get("started_at")) for p in phases]
    origin = min((s for s in starts if s is not None), default=None)
    segments: list[tuple[str, float, float]] = []
    cursor = 0.0
    for phase, start in zip(phases, starts, strict=True):
        duration = phase.get("duration_s")
        finish = _parse(phase.get("finished_at"))
        if not isinstance(duration, int | float) and start and finish:
            duration = (finish - start).total_seconds()
        if not isinstance(duration, int | float):
            continue
        offset = (start - origin).total_seconds() if start and origin else cursor
        segments.append((str(phase.get("name") or "phase"), offset, float(duration)))
        cursor = offset + float(duration)
    return segments


def timeline_chart(scenarios: Sequence[ScenarioView], chart_id: str) -> TimelineChart | None:
    """One timeline per restore: the RTO's phases laid out in time, each row on its own scale (its total or its
    target, whichever is longer) so a 0.2 s repair and a 40-minute restore are both readable."""
    colours: dict[str, str] = {}
    rows: list[TimelineRow] = []
    y = 44.0
    for scenario in scenarios:
        segments = phase_segments(scenario.rto.phases)
        if not segments:
            continue
        end = max(offset + duration for _, offset, duration in segments)
        span = end or 1.0  # its own total: phases stay readable; a target beyond it is in the row's text
        scale = BAR_WIDTH / span
        label = _lines(scenario.name)
        bar_y = y + LINE_H * len(label) + 1
        drawn = []
        for name, offset, duration in segments:
            colour = colours.setdefault(name, PALETTE[len(colours) % len(PALETTE)])
            width = max(duration * scale, 1.0)
            text = fmt_seconds(duration) if width > 46 else ""
            drawn.append(
                Segment(_r(LEFT + offset * scale), _r(width), colour, f"{name}: {fmt_seconds(duration)}", text)
            )
        target_s = scenario.rto.target_s
        target_x = _r(LEFT + target_s * scale) if target_s and target_s <= span else None
        target = f" (RTO target {scenario.rto.target})" if scenario.rto.target_s is not None else ""
        rows.append(TimelineRow(label, _r(y), _r(bar_y), drawn, target_x, f"{fmt_seconds(end)}{target}"))
        y = bar_y + BAR_H + ROW_GAP
    if not rows:
        return None
    legend_rows = math.ceil(len(colours) / 2)
    shift = 18.0 * legend_rows
    for row in rows:
        row.y, row.bar_y = _r(row.y + shift), _r(row.bar_y + shift)
    return TimelineChart(
        id=chart_id,
        title="Recovery timeline: where each restore's time went, phase by phase",
        height=_r(y + shift + 8),
        rows=rows,
        legend=list(colours.items()),
    )


@dataclass
class TrendPanel:
    title: str
    x: float
    y: float
    points: str
    dots: list[tuple[float, float, str]]
    target_y: float | None
    target_text: str
    last_text: str
    colour: str
    y_max_text: str


@dataclass
class TrendChart:
    id: str
    title: str
    height: float
    panel_width: float
    panel_height: float
    panels: list[TrendPanel] = field(default_factory=list)
    first_run: str = ""
    last_run: str = ""


PANEL_W, PANEL_H, PLOT_H = 365.0, 120.0, 70.0


def _series_key(run: Mapping[str, Any], scenario: Mapping[str, Any]) -> str:
    target = run.get("target") if isinstance(run.get("target"), Mapping) else {}
    assert isinstance(target, Mapping)
    guarantee = guarantee_title(str(scenario.get("guarantee") or "other"))
    strategy = scenario.get("strategy")
    return f"{guarantee}{' · ' + str(strategy) if strategy else ''} on {target.get('name') or 'unknown target'}"


def trend_chart(runs: Sequence[Mapping[str, Any]], kind: str, chart_id: str) -> TrendChart | None:
    """The RTO (or RPO) across runs, one small panel per target, guarantee and strategy: the worst scenario of
    each run, and its target (the tightest when scenarios differ). ``runs`` are journal dicts, oldest first.

    Why one panel per series: lines of different targets (seconds on the embedded target, an hour on AWS) and
    guarantees share no scale; in one plot most would be flat at the bottom. ``None`` with fewer than two runs
    that measured something.
    """
    series: dict[str, dict[int, float]] = {}
    targets: dict[str, dict[int, float]] = {}
    for index, run in enumerate(runs):
        for scenario in run.get("scenarios") or []:
            if not isinstance(scenario, Mapping):
                continue
            measure = scenario.get(kind) if isinstance(scenario.get(kind), Mapping) else {}
            assert isinstance(measure, Mapping)
            key = _series_key(run, scenario)
            measured, target = measure.get("measured_s"), measure.get("target_s")
            if isinstance(measured, int | float) and not isinstance(measured, bool):
                bucket = series.setdefault(key, {})
                bucket[index] = max(bucket.get(index, 0.0), float(measured))
            if isinstance(target, int | float) and not isinstance(target, bool):
                goals = targets.setdefault(key, {})
                goals[index] = min(goals.get(index, math.inf), float(target))
    if len({i for points in series.values() for i in points}) < 2:
        return None
    last = max(len(runs) - 1, 1)
    panels = []
    for n, (key, points) in enumerate(sorted(series.items())):
        column, row = n % 2, n // 2
        x0, y0 = LEFT + column * (PANEL_W + 10), 40 + row * (PANEL_H + 12)
        goal = targets.get(key, {})
        target = min(goal.values()) if goal else None
        top = max([*points.values(), target or 0.0]) * 1.15 or 1.0

        def px(i: int, x0: float = x0) -> float:
            return _r(x0 + 8 + (PANEL_W - 16) * i / last)

        def py(v: float, y0: float = y0, top: float = top) -> float:
            return _r(y0 + 28 + PLOT_H * (1 - v / top))

        xs = sorted(points)
        dots = [(px(i), py(points[i]), f"{_run_label(runs[i])}: {fmt_seconds(points[i])}") for i in xs]
        panels.append(
            TrendPanel(
                title=key,
                x=_r(x0),
                y=_r(y0),
                points=" ".join(f"{dx},{dy}" for dx, dy, _ in dots),
                dots=dots,
                target_y=py(target) if target is not None else None,
                target_text=f"target {fmt_seconds(target)}" if target is not None else "no target",
                last_text=f"latest {fmt_seconds(points[xs[-1]])}",
                colour=PALETTE[n % len(PALETTE)],
                y_max_text=fmt_seconds(top),
            )
        )
    rows = math.ceil(len(panels) / 2)
    return TrendChart(
        id=chart_id,
        title=f"{kind.upper()} across the last {len(runs)} runs, per target, guarantee and strategy (worst scenario)",
        height=_r(40 + rows * (PANEL_H + 12) + 20),
        panel_width=PANEL_W,
        panel_height=PANEL_H,
        panels=panels,
        first_run=_run_label(runs[0]),
        last_run=_run_label(runs[-1]),
    )


def _run_label(run: Mapping[str, Any]) -> str:
    started = _parse(run.get("started_at"))
    return started.strftime("%Y-%m-%d %H:%M") if started else str(run.get("run_id") or "?")
