"""Fixtures for the report tests: sample journals and their reports, rendered once per session.

Each sample is rendered once per session and the tests only read files.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dr_infra.report import render_all
from dr_infra.report.journal import Journal
from tests.cli.conftest import run_drdrill
from tests.report import journals
from tests.report.journals import HOSTILE


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return journals.FIXTURES


@pytest.fixture(scope="session")
def history_dir() -> Path:
    return journals.FIXTURES / "history"


@pytest.fixture
def passed_data() -> dict[str, Any]:
    return journals.as_dict(journals.passed_journal())


@pytest.fixture
def violated_data() -> dict[str, Any]:
    return journals.as_dict(journals.violated_journal())


def hostile_journal() -> Journal:
    """The violated sample with untrusted text everywhere a feature file or AWS could put it."""
    journal = journals.violated_journal()
    first = journal.scenarios[0]
    first.name = HOSTILE
    first.failure = '<img src=x onerror="alert(2)"> [click](https://evil.example/) | pipe'
    journal.scenarios[1].name = '=HYPERLINK("https://evil.example","x") costs $5 and $6'
    journal.scenarios[1].evidence["monitor_log"] = [
        {
            "decision": "failed",
            "table": "</td><script>alert(3)</script>",
            "reason": "<b>bold</b>",
            "keys": {"pk": {"S": "<i>"}},
        }
    ]
    first.evidence["restore_jobs"][0]["status_message"] = "<iframe src=https://evil.example>"
    return journal


@pytest.fixture(scope="session")
def render(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Render a journal into a fresh folder (memoised per name): ``render(name, journal, **options)``."""
    cache: dict[str, Path] = {}

    def _render(name: str, journal: Journal | dict[str, Any] | Path, **options: Any) -> Path:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            render_all(copy.deepcopy(journal) if isinstance(journal, dict) else journal, out, **options)
            cache[name] = out
        return cache[name]

    return _render


@pytest.fixture(scope="session")
def passed_report(render: Callable[..., Path], history_dir: Path) -> Path:
    """passed.json rendered with the three earlier runs as history (so the trend charts exist)."""
    return render("passed", journals.FIXTURES / "passed.json", history_dir=history_dir)


@pytest.fixture(scope="session")
def violated_report(render: Callable[..., Path]) -> Path:
    return render("violated", journals.FIXTURES / "violated.json")


@pytest.fixture(scope="session")
def hostile_report(render: Callable[..., Path]) -> Path:
    return render("hostile", hostile_journal())


@pytest.fixture(scope="session")
def redacted_report(render: Callable[..., Path], history_dir: Path) -> Path:
    return render("redacted", hostile_journal(), history_dir=history_dir, redact=True)


REAL_RUN_FEATURE = """Feature: Deleted items come back
  Scenario: A deleted item is restored from the latest recovery point
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And a recovery point of the table exists
    And the DR policy requires an RTO of 30 seconds and an RPO of 60 seconds
    When 1 item is deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started
    And the RTO and RPO meet the DR policy

  Scenario: Deleted items are restored to the second before the deletion
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "pitr" strategy
    When 3 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the RTO and RPO meet the DR policy
"""


@pytest.fixture(scope="session")
def real_run_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of a real ``drdrill run`` of two small drills on the embedded target: backup (restore
    job, recovery points, diff, stack, change, a policy step) and pitr (a point-in-time restore, no AWS Backup
    job, targets from the policy)."""
    work = tmp_path_factory.mktemp("real-run")
    feature = work / "deletion" / "deleted_items.feature"
    feature.parent.mkdir()
    feature.write_text(REAL_RUN_FEATURE, encoding="utf-8")
    out = work / "report"
    result = run_drdrill("run", str(feature), "--report-dir", str(out), "-q", cwd=work)
    # whatever the verdict, a real report.json must validate; the tests that need the drills to pass say so
    assert result.code in (0, 1) and (out / "report.json").is_file(), result.stdout[-3000:] + result.stderr
    return out
