"""report.md: the same content for a PR comment or a wiki, with untrusted text made inert."""

from __future__ import annotations

from pathlib import Path

from dr_infra.report.markdown import code, md
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
    columns = ["Scenario", "Strategy", "Target", "RTO target", "RTO measured (phases)", "RPO target"]
    header = "| " + " | ".join([*columns, "RPO measured", "Verdict"]) + " |"
    assert text.count(header) == 6  # one table per guarantee
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and line.endswith(("Met |", "Violated |", "Error |", "Skipped |"))
    ]
    assert len(rows) == 6
    assert all(row.count(" | ") == 7 for row in rows)  # no cell broke the table
    assert "1 h 10 min ❌ (detect 6.0 s; restore 1 h 05 min; copy back 3 min 00 s; verify 1 min 14 s)" in text


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


def test_evidence_dicts_are_key_value_lines_and_points_appear_once(passed_report: Path) -> None:
    text = markdown(passed_report)
    assert "**Stack**" in text and "- prefix: drdrill-dd-20250301T101500Z-3f9a-1" in text
    assert "- rto\\_seconds: 3600.0" in text and "- expected: 1, started: 1" in text
    assert "{'" not in text and '{"prefix"' not in text
    section = text.split("**Recovery points**", 1)[1].split("**", 1)[0]
    assert section.count("01740816000000-6f1e4a2b") == 1
