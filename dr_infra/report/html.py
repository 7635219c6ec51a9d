"""report.html: the page DR owners and auditors read, one self-contained file.

Why Jinja2 with autoescaping forced on: scenario names come from user feature files and messages from
AWS; the page must show them, never run them. The charts' SVG comes from templates of the same autoescaping
environment (``templates/charts/``), so a scenario name in a chart label is escaped too.
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
from dr_infra.report.files import write_atomically
from dr_infra.report.fmt import compact, fmt_seconds, fmt_time
from dr_infra.report.grouping import decision_groups, policy_rows, posture_groups, skip_groups, word
from dr_infra.report.model import ReportView, build
from dr_infra.report.signoff import executive_summary, sign_off

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
    env.filters["compact"] = compact
    env.filters["word"] = word
    env.globals["decisions"] = decision_groups
    return env


def _svg(template: str, chart: Any) -> Markup:
    """A chart's SVG from its template (autoescaped: scenario names are untrusted)."""
    return Markup(environment().get_template(f"charts/{template}.svg.j2").render(c=chart).strip())  # noqa: S704


def build_charts(view: ReportView, history: Sequence[Mapping[str, Any]], current: Mapping[str, Any]) -> list[Chart]:
    """The charts this run has data for, in reading order (nothing is drawn without data)."""
    out: list[Chart] = []
    wanted: list[tuple[str, str, Callable[[], Any], str]] = [
        (
            "rto",
            "share",
            lambda: charts.share_chart(view.scenarios, "rto", "rto"),
            "Each bar is the measured recovery time as a share of that scenario's own RTO target; the dashed line "
            "is the target (100 %). Green: within target; red: over; hatched amber: a violation the scenario "
            "caused on purpose and drdrill detected.",
        ),
        (
            "timeline",
            "timeline",
            lambda: charts.timeline_chart(view.scenarios, "timeline"),
            "Where each restore's time went, phase by phase (each row on its own time scale; black mark: its RTO "
            "target).",
        ),
        (
            "rpo",
            "share",
            lambda: charts.share_chart(view.scenarios, "rpo", "rpo"),
            "Each bar is the measured data-loss window as a share of that scenario's RPO target.",
        ),
    ]
    if history:
        runs = [*history, current]
        wanted += [
            (
                "trend-rto",
                "trend",
                lambda: charts.trend_chart(runs, "rto", "trend-rto"),
                f"RTO over the last {len(runs)} runs, one panel per target, guarantee and strategy.",
            ),
            (
                "trend-rpo",
                "trend",
                lambda: charts.trend_chart(runs, "rpo", "trend-rpo"),
                f"RPO over the last {len(runs)} runs, one panel per target, guarantee and strategy.",
            ),
        ]
    for chart_id, template, draw, caption in wanted:
        chart = draw()
        if chart is not None:
            out.append(Chart(chart_id, _svg(template, chart), caption))
    return out


def render_html(data: Mapping[str, Any], history: Sequence[Mapping[str, Any]] = ()) -> str:
    """The HTML page for a journal dict, with trend charts when ``history`` holds earlier journals."""
    view = build(data)
    template = environment().get_template("report.html.j2")
    facts, rows = policy_rows(view.policy)
    return template.render(
        r=view,
        so=sign_off(view, data),
        summary=executive_summary(view),
        charts=build_charts(view, history, data),
        policy_facts=facts,
        policy_rows=rows,
        posture_groups=posture_groups(view.scenarios),
        skip_groups=skip_groups(view.scenarios),
    )


def write_html(data: Mapping[str, Any], out_dir: Path, history: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``report.html`` into ``out_dir``."""
    path = out_dir / FILENAME
    write_atomically(path, render_html(data, history))
    return path


__all__ = ["FILENAME", "render_html", "write_html"]
