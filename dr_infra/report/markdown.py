"""report.md: the same content as the HTML, for a pull-request comment or a wiki page.

Why everything goes through :func:`md`: journal strings are untrusted and a PR comment renders HTML
and links. Escaping ``<``/``>``/``&`` as entities and Markdown's punctuation with backslashes shows a
hostile name such as ``<script>`` or ``[x](http://...)`` as text, and ``|`` cannot break a table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dr_infra.report.fmt import fmt_seconds
from dr_infra.report.model import ReportView, ScenarioView, build, flatten_policy

FILENAME = "report.md"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_ICON = {"good": "✅", "bad": "❌", "warn": "⚠️", "neutral": "\u23f8\ufe0f"}


def md(value: Any) -> str:
    """Untrusted text as inert inline Markdown: one line, HTML entities, punctuation escaped."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split()) or "-"


def code(value: Any) -> str:
    """A value in a code span, or ``-``; backticks inside are replaced so the span cannot be closed early."""
    if value is None or value == "":
        return "-"
    text = " ".join(str(value).replace("`", "'").split()).replace("|", "\\|")
    return f"`{text}`"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table (cells must already be escaped)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _measured(measure: Any) -> str:
    mark = {True: " ✅", False: " ❌"}.get(measure.met, "") if measure.met is not None else ""
    phases = "; ".join(f"{md(p.get('name'))} {p['duration']}" for p in measure.phases)
    return f"{measure.measured}{mark}" + (f" ({phases})" if phases else "")


def _evidence(s: ScenarioView) -> list[str]:
    out = [
        "<details>",
        f"<summary>{_ICON.get(s.tone, '')} {md(s.name)}: {md(s.verdict)}</summary>",
        "",
        f"- Guarantee: {md(s.guarantee)}; strategy: {md(s.strategy)}; duration: {s.duration}",
        f"- RTO: {s.rto.measured} measured vs {s.rto.target} target ({s.rto.verdict})",
        f"- RPO: {s.rpo.measured} measured vs {s.rpo.target} target ({s.rpo.verdict})",
    ]
    if s.feature_file:
        out.append(f"- Feature: {md(s.feature)} ({code(s.feature_file)})")
    if s.failure:
        out.append(f"- **Failure:** {md(s.failure)}")
    if s.skip_reason:
        out.append(f"- Skip reason: {md(s.skip_reason)}")
    out += [f"- Note: {md(n)}" for n in s.notes]
    if s.cleanup:
        failed = s.cleanup.get("failed") or []
        out.append(
            f"- Cleanup: {md(s.cleanup.get('deleted', 0))} deleted"
            + (f"; **not deleted:** {', '.join(code(f) for f in failed)}" if failed else "")
        )
    out.append("")
    if s.rto.phases:
        out += ["**RTO phases**", ""]
        out += table(
            ["Phase", "Started", "Finished", "Duration"],
            [
                [md(p.get("name")), code(p.get("started_at")), code(p.get("finished_at")), p["duration"]]
                for p in s.rto.phases
            ],
        )
    if s.restore_jobs:
        out += ["**Restore jobs**", ""]
        out += table(
            ["Job id", "Status", "Recovery point", "Created resource", "Created", "Completed", "Duration"],
            [
                [
                    code(j.get("job_id")),
                    md(j.get("status")) + (f" ({md(j['status_message'])})" if j.get("status_message") else ""),
                    code(j.get("recovery_point_arn")),
                    code(j.get("created_resource_arn")),
                    code(j.get("created_at")),
                    code(j.get("completed_at")),
                    j["duration"],
                ]
                for j in s.restore_jobs
            ],
        )
    if s.recovery_points:
        out += ["**Recovery points**", ""]
        out += table(
            ["ARN", "Created", "Made by"],
            [
                [code(p.get("arn")), code(p.get("created_at")), md(str(p.get("origin") or ""))]
                for p in s.recovery_points
            ],
        )
    if s.restore_times:
        out += ["**Restore times:** " + ", ".join(code(t) for t in s.restore_times), ""]
    if s.monitor_log:
        out += [f"**Change monitor decisions ({len(s.monitor_log)})**", ""]
        out += table(
            ["Decision", "Event", "Keys", "Restore", "Reason / error"],
            [
                [
                    code(line.get("decision")),
                    md(line.get("eventName")),
                    code(line.get("keys_text")),
                    " ".join(
                        code(line.get(k))
                        for k in ("restoreJobId", "recoveryPointArn", "restoreTime", "restoredTable")
                        if line.get(k)
                    )
                    or "-",
                    md(" ".join(str(line.get(k)) for k in ("reason", "error") if line.get(k))),
                ]
                for line in s.monitor_log
            ],
        )
    for d in s.diffs:
        expected = f"{md(d['compared'])} items expected" if d["compared"] is not None else "items compared"
        found = f", {md(d['compared_actual'])} found" if d["compared_actual"] is not None else ""
        out += [
            f"**Data comparison:** {expected}{found}: {md(d.get('missing', 0))} missing, "
            f"{md(d.get('extra', 0))} extra, {md(d.get('changed', 0))} changed",
            "",
        ]
        if d["summary"]:
            out.append(f"- Result: {md(d['summary'])}")
        if d["table"]:
            out.append(f"- Compared table: {code(d['table'])}")
        if d["expected_at"]:
            out.append(f"- Expected state at: {code(d['expected_at'])}")
        if d["summary"] or d["table"] or d["expected_at"]:
            out.append("")
        if d["shown"]:
            out += table(
                ["Kind", "Key", "Attribute differences"],
                [[md(ex["kind"]), code(ex["key"]), code(ex["attribute_diffs"])] for ex in d["shown"]],
            )
        if d["more"]:
            out += [
                f"... and {d['more']} more differing items (the journal keeps only the first {len(d['shown'])}).",
                "",
            ]
    if s.throttles:
        out += [
            "**Throttled requests:** " + ", ".join(f"{code(op)} {md(n)}" for op, n in s.throttles.items()),
            "",
        ]
    for title, lines in s.other_evidence_text:
        out += [f"**{md(title)}**", "", *[f"- {md(line)}" for line in lines], ""]
    if s.steps:
        out += ["**Steps**", ""]
        out += table(
            ["Step", "Status", "Duration"],
            [
                [
                    f"**{md(st.get('keyword'))}** {md(st.get('text'))}"
                    + (f" ({md(st['error'])})" if st.get("error") else ""),
                    md(st.get("status")),
                    fmt_seconds(st.get("duration_s")),
                ]
                for st in s.steps
            ],
        )
    return [*out, "</details>", ""]


