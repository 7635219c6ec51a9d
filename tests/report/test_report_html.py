"""report.html: verdict, one row per scenario, real inline SVG charts, self-contained and escaped."""

from __future__ import annotations

import json
import re
from html import escape as html_escape
from pathlib import Path

from dr_infra.report.html import render_html
from tests.report import journals
from tests.report.journals import FIXTURES, HOSTILE


def html(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def test_verdict_headline_and_counts(passed_report: Path, violated_report: Path) -> None:
    passed, violated = html(passed_report), html(violated_report)
    assert re.search(r'class="verdict tone-good".*?DR guarantees met', passed, re.S)
    assert "6 met, 1 skipped of 7 scenarios" in passed
    assert re.search(r'class="verdict tone-bad".*?DR guarantees violated', violated, re.S)
    assert "1 met, 3 violated, 1 errored, 1 skipped of 6 scenarios" in violated


def test_one_row_per_scenario_grouped_by_guarantee(violated_report: Path) -> None:
    page = html(violated_report)
    rows = re.findall(r'<tr class="scenario-row tone-(\w+)" data-status="(\w+)">', page)
    assert [status for _, status in rows] == ["failed", "failed", "passed", "error", "skipped", "failed"]
    for guarantee in ("deletion", "bulk_deletion", "modification", "restore_faults", "insertion", "posture"):
        assert f'id="guarantee-{guarantee}"' in page
    # RTO target vs measured with the phase breakdown, and the failure in words
    assert "1 h 00 min" in page and "1 h 10 min" in page
    assert re.search(r"<td>restore</td>.*?<td class=\"num\">1 h 05 min</td>", page)
    assert "RTO 1 h 10 min exceeded the target" in page


def test_charts_are_inline_svg_with_size_and_title(passed_report: Path) -> None:
    page = html(passed_report)
    svgs = re.findall(r"<svg\b[^>]*>", page)
    assert len(svgs) == 5  # RTO, timeline, RPO, RTO trend, RPO trend (history present)
    for tag in svgs:
        viewbox = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', tag)
        assert viewbox and float(viewbox.group(1)) >= 700 and float(viewbox.group(2)) > 100
    for title in (
        "Measured RTO as a share of its target",
        "Recovery timeline",
        "RTO across the last 4 runs",
        "RPO across the last 4 runs",
    ):
        assert re.search(r"<title id=\"[\w-]+-title\">" + title, page)


def test_chart_labels_are_text_and_full(passed_report: Path, violated_report: Path) -> None:
    """Labels are <text> elements (searchable), never cut: every scenario name with a target is in the chart."""
    for folder in (passed_report, violated_report):
        page = html(folder)
        chart = re.search(r'<figure id="chart-rto".*?</figure>', page, re.S)
        assert chart is not None
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", chart.group(0))
        assert len(texts) > 10 and "<path" not in chart.group(0)
        joined = " ".join(texts)
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        for s in data["scenarios"]:
            if (s.get("rto") or {}).get("target_s") is not None:
                assert all(word in joined for word in html_escape(s["name"]).split()), s["name"]


def test_expected_violation_has_its_own_mark(violated_report: Path) -> None:
    from dr_infra.report import charts
    from dr_infra.report.model import build

    data = json.loads((violated_report / "report.json").read_text(encoding="utf-8"))
    fault = next(s for s in data["scenarios"] if s["guarantee"] == "restore_faults")
    fault["status"], fault["failure"] = "passed", None
    fault["evidence"]["expected_violation"] = [{"measure": "rto", "fault": "restore jobs take 5 seconds"}]
    fault["rto"].update(target_s=1.0, measured_s=3.0, met=False)
    chart = charts.share_chart(build(data).scenarios, "rto", "rto")
    assert chart is not None
    row = next(r for r in chart.rows if fault["name"] in " ".join(r.label))
    assert row.hatch and row.colour == charts.EXPECTED
    plain = next(r for r in chart.rows if r.colour == charts.BAD)
    assert not plain.hatch
    assert ("violated as the injected fault intends (expected)", charts.EXPECTED, True) in chart.legend


def test_charts_render_the_same_bytes_twice(tmp_path: Path, history_dir: Path) -> None:
    from dr_infra.report import render_all

    for name in ("a", "b"):
        render_all(FIXTURES / "passed.json", tmp_path / name, history_dir=history_dir, formats=["html"])
    first, second = ((tmp_path / n / "report.html").read_bytes() for n in ("a", "b"))
    assert first == second
    assert b"<text" in first and b"glyph" not in first


def test_chart_ids_are_unique_across_the_page(passed_report: Path) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html(passed_report))
    assert len(ids) == len(set(ids))


