"""'the backup plan has run N times' on a target without a plan clock: wait for the plan's runs, or skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dr_infra.drill import plan_runs
from dr_infra.drill.policy import Policy
from dr_infra.drill.state import Drill
from dr_infra.report.journal import ScenarioRecord

PLAN_ID = "plan-1"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/drdrill-run-1-orders"


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return self.pages


class _Backup:
    def __init__(self, jobs: list[dict[str, Any]], schedule: str) -> None:
        self.jobs, self.schedule = jobs, schedule

    def get_paginator(self, name: str) -> _Pages:
        assert name == "list_backup_jobs"
        return _Pages([{"BackupJobs": self.jobs}])

    def get_backup_plan(self, BackupPlanId: str) -> dict[str, Any]:
        return {"BackupPlan": {"Rules": [{"RuleName": "r", "ScheduleExpression": self.schedule}]}}


def _drill(backup: _Backup, job_timeout: float = 3600) -> Drill:
    target = SimpleNamespace(
        name="aws", capabilities={"backup_jobs"}, client=lambda service: backup, missing=lambda *c: []
    )
    drill = Drill(
        target=target,  # type: ignore[arg-type]
        run_id="run",
        record=ScenarioRecord(id="s", name="s", feature="f", feature_file="f.feature", guarantee="plan_rpo"),
        policy=Policy(backup_job_timeout_seconds=job_timeout),
        stack_counter=lambda: 1,
    )
    names = SimpleNamespace(prefix="drdrill-run-1", plan="drdrill-run-1-plan", vault="drdrill-run-1-vault")
    drill.stack = SimpleNamespace(names=names, table_arn=TABLE_ARN, plan_id=PLAN_ID)  # type: ignore[assignment]
    return drill


def _job(n: int, plan: str | None = PLAN_ID) -> dict[str, Any]:
    return {
        "BackupJobId": f"J{n}",
        "RecoveryPointArn": f"arn:rp:{n}",
        "CreationDate": datetime.now(UTC) - timedelta(hours=12 * (4 - n)),
        "State": "COMPLETED",
        **({"CreatedBy": {"BackupPlanId": plan}} if plan else {}),
    }


def test_a_wait_longer_than_the_policy_allows_skips_with_the_reason() -> None:
    drill = _drill(_Backup([_job(1, plan=None)], "cron(0 0/12 * * ? *)"))  # an on-demand job does not count
    with pytest.raises(pytest.skip.Exception) as skipped:
        plan_runs.run_plan(drill, 3)
    reason = str(skipped.value)
    assert "waiting for 3 more runs of backup plan drdrill-run-1-plan" in reason
    assert "backup.job_timeout_seconds of 3600 s" in reason
    assert drill.record.skip_reason == reason


def test_runs_the_plan_already_made_are_used_and_recorded() -> None:
    drill = _drill(_Backup([_job(1), _job(2), _job(3)], "cron(0 0/12 * * ? *)"))
    jobs = plan_runs.run_plan(drill, 3)
    assert [j["BackupJobId"] for j in jobs] == ["J1", "J2", "J3"]
    runs = drill.record.evidence["backup_plan_runs"]
    assert runs["how"] == "3 runs had already completed" and len(runs["jobs"]) == 3


def test_a_schedule_drdrill_cannot_read_skips_with_the_reason() -> None:
    drill = _drill(_Backup([], "cron(0 12 L * ? *)"))
    with pytest.raises(pytest.skip.Exception, match="cannot tell when backup plan drdrill-run-1-plan runs"):
        plan_runs.run_plan(drill, 1)
