"""report.md and the CI step summary: the report for a pull-request comment, a wiki page or a CI job's summary.

Why two sizes: GitHub holds 64 KB in a pull-request comment and in a job's step summary
(https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary says 1 MiB
per step; a comment body is limited to 65,536 characters). report.md carries the verdict, the sign-off facts, every
scenario's row and the violations' evidence in full, and stays under 64 KB; :func:`render_summary` is the compact
summary (verdict, one table, the report's path) that ``drdrill run`` appends to ``$GITHUB_STEP_SUMMARY``.

Both are Jinja2 templates (``templates/md/``) over the same view the HTML report reads (:mod:`dr_infra.report.model`);
this module only chooses which evidence fits the budget. Every journal string goes through the templates' ``md`` /
``code`` filters (:mod:`dr_infra.report.md_text`, inert Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dr_infra.report.files import write_atomically
from dr_infra.report.md_evidence import evidence_text, render_text
from dr_infra.report.md_text import code, md
from dr_infra.report.model import ReportView, build
from dr_infra.report.signoff import executive_summary, sign_off

FILENAME = "report.md"
#: What report.md must stay under: a GitHub pull-request comment's 65,536 characters, with room to spare.
MAX_BYTES = 64_000


def render_summary(data: Mapping[str, Any], report_path: str | None = None) -> str:
    """The compact summary for a CI job page: verdict, one row per scenario, skips counted, where the report is."""
    r = build(data)
    return render_text("summary.md.j2", r=r, signoff=sign_off(r, data), report_path=report_path)


def render_markdown(data: Mapping[str, Any]) -> str:
    """The Markdown report for a journal dict (under :data:`MAX_BYTES`; the HTML holds the rest)."""
    r: ReportView = build(data)
    head = render_text("report_head.md.j2", r=r, signoff=sign_off(r, data), summary_sentences=executive_summary(r))
    tail = render_text("report_tail.md.j2", r=r)
    parts = [head]
    budget = MAX_BYTES - len(f"{head}\n{tail}".encode()) - 400
    for s in sorted(r.scenarios, key=lambda s: s.tone != "bad"):  # violations first: they must fit
        section = evidence_text(s)
        size = len(section.encode("utf-8")) + 1
        if size > budget:
            parts.append(
                f"_Evidence of {len(r.scenarios)} scenarios does not all fit in a comment: see report.html._\n"
            )
            break
        parts.append(section)
        budget -= size
    return "\n".join([*parts, tail])


def write_markdown(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``report.md`` into ``out_dir``."""
    path = out_dir / FILENAME
    write_atomically(path, render_markdown(data))
    return path


__all__ = ["FILENAME", "MAX_BYTES", "code", "md", "render_markdown", "render_summary", "write_markdown"]
