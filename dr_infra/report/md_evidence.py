"""report.md's evidence: one collapsed section per scenario, in full only where a guarantee was violated.

Why not everything: a pull-request comment holds 64 KB and a bulk delete alone logs hundreds of monitor decisions;
the HTML report and report.json keep every line. Text inside ``<summary>`` is HTML, where Markdown's backslash
escapes show literally, so it is escaped as HTML only (:func:`summary_text`).
"""

from __future__ import annotations

from html import escape

from dr_infra.report.fmt import compact, fmt_seconds
from dr_infra.report.grouping import decision_groups
from dr_infra.report.md_text import code, md, table
from dr_infra.report.model import ScenarioView

ICON = {"good": "✅", "bad": "❌", "warn": "⚠️", "neutral": "\u23f8\ufe0f"}


def summary_text(value: object) -> str:
    """Untrusted text for a ``<summary>`` element: HTML-escaped, one line, no Markdown backslashes."""
    return " ".join(escape("" if value is None else str(value)).split()) or "-"


def evidence(s: ScenarioView) -> list[str]:
    """One scenario's evidence in a collapsed ``<details>``: in full for a violation, the essentials otherwise."""
    full = s.tone == "bad"
    out = [
        "<details>",
        f"<summary>{ICON.get(s.tone, '')} {summary_text(s.name)}: {summary_text(s.verdict)}</summary>",
        "",
        f"- Guarantee: {md(s.guarantee)}; strategy: {md(s.strategy)}; duration: {s.duration}",
        f"- RTO: {s.rto.measured} measured vs {s.rto.target} target ({s.rto.verdict})",
        f"- RPO: {s.rpo.measured} measured vs {s.rpo.target} target ({s.rpo.verdict})",
    ]
    if s.feature_file:
        where = f"{s.feature_file}:{s.line}" if s.line else s.feature_file
        out.append(f"- Feature: {md(s.feature)} ({code(where)})")
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
    if full and s.rto.phases:
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
    if full and s.monitor_log:
        groups = decision_groups(s.monitor_log)
        out += [f"**Change monitor decisions ({len(s.monitor_log)} log lines)**", ""]
        out += table(
            ["Decision", "Event", "Count", "Example keys", "Error"],
            [
                [
                    code(g.decision),
                    md(g.event),
                    str(g.count),
                    code(compact(g.example.get("keys"))),
                    md("; ".join(g.errors)),
                ]
                for g in groups
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
    if full and s.throttles:
        out += [
            "**Throttled requests:** " + ", ".join(f"{code(op)} {md(n)}" for op, n in s.throttles.items()),
            "",
        ]
    for title, lines in s.other_evidence_text if full else []:
        out += [f"**{md(title)}**", "", *[f"- {md(line)}" for line in lines], ""]
    if full and s.steps:
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