def test_no_trend_charts_without_history(violated_report: Path) -> None:
    page = html(violated_report)
    assert "across the last" not in page
    assert "Measured RTO as a share of its target" in page


def test_self_contained_no_external_resources(passed_report: Path, violated_report: Path) -> None:
    for page in (html(passed_report), html(violated_report)):
        assert "<script" not in page.lower()
        assert "<link" not in page.lower()
        assert "@import" not in page
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
        assert "<!DOCTYPE svg" not in page and "<?xml" not in page


def test_responsive_and_printable(passed_report: Path) -> None:
    page = html(passed_report)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media print" in page and "@media (max-width: 760px)" in page
    assert "overflow-x: auto" in page  # tables scroll sideways on a phone


def test_glossary_evidence_skips_posture_and_capabilities(passed_report: Path) -> None:
    page = html(passed_report)
    assert "RTO (recovery time objective)" in page and "RPO (recovery point objective)" in page
    assert "6F1E4A2B-9C3D-4E5F-8A7B-1C2D3E4F5A6B" in page  # restore job id
    assert "table/orders/backup/01740816000000-6f1e4a2b" in page  # recovery point ARN
    assert "restore_already_started" in page  # monitor log line
    assert "table loss: the drill ran the recovery runbook itself" in page
    assert "target &#39;aws&#39; lacks capability fault_injection" in page  # skip reason
    assert "Backup plan frequency" in page  # posture check
    assert "<li>pitr_time_travel</li>" in page  # declared capability


def test_diff_shows_first_items_and_how_many_more(violated_report: Path) -> None:
    page = html(violated_report)
    assert "pk=order-0208, sk=ORDER" in page and "order-0209" not in page
    assert "price: 19.99 -&gt; 0" in page  # attribute differences in words, not JSON
    # the journal keeps 10 examples; the exact counts say 37 missing + 1 changed
    assert "and 28 more differing items" in page
    assert "500 items expected, 463 found:" in page and "? items" not in page
    assert "NOT equal: 37 missing, 0 extra, 1 changed" in page  # the comparison's own summary
    assert "orders-restored-pitr" in page and "2025-03-02 11:26:39 UTC" in page  # table and expected_at


def test_diff_of_an_equal_comparison(passed_report: Path) -> None:
    page = html(passed_report)
    assert "120 items expected, 120 found:" in page
    assert "equal: 120 expected, 120 actual items" in page
    assert "more differing items" not in page


def test_recovery_point_recorded_twice_is_shown_once(passed_report: Path) -> None:
    page = html(passed_report)
    table = re.search(r'<table class="recovery-points">.*?</table>', page, re.S)
    assert table and table.group(0).count("01740816000000-6f1e4a2b") == 1


def test_other_evidence_is_readable_text(passed_report: Path) -> None:
    page = html(passed_report)
    assert "<h4>Stack</h4>" in page and "<li>prefix: drdrill-dd-20250301T101500Z-3f9a-1</li>" in page
    assert "<h4>Policy step</h4>" in page and "<li>rto_seconds: 3600.0</li>" in page
    assert "<li>expected: 1, started: 1</li>" in page  # restore_job_count, a list of dicts
    assert "{&#39;" not in page and "{&#34;prefix" not in page


def test_leaks_are_shown(violated_report: Path) -> None:
    assert "Leaked resources" in html(violated_report)


