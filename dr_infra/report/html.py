"""report.html: the page DR owners and auditors read, one self-contained file.

Why Jinja2 with autoescaping forced on: scenario names come from user feature files and messages from
AWS; the page must show them, never run them. The only unescaped content is the charts' SVG, which this
package drew itself (matplotlib escapes the text it writes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, Undefined
from markupsafe import Markup

from dr_infra.report import charts
from dr_infra.report.fmt import fmt_seconds, fmt_time
from dr_infra.report.model import ReportView, build, flatten_policy

FILENAME = "report.html"


@dataclass(frozen=True)
class Chart:
    """One chart for the page: its SVG, an anchor id and a caption in plain words."""

    id: str
    svg: Markup
    caption: str


@cache
def environment() -> Environment:
    """The Jinja2 environment; templates are package data of ``dr_infra.report``."""
    env = Environment(
        loader=PackageLoader("dr_infra.report", "templates"),
        autoescape=True,
        undefined=Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["fmt"] = fmt_seconds
    env.filters["time"] = fmt_time
    return env


def build_charts(view: ReportView, history: Sequence[Mapping[str, Any]], current: Mapping[str, Any]) -> list[Chart]:
    """The charts this run has data for, in reading order (nothing is drawn without data)."""
    out: list[Chart] = []
    wanted: list[tuple[str, Callable[[], str | None], str]] = [
        (
            "rto",
            lambda: charts.measure_chart(view.scenarios, "rto", "rto"),
            "Bars: measured recovery time; black mark: the RTO target. A red bar crosses its mark.",
        ),
        (
            "timeline",
            lambda: charts.timeline_chart(view.scenarios, "timeline"),
            "Where the recovery time went, phase by phase, for each restore.",
        ),
        (
            "rpo",
            lambda: charts.measure_chart(view.scenarios, "rpo", "rpo"),
            "Bars: measured data-loss window; black mark: the RPO target.",
        ),
    ]
    if history:
        runs = [*history, current]
        wanted += [
            (
                "trend-rto",
                lambda: charts.trend_chart(runs, "rto", "trend-rto"),
                f"RTO over the last {len(runs)} runs; lower is better, dashed lines are targets.",
            ),
            (
                "trend-rpo",
                lambda: charts.trend_chart(runs, "rpo", "trend-rpo"),
                f"RPO over the last {len(runs)} runs; lower is better, dashed lines are targets.",
            ),
        ]
    for chart_id, draw, caption in wanted:
        svg = draw()
        if svg:
            out.append(Chart(chart_id, Markup(svg), caption))  # noqa: S704 - SVG drawn by us, text escaped
    return out


def render_html(data: Mapping[str, Any], history: Sequence[Mapping[str, Any]] = ()) -> str:
    """The HTML page for a journal dict, with trend charts when ``history`` holds earlier journals."""
    view = build(data)
    template = environment().get_template("report.html.j2")
    return template.render(
        r=view,
        charts=build_charts(view, history, data),
        policy_rows=flatten_policy(view.policy),
    )


def write_html(data: Mapping[str, Any], out_dir: Path, history: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``report.html`` into ``out_dir``."""
    path = out_dir / FILENAME
    path.write_text(render_html(data, history), encoding="utf-8")
    return path


__all__ = ["FILENAME", "render_html", "write_html"]
