"""report.md's Jinja2 environment and its evidence sections (``templates/md/``).

Why a Markdown environment of its own: Markdown is not HTML, so autoescaping is off and every journal string goes
through the ``md`` / ``code`` filters (:mod:`dr_infra.report.md_text`, inert Markdown) in the templates instead.
Text inside ``<summary>`` is HTML, where Markdown's backslash escapes show literally, so it is escaped as HTML only
(``summary_text``). Evidence is in full only where a guarantee was violated: a pull-request comment holds 64 KB and
a bulk delete alone logs hundreds of monitor decisions; the HTML report and report.json keep every line.
"""

from __future__ import annotations

from functools import cache
from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from dr_infra.report.fmt import compact, fmt_seconds
from dr_infra.report.grouping import decision_groups, policy_rows, posture_groups, skip_groups
from dr_infra.report.md_text import code, md
from dr_infra.report.model import ScenarioView

ICON = {"good": "✅", "bad": "❌", "warn": "⚠️", "neutral": "\u23f8\ufe0f"}


def summary_text(value: object) -> str:
    """Untrusted text for a ``<summary>`` element: HTML-escaped, one line, no Markdown backslashes."""
    return " ".join(escape("" if value is None else str(value)).split()) or "-"


@cache
def environment() -> Environment:
    """The Markdown templates' environment: whole lines, no autoescaping (the filters make journal text inert)."""
    env = Environment(
        loader=PackageLoader("dr_infra.report", "templates"),
        autoescape=False,  # noqa: S701 - Markdown, not HTML: journal strings pass |md / |code (md_text) instead
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, code=code, compact=compact, summary_text=summary_text)
    env.globals.update(
        icon=ICON,
        fmt=fmt_seconds,
        decision_groups=decision_groups,
        policy_rows=policy_rows,
        posture_groups=posture_groups,
        skip_groups=skip_groups,
    )
    return env


def render_text(template: str, **context: Any) -> str:
    """A Markdown template's text. Templates write whole lines (each ending in a newline, a blank line after every
    block); the text a report is joined from leaves the last line's newline to the joint (``"\\n".join``)."""
    text = environment().get_template(f"md/{template}").render(**context)
    return text[:-1] if text.endswith("\n") else text


def evidence_text(s: ScenarioView) -> str:
    """One scenario's evidence section (``templates/md/evidence.md.j2``)."""
    return render_text("evidence.md.j2", s=s, full=s.tone == "bad")


def evidence(s: ScenarioView) -> list[str]:
    """One scenario's evidence in a collapsed ``<details>``, as lines: in full for a violation."""
    return evidence_text(s).split("\n")