def test_hostile_text_is_escaped(hostile_report: Path) -> None:
    page = html(hostile_report)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<iframe" not in page and "<b>bold</b>" not in page
    assert "alert(3)</script>" not in page


def test_renders_journals_with_missing_fields() -> None:
    page = render_html(
        {
            "schema": "drdrill-journal/1",
            "run_id": "r1",
            "status": "not-measured",
            "scenarios": [{"name": "x"}],
        }
    )
    # a scenario with no status is shown as an error, and the banner agrees with its row (one verdict)
    assert "DR guarantees violated" in page and "Nothing measured" not in page
    assert "Nothing measured" in render_html(
        {"status": "not-measured", "scenarios": [{"name": "x", "status": "skipped"}]}
    )
    empty = render_html({})
    assert "No scenario was recorded" in empty


def test_usage_error_and_interrupted_headlines(passed_data: dict) -> None:
    passed_data["status"] = "usage-error"
    passed_data["usage_errors"] = ["policy.toml: rto.backup must be a number of seconds"]
    page = render_html(passed_data)
    assert "Run not valid: usage or configuration error" in page
    assert "rto.backup must be a number" in page
    passed_data["status"], passed_data["usage_errors"] = "interrupted", []
    assert "Run interrupted" in render_html(passed_data)


def test_all_skipped_is_not_measured() -> None:
    journal = journals.passed_journal()
    for s in journal.scenarios:
        s.status, s.skip_reason = "skipped", "no capability"
    journal.status = journal.verdict()
    assert journal.status == "not-measured"
    page = render_html(journals.as_dict(journal))
    assert "Nothing measured" in page and "7 skipped of 7 scenarios" in page


def _trend_run(day: int, target: str, rto: dict[str, float]) -> dict:
    """A journal with one scenario per guarantee in ``rto`` (backup strategy, 60 s target on embedded)."""
    goal = 3600.0 if target == "aws" else 60.0
    return {
        "run_id": f"r{day}-{target}",
        "started_at": f"2026-11-{day:02d}T00:00:00+00:00",
        "target": {"name": target},
        "scenarios": [
            {"guarantee": g, "strategy": "backup", "rto": {"measured_s": v, "target_s": goal}} for g, v in rto.items()
        ],
    }


def test_trend_has_one_panel_per_target_guarantee_and_strategy() -> None:
    """Seconds on the embedded target and an hour on AWS share no scale: each series gets its own panel, axis and
    target line, never one plot of lines with repeated colours."""
    from dr_infra.report.charts import trend_chart

    runs = [
        _trend_run(1, "embedded", {"deletion": 2.0, "table_loss": 1.0}),
        _trend_run(2, "aws", {"deletion": 1500.0}),
        _trend_run(3, "embedded", {"deletion": 3.0, "table_loss": 1.5}),
        _trend_run(4, "aws", {"deletion": 1700.0}),
    ]
    chart = trend_chart(runs, "rto", "trend-rto")
    assert chart is not None
    titles = [p.title for p in chart.panels]
    assert titles == sorted(
        [
            "Deleted items come back · backup on aws",
            "Deleted items come back · backup on embedded",
            "A lost table is recovered · backup on embedded",
        ]
    )
    aws = chart.panels[titles.index("Deleted items come back · backup on aws")]
    embedded = chart.panels[titles.index("Deleted items come back · backup on embedded")]
    assert aws.target_text == "target 1 h 00 min" and embedded.target_text == "target 1 min 00 s"
    assert aws.last_text == "latest 28 min 20 s" and embedded.last_text == "latest 3.0 s"
    assert len({p.colour for p in chart.panels}) == len(chart.panels)
    assert len(aws.dots) == 2 and len(embedded.dots) == 2  # each series only has the runs of its target


def test_no_trend_from_a_single_measured_run() -> None:
    from dr_infra.report.charts import trend_chart

    assert trend_chart([_trend_run(1, "embedded", {"deletion": 2.0})], "rto", "t") is None
    unmeasured = _trend_run(2, "embedded", {})
    assert trend_chart([_trend_run(1, "embedded", {"deletion": 2.0}), unmeasured], "rto", "t") is None
