"""Charts as inline SVG strings, drawn with matplotlib's Agg backend.

Why inline SVG: the HTML report must be one self-contained file that opens offline, scales sharply on a
phone and prints cleanly; an SVG is text inside the page, needs no image files and no network.

Why the post-processing: matplotlib writes a standalone document (XML prolog, DOCTYPE) whose element ids
(``patch_1``, clip paths, markers) repeat from one figure to the next. Several such SVGs inlined into one
page would share ids and draw each other's markers, so every id is prefixed per chart. Text is kept as
text (``svg.fonttype = none``) so it is small, searchable and selectable.

matplotlib is imported lazily: it is slow to import and only the HTML report needs it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dr_infra.report.model import MeasureView, ScenarioView, guarantee_title, scenario_names

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GOOD, BAD, NEUTRAL, TARGET = "#2e7d32", "#c62828", "#8a8f98", "#1f2937"
PALETTE = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593")
WIDTH_IN = 8.0
MAX_LABEL = 42

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "drdrill",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def label(text: str) -> str:
    """A chart label: shortened, and with ``$`` escaped so matplotlib never parses it as mathtext."""
    short = text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "\u2026"
    return short.replace("$", r"\$")


def to_svg(figure: Figure, chart_id: str, title: str) -> str:
    """The figure as an SVG fragment for inlining: no prolog, ids prefixed, an accessible ``<title>``."""
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        bbox_inches="tight",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    _pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(
            r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=["\)])'
        )
        svg = pattern.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", svg)
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{chart_id}-title" class="chart" ',
        1,
    ).replace(">", f'><title id="{chart_id}-title">{safe_title}</title>', 1)


def measure_chart(scenarios: Sequence[ScenarioView], kind: str, chart_id: str) -> str | None:
    """Measured RTO (or RPO) vs its target per scenario: a bar per scenario, a marker at the target.

    ``None`` when no scenario has a measurement or a target for ``kind``.
    """
    names = scenario_names(scenarios)
    rows: list[tuple[str, MeasureView]] = []
    for name, scenario in zip(names, scenarios, strict=True):
        measure: MeasureView = getattr(scenario, kind)
        if measure.measured_s is not None or measure.target_s is not None:
            rows.append((name, measure))
    if not rows:
        return None
    plt = _pyplot()
    title = f"Measured {kind.upper()} vs target per scenario"
    with plt.rc_context(_RC):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 1.3 + 0.42 * len(rows)))
        ys = list(range(len(rows)))[::-1]
        top = max(max(m.measured_s or 0, m.target_s or 0) for _, m in rows) or 1.0
        for y, (_, measure) in zip(ys, rows, strict=True):
            colour = NEUTRAL if measure.met is None else (GOOD if measure.met else BAD)
            if measure.measured_s is not None:
                axes.barh(y, measure.measured_s, height=0.6, color=colour)
                axes.text(
                    measure.measured_s + top * 0.01,
                    y,
                    measure.measured,
                    va="center",
                    fontsize=9,
                    color=TARGET,
                )
            if measure.target_s is not None:
                axes.plot([measure.target_s] * 2, [y - 0.4, y + 0.4], color=TARGET, linewidth=2.5)
        axes.set_yticks(ys, [label(name) for name, _ in rows])
        axes.set_xlim(0, top * 1.18)
        axes.set_xlabel("seconds")
        axes.set_title(title, loc="left")
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        used = {m.met for _, m in rows if m.measured_s is not None}
        handles: list[Any] = [
            Patch(color=colour, label=text)
            for met, colour, text in (
                (True, GOOD, "within target"),
                (False, BAD, "over target"),
                (None, NEUTRAL, "not judged"),
            )
            if met in used
        ]
        if any(m.target_s is not None for _, m in rows):
            handles.append(Line2D([0], [0], color=TARGET, linewidth=2.5, label="target"))
        axes.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
        )
    return to_svg(figure, chart_id, title)


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


def timeline_chart(scenarios: Sequence[ScenarioView], chart_id: str) -> str | None:
    """A phase timeline per restore: one row per scenario, one coloured segment per RTO phase."""
    names = scenario_names(scenarios)
    rows = [(n, s, phase_segments(s.rto.phases)) for n, s in zip(names, scenarios, strict=True)]
    rows = [row for row in rows if row[2]]
    if not rows:
        return None
    plt = _pyplot()
    title = "Recovery timeline: the phases of each restore"
    colours: dict[str, str] = {}
    with plt.rc_context(_RC):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 1.5 + 0.42 * len(rows)))
        ys = list(range(len(rows)))[::-1]
        for y, (_, scenario, segments) in zip(ys, rows, strict=True):
            for name, offset, duration in segments:
                colour = colours.setdefault(name, PALETTE[len(colours) % len(PALETTE)])
                axes.broken_barh([(offset, duration)], (y - 0.3, 0.6), facecolors=colour, edgecolor="white")
            if scenario.rto.target_s is not None:
                axes.plot([scenario.rto.target_s] * 2, [y - 0.42, y + 0.42], color=TARGET, linewidth=2.5)
        axes.set_yticks(ys, [label(name) for name, _, _ in rows])
        axes.set_xlabel("seconds since the first phase began (black mark: RTO target)")
        axes.set_title(title, loc="left")
        axes.set_xlim(left=0)
        from matplotlib.patches import Patch

        axes.legend(
            handles=[Patch(color=c, label=label(n)) for n, c in colours.items()],
            title="phase",
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
        )
    return to_svg(figure, chart_id, title)


def trend_chart(runs: Sequence[Mapping[str, Any]], kind: str, chart_id: str) -> str | None:
    """The RTO (or RPO) trend across runs: per guarantee and strategy, the worst value of each run.

    Why per strategy too: a backup restore and a PITR restore have different targets, so mixing them
    in one line would compare the slow one against the tight target. ``runs`` are journal dicts,
    oldest first, the current run last. Dashed lines are the targets (the tightest, when scenarios of
    one series differ). ``None`` with fewer than two runs that measured something.
    """
    series: dict[str, dict[int, float]] = {}
    targets: dict[str, dict[int, float]] = {}
    for index, run in enumerate(runs):
        for scenario in run.get("scenarios") or []:
            if not isinstance(scenario, Mapping):
                continue
            measure = scenario.get(kind) if isinstance(scenario.get(kind), Mapping) else {}
            assert isinstance(measure, Mapping)
            strategy = scenario.get("strategy")
            guarantee = guarantee_title(str(scenario.get("guarantee") or "other"))
            guarantee += f" \u00b7 {strategy}" if strategy else ""
            measured, target = measure.get("measured_s"), measure.get("target_s")
            if isinstance(measured, int | float):
                bucket = series.setdefault(guarantee, {})
                bucket[index] = max(bucket.get(index, 0.0), float(measured))
            if isinstance(target, int | float):
                bucket = targets.setdefault(guarantee, {})
                bucket[index] = min(bucket.get(index, float("inf")), float(target))
    measured_runs = {i for points in series.values() for i in points}
    if len(measured_runs) < 2:
        return None
    plt = _pyplot()
    title = f"{kind.upper()} trend across runs (worst scenario per guarantee and strategy)"
    with plt.rc_context(_RC):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.6))
        for n, (guarantee, points) in enumerate(sorted(series.items())):
            colour = PALETTE[n % len(PALETTE)]
            xs = sorted(points)
            axes.plot(xs, [points[x] for x in xs], marker="o", color=colour, label=label(guarantee))
            goal = targets.get(guarantee, {})
            if goal:
                gx = sorted(goal)
                axes.plot(gx, [goal[x] for x in gx], linestyle="--", color=colour, linewidth=1, alpha=0.8)
        ticks = list(range(len(runs)))
        axes.set_xticks(ticks, [label(_run_label(run)) for run in runs], rotation=30, ha="right", fontsize=8)
        axes.set_ylabel("seconds")
        axes.set_ylim(bottom=0)
        axes.set_title(title, loc="left")
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return to_svg(figure, chart_id, title + " (dashed: target)")


def _run_label(run: Mapping[str, Any]) -> str:
    started = _parse(run.get("started_at"))
    return started.strftime("%Y-%m-%d %H:%M") if started else str(run.get("run_id") or "?")
