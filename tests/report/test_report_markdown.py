"""report.md: the same content for a PR comment or a wiki, with untrusted text made inert."""

from __future__ import annotations

import re
from pathlib import Path

from dr_infra.report.markdown import MAX_BYTES, code, md, render_markdown, render_summary
from tests.report import journals
from tests.report.journals import HOSTILE


def markdown(folder: Path) -> str:
    return (folder / "report.md").read_text(encoding="utf-8")


def test_verdict_and_counts(passed_report: Path, violated_report: Path) -> None:
    assert "## ✅ DR guarantees met" in markdown(passed_report)
    text = markdown(violated_report)
    assert "## ❌ DR guarantees violated" in text
    assert "**1 met, 3 violated, 1 errored, 1 skipped of 6 scenarios**" in text


def test_tables_one_row_per_scenario(violated_report: Path) -> None:
    text = markdown(violated_report)
    header = "| Scenario | Verdict | RTO measured / target | RPO measured / target | Strategy |"
    assert text.count(header) == 6  # one table per guarantee
    rows = [line for line in text.splitlines() if line.startswith("| ") and any(v in line for v in VERDICT_CELLS)]
    assert len(rows) == 6
    assert all(row.count(" | ") == 4 for row in rows)  # no cell broke the table
    assert "| ❌ Violated | 1 h 10 min ❌ / 1 h 00 min |" in text


VERDICT_CELLS = ("| ✅ Met |", "| ❌ Violated |", "| ❌ Error |", "| \u23f8\ufe0f Skipped |")


def test_summary_text_has_no_markdown_backslashes(violated_report: Path) -> None:
    summaries = re.findall(r"<summary>(.*?)</summary>", markdown(violated_report))
    assert summaries and not any("\\" in s for s in summaries), summaries


def test_violations_in_full_and_under_64_kb(violated_report: Path, passed_report: Path) -> None:
    text = markdown(violated_report)
    assert "**Steps**" in text and "**RTO phases**" in text  # a violation's evidence in full
    assert "**Steps**" not in markdown(passed_report)  # a met scenario's essentials only
    assert len(text.encode("utf-8")) < MAX_BYTES


def test_step_summary_is_compact() -> None:
    data = journals.as_dict(journals.violated_journal())
    summary = render_summary(data, "reports/dd-x")
    assert summary.startswith("# DR drill") and "DR guarantees violated" in summary
    assert "`reports/dd-x`" in summary and "Simulation, not AWS" in summary
    assert len(summary.encode("utf-8")) < 8_000


def test_skips_evidence_posture_and_capabilities(passed_report: Path) -> None:
    text = markdown(passed_report)
    assert "## Skipped scenarios" in text and "lacks capability fault\\_injection" in text
    assert "## Stack posture checks" in text and "✅ OK" in text
    assert text.count("<details>") == text.count("</details>") >= 7
    assert "`6F1E4A2B-9C3D-4E5F-8A7B-1C2D3E4F5A6B`" in text
    assert "`pitr_time_travel`" in text
    assert "**How to read this:**" in text


def test_hostile_text_is_inert(hostile_report: Path) -> None:
    text = markdown(hostile_report)
    assert HOSTILE not in text and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text
    assert "<img" not in text and "<iframe" not in text
    assert "[click](https" not in text and "\\[click\\]\\(https" in text


def test_escaping_helpers() -> None:
    assert md("a|b") == "a\\|b"
    assert md("line1\nline2") == "line1 line2"
    assert md(None) == "-"
    assert code("a`b|c") == "`a'b\\|c`"
    assert code("") == "-"


def test_data_comparison_uses_the_real_fields(violated_report: Path, passed_report: Path) -> None:
    text = markdown(violated_report)
    assert "? items" not in text and "? compared" not in text
    assert "**Data comparison:** 500 items expected, 463 found: 37 missing, 0 extra, 1 changed" in text
    assert "- Result: NOT equal: 37 missing, 0 extra, 1 changed" in text
    assert "- Expected state at: `2025-03-02T11:26:39.000+00:00`" in text
    assert "... and 28 more differing items" in text
    assert "**Data comparison:** 120 items expected, 120 found" in markdown(passed_report)


def test_evidence_dicts_are_key_value_lines_and_points_appear_once() -> None:
    data = journals.as_dict(journals.passed_journal())
    data["scenarios"][0].update(status="failed", failure="RTO 2 h exceeded the target 1 h")  # evidence in full
    text = render_markdown(data)
    assert "**Stack**" in text and "- prefix: drdrill-dd-20250301T101500Z-3f9a-1" in text
    assert "{'" not in text and '{"prefix"' not in text
    section = text.split("**Recovery points**", 1)[1].split("**", 1)[0]
    assert section.count("01740816000000-6f1e4a2b") == 1


def _with_users_monitor(lines: int) -> dict:
    """The passed journal's first scenario as if drilled with a user's [monitor] that logged ``lines`` lines."""
    data = journals.as_dict(journals.passed_journal())
    evidence = data["scenarios"][0]["evidence"]
    stack = evidence["stack"]
    stack["created"] = [
        *stack.get("created", []),
        "lambda function drdrill-dd-1-monitor (the user's monitor: lambda, recovery-lambda.lambda_handler)",
    ]
    stack["definition"] = {"monitor": {"handler": "recovery-lambda.lambda_handler", "runtime": "python3.13"}}
    evidence["monitor_output"] = [
        {"timestamp": f"2025-03-01T10:16:{n:02d}.000+00:00", "message": f"RESTORE JOB STARTED: job-{n} <b>"}
        for n in range(lines)
    ]
    return data


def test_a_users_monitor_its_function_and_log_lines_are_shown_for_a_met_scenario() -> None:
    text = render_markdown(_with_users_monitor(12))
    assert (
        "**Change monitor:** the user's function `drdrill-dd-1-monitor` (handler `recovery-lambda.lambda_handler`"
        in text
    )
    assert "12 log lines of its own since the change:" in text
    assert "RESTORE JOB STARTED: job-0 " in text and "RESTORE JOB STARTED: job-9 " in text
    assert "job-10 " not in text and "... and 2 more (report.html has every line)" in text
    assert "<b>" not in text  # the user's lines are untrusted text: inert


def test_drdrills_own_monitor_gets_no_users_monitor_lines() -> None:
    text = render_markdown(journals.as_dict(journals.passed_journal()))
    assert "the user's function" not in text
    data = _with_users_monitor(1)
    data["scenarios"][0]["evidence"]["stack"]["created"].pop()  # the function drdrill deployed is its own
    assert "the user's function" not in render_markdown(data)
