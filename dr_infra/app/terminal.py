"""What ``drdrill run`` prints: one line per scenario by its Gherkin name, failures in one line, a closing table.

Why not pytest's own output: an on-call engineer reads "deletion | A deleted item is restored ... MET", not
``features/deletion/x.feature::test_a_deleted_item_is_restored PASSED``, and a violated RTO is the file and line of
the step that failed and the one-line reason, not 40 lines of traceback through pytest internals (those stay
available with ``drdrill run -v``). The run ends with a compact table (verdict, RTO and RPO against their targets
per scenario) and the report's path: a rich table on a terminal, plain text when piped or in CI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

import pytest

from dr_infra.report.fmt import fmt_seconds
from dr_infra.report.model import ScenarioView, build

MARKS = {"good": "✓", "bad": "✗", "warn": "!", "neutral": "-"}


def _measure(label: str, view: Any) -> str:
    if view.measured_s is None and view.target_s is None:
        return ""
    return f"{label} {view.measured} / {view.target}"


def scenario_line(s: ScenarioView, worker: str | None = None) -> list[str]:
    """The lines for one finished scenario: verdict, name, RTO/RPO; on failure ``file:line  step`` and the reason."""
    measures = "  ".join(m for m in (_measure("RTO", s.rto), _measure("RPO", s.rpo)) if m)
    where = f" [{worker}]" if worker else ""
    head = f"{MARKS.get(s.tone, '-')} {s.verdict:<8} {s.guarantee} | {s.name}{where}"
    out = [head + (f"  ({measures}, {s.duration})" if measures else f"  ({s.duration})")]
    if s.status in {"failed", "error", "interrupted"}:
        step = next((st for st in s.steps if st.get("status") in {"failed", "error"}), None)
        line = (step or {}).get("line") or s.line
        location = f"{s.feature_file}:{line}" if s.feature_file and line else s.feature_file or s.id
        text = f"  {step.get('keyword')} {step.get('text')}" if step else ""
        out.append(f"    {location}{text}")
        out.append(f"    {s.failure or 'failed'}")
    elif s.status == "skipped" and s.skip_reason:
        out.append(f"    skipped: {s.skip_reason}")
    return out


class NoProgressLetters:
    """The pytest plugin ``drdrill run -q`` adds: none of pytest's progress letters (``...  [100%]``).

    ``-q`` promises only the result, serially and under ``-n`` alike; pytest's dots are progress, and the
    scenario lines that replace them without ``-q`` (:class:`RunTerminal`) are what ``-q`` leaves out. With
    ``-v`` pytest's own output stays, letters included."""

    def __init__(self) -> None:
        self.config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """No letter or word per test; the outcome still counts in pytest's closing ``N passed`` line."""
        if self.config is not None and self.config.getoption("verbose") > 0:
            return None
        if report.when == "call":
            return report.outcome, "", ""
        if report.passed:
            return "", "", ""  # pytest's own category for a passing set-up or teardown: not counted
        return ("skipped" if report.skipped else "error"), "", ""


class RunTerminal(NoProgressLetters):
    """The pytest plugin ``drdrill run`` adds: scenario lines instead of pytest's progress letters."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.printed: set[str] = set()

    def _out(self) -> IO[str]:
        return self.stream or sys.stdout

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown" or self.config is None or report.nodeid in self.printed:
            return
        from dr_infra.bdd.session import drill_session

        journal = drill_session(self.config).journal
        record = next((s for s in reversed(journal.scenarios) if s.id == report.nodeid), None)
        if record is None:
            return
        self.printed.add(report.nodeid)
        data = {"scenarios": [journal_record(record)]}
        (view,) = build(data).scenarios
        node = getattr(report, "node", None)
        worker = getattr(getattr(node, "gateway", None), "id", None)
        out = self._out()
        for line in scenario_line(view, worker):
            out.write(line + "\n")
        out.flush()


def journal_record(record: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data: dict[str, Any] = asdict(record)
    return data


def summary_rows(data: Mapping[str, Any]) -> list[list[str]]:
    """Verdict, guarantee, scenario, RTO and RPO (measured / target) per scenario."""
    return [
        [
            f"{MARKS.get(s.tone, '-')} {'Expected violation' if s.expected_violation else s.verdict}",
            s.guarantee,
            s.name,
            f"{s.rto.measured} / {s.rto.target}",
            f"{s.rpo.measured} / {s.rpo.target}",
        ]
        for s in build(data).scenarios
    ]


HEADERS = ["Verdict", "Guarantee", "Scenario", "RTO / target", "RPO / target"]


def print_summary(data: Mapping[str, Any], report_dir: str | None, stream: IO[str] | None = None) -> None:
    """The closing table and the report's path: rich on a terminal, plain columns when piped or in CI."""
    out = stream or sys.stdout
    view = build(data)
    rows = summary_rows(data)
    live = out.isatty() and not os.environ.get("CI")
    if live:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{view.headline}: {view.counts_line}", title_justify="left")
        for header in HEADERS:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        Console(file=out).print(table)
    else:
        out.write("\n" + plain_table(HEADERS, rows) + "\n")
        took = fmt_seconds(data.get("duration_s"))
        out.write(f"{view.headline}: {view.counts_line} on {view.target_label} in {took}\n")
    if report_dir:
        out.write(f"report: {report_dir}/report.html (verify with: drdrill verify {report_dir})\n")
    out.flush()


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell."""
    cut = [list(row) for row in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *cut, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in [headers, *cut]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