def render_markdown(data: Mapping[str, Any]) -> str:
    """The Markdown report for a journal dict."""
    r: ReportView = build(data)
    out = [
        "# DR compliance report",
        "",
        f"## {_ICON.get(r.tone, '')} {md(r.headline)}",
        "",
        f"**{md(r.counts_line)}** on {md(r.target_label)}. {md(r.explanation)}",
        "",
        f"Run {code(r.run_id)}, started {code(r.started_at)}, took {r.duration}.",
        "",
    ]
    if r.usage_errors:
        out += ["### Usage errors", "", *[f"- {md(e)}" for e in r.usage_errors], ""]
    if r.leaks:
        out += [
            "### Leaked resources (delete them or run `drdrill janitor`)",
            "",
            *[f"- {code(e)}" for e in r.leaks],
            "",
        ]
    out += [
        "> **How to read this:** " + " ".join(f"**{term}:** {meaning}" for term, meaning in r.glossary),
        "",
    ]
    out += ["## Guarantees", ""]
    if not r.guarantees:
        out += ["No scenario was recorded in this run.", ""]
    for g in r.guarantees:
        label, tone = g.verdict
        out += [f"### {_ICON.get(tone, '')} {md(g.title)}: {label}", ""]
        if g.description:
            out += [f"{md(g.description)} ({code(g.name)})", ""]
        out += table(
            [
                "Scenario",
                "Strategy",
                "Target",
                "RTO target",
                "RTO measured (phases)",
                "RPO target",
                "RPO measured",
                "Verdict",
            ],
            [
                [
                    md(s.name)
                    + (f"<br>**{md(s.failure)}**" if s.failure else "")
                    + (f"<br>Skipped: {md(s.skip_reason)}" if s.skip_reason else ""),
                    md(s.strategy),
                    md(r.target_label),
                    s.rto.target,
                    _measured(s.rto),
                    s.rpo.target,
                    _measured(s.rpo),
                    f"{_ICON.get(s.tone, '')} {s.verdict}",
                ]
                for s in g.scenarios
            ],
        )
    if r.skipped:
        out += ["## Skipped scenarios", ""]
        out += table(
            ["Scenario", "Guarantee", "Reason"],
            [[md(s.name), md(s.guarantee), md(s.skip_reason or "no reason recorded")] for s in r.skipped],
        )
    if r.posture:
        out += ["## Stack posture checks", ""]
        out += table(
            ["Check", "Expected", "Actual", "Result"],
            [
                [
                    md(c.get("check")),
                    md(c.get("expected")),
                    md(c.get("actual")),
                    "✅ OK" if c.get("ok") else "❌ Not OK",
                ]
                for c in r.posture
            ],
        )
    out += ["## Evidence per scenario", ""]
    for s in r.scenarios:
        out += _evidence(s)
    endpoint = code(r.target.get("endpoint")) if r.target.get("endpoint") else "AWS"
    out += [
        "## Target and capabilities",
        "",
        f"- Target: {md(r.target.get('name'))}, region {md(r.target.get('region'))}, endpoint {endpoint}, "
        f"account {code(r.target.get('account_id'))}",
        "- Declared capabilities: " + (", ".join(code(c) for c in r.capabilities) or "none"),
        "",
    ]
    policy = flatten_policy(r.policy)
    if policy:
        out += ["<details>", "<summary>DR policy</summary>", ""]
        out += table(["Setting", "Value"], [[code(k), md(v)] for k, v in policy])
        out += ["</details>", ""]
    out += [
        f"_drdrill {md(r.version)}, journal schema {code(r.schema)}; rendered from the run journal alone._",
        "",
    ]
    return "\n".join(out)


def write_markdown(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``report.md`` into ``out_dir``."""
    path = out_dir / FILENAME
    path.write_text(render_markdown(data), encoding="utf-8")
    return path
