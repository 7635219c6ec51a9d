"""report.md and the CI step summary: the report for a pull-request comment, a wiki page or a CI job's summary.

Why two sizes: GitHub holds 64 KB in a pull-request comment and in a job's step summary
(https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary says 1 MiB
per step; a comment body is limited to 65,536 characters). report.md carries the verdict, the sign-off facts, every
scenario's row and the violations' evidence in full, and stays under 64 KB; :func:`render_summary` is the compact
summary (verdict, one table, the report's path) that ``drdrill run`` appends to ``$GITHUB_STEP_SUMMARY``. Every
journal string goes through :mod:`dr_infra.report.md_text` (inert Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dr_infra.report.files import write_atomically
from dr_infra.report.grouping import policy_rows, posture_groups, skip_groups
from dr_infra.report.md_evidence import ICON, evidence
from dr_infra.report.md_text import code, md, table
from dr_infra.report.model import ReportView, ScenarioView, build
from dr_infra.report.signoff import executive_summary, sign_off

FILENAME = "report.md"
#: What report.md must stay under: a GitHub pull-request comment's 65,536 characters, with room to spare.
MAX_BYTES = 64_000
_ICON = ICON


def _measured(measure: Any) -> str:
    """``2.9 s ✅ / 30.0 s``: measured, judged, target."""
    mark = {True: " ✅", False: " ❌"}.get(measure.met, "") if measure.met is not None else ""
    return f"{measure.measured}{mark} / {measure.target}"


def _row(s: ScenarioView) -> list[str]:
    name = md(s.name)
    if s.failure:
        name += f"<br>**{md(s.failure)}**"
    if s.skip_reason:
        name += f"<br>Skipped: {md(s.skip_reason)}"
    return [name, f"{_ICON.get(s.tone, '')} {s.verdict}", _measured(s.rto), _measured(s.rpo), md(s.strategy)]


HEADERS = ["Scenario", "Verdict", "RTO measured / target", "RPO measured / target", "Strategy"]


def _head(r: ReportView, data: Mapping[str, Any]) -> list[str]:
    out = [
        f"## {_ICON.get(r.tone, '')} {md(r.headline)}",
        "",
        f"**{md(r.counts_line)}** on {md(r.target_label)}. {md(r.explanation)}",
        "",
    ]
    simulation = sign_off(r, data).simulation
    if simulation:
        out += [f"> **Simulation, not AWS.** {md(simulation[0])} It proves {md(simulation[1])}", ""]
        out += [f"> It does not prove {md(simulation[2])}", ""]
    return out


def render_summary(data: Mapping[str, Any], report_path: str | None = None) -> str:
    """The compact summary for a CI job page: verdict, one row per scenario, skips counted, where the report is."""
    r = build(data)
    out = ["# DR drill", "", *_head(r, data)]
    out += table(["Guarantee", *HEADERS], [[md(s.guarantee), *_row(s)] for s in r.scenarios if s.status != "skipped"])
    if r.skipped:
        out += [f"{len(r.skipped)} scenario(s) skipped: " + "; ".join(md(g.reason) for g in skip_groups(r.skipped)), ""]
    if report_path:
        out += [f"Report: {code(report_path)} (report.html for the evidence; `drdrill verify` checks its files).", ""]
    return "\n".join(out)


def render_markdown(data: Mapping[str, Any]) -> str:
    """The Markdown report for a journal dict (under :data:`MAX_BYTES`; the HTML holds the rest)."""
    r: ReportView = build(data)
    out = ["# DR compliance report", "", *_head(r, data)]
    out += [f"Run {code(r.run_id)}, started {code(r.started_at)}, took {r.duration}.", ""]
    out += [" ".join(md(sentence) for sentence in executive_summary(r)), ""]
    if r.usage_errors:
        out += ["### Usage errors", "", *[f"- {md(e)}" for e in r.usage_errors], ""]
    if r.leaks:
        out += [
            "### Leaked resources (delete them or run `drdrill janitor`)",
            "",
            *[f"- {code(e)}" for e in r.leaks],
            "",
        ]
    out += ["<details>", "<summary>Sign-off</summary>", ""]
    out += table(["", ""], [[f"**{md(label)}**", md(value)] for label, value in sign_off(r, data).rows])
    out += ["</details>", "", "## Guarantees", ""]
    if not r.guarantees:
        out += ["No scenario was recorded in this run.", ""]
    for g in r.guarantees:
        label, tone = g.verdict
        out += [f"### {_ICON.get(tone, '')} {md(g.title)}: {label}", ""]
        if g.description:
            out += [f"{md(g.description)} ({code(g.name)})", ""]
        out += table(HEADERS, [_row(s) for s in g.scenarios])
    groups = skip_groups(r.scenarios)
    if groups:
        out += ["## Skipped scenarios", ""]
        out += table(
            ["Reason", "Scenarios"], [[md(g.reason), "; ".join(md(n) for n, _ in g.scenarios)] for g in groups]
        )
    posture = posture_groups(r.scenarios)
    if posture:
        out += ["## Stack posture checks", ""]
        out += table(
            ["Check", "Expected", "Actual", "Result"],
            [
                [
                    md(c.check),
                    md(c.expected),
                    md("; ".join(c.actuals)),
                    f"✅ OK in {len(c.passed)}" if c.ok else "❌ Not OK in " + ", ".join(md(n) for n, _ in c.failed),
                ]
                for c in posture
            ],
        )
    out += ["## Evidence per scenario", "", "In full for violations; every line is in report.html and report.json.", ""]
    tail = _tail(r)
    budget = MAX_BYTES - len("\n".join([*out, *tail]).encode("utf-8")) - 400
    for s in sorted(r.scenarios, key=lambda s: s.tone != "bad"):  # violations first: they must fit
        section = evidence(s)
        size = len("\n".join(section).encode("utf-8")) + 1
        if size > budget:
            out += [f"_Evidence of {len(r.scenarios)} scenarios does not all fit in a comment: see report.html._", ""]
            break
        out += section
        budget -= size
    return "\n".join([*out, *tail])


def _tail(r: ReportView) -> list[str]:
    endpoint = code(r.target.get("endpoint")) if r.target.get("endpoint") else "AWS"
    out = [
        "## Target and capabilities",
        "",
        f"- Target: {md(r.target.get('name'))}, region {md(r.target.get('region'))}, endpoint {endpoint}, "
        f"account {code(r.target.get('account_id'))}",
        "- Declared capabilities: " + (", ".join(code(c) for c in r.capabilities) or "none"),
        "",
    ]
    facts, rows = policy_rows(r.policy)
    if facts or rows:
        out += ["<details>", "<summary>DR policy</summary>", ""]
        out += [f"- {md(k)}: {code(v)}" for k, v in facts] + [""]
        out += table(
            ["Guarantee", "Strategy", "RTO target", "RPO target"],
            [[code(p.guarantee), md(p.strategy), p.rto, p.rpo] for p in rows],
        )
        out += ["</details>", ""]
    out += [
        "> **How to read this:** " + " ".join(f"**{term}:** {meaning}" for term, meaning in r.glossary),
        "",
        f"_drdrill {md(r.version)}, journal schema {code(r.schema)}; rendered from the run journal alone._",
        "",
    ]
    return out


def write_markdown(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``report.md`` into ``out_dir``."""
    path = out_dir / FILENAME
    write_atomically(path, render_markdown(data))
    return path


__all__ = ["FILENAME", "MAX_BYTES", "code", "md", "render_markdown", "render_summary", "write_markdown"]
