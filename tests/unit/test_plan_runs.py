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


PLAN_STEPS = [("given", 'a DR-protected table "orders" with 5 items'), ("given", "the backup plan has run 3 times")]
NOON = datetime(2026, 1, 5, 11, 0, tzinfo=UTC).timestamp()  # an hour before the seed plan's 12:00 run


def test_before_provisioning_three_runs_12_hours_apart_exceed_an_hour_long_limit() -> None:
    """The seed plan (cron(0 */12 * * ? *), AWS's 480-minute start window) from 11:00: its third run is at 12:00
    the next day, and may start 8 hours later: 33 hours of waiting, known before any stack exists."""
    reason = plan_runs.skip_before_provisioning(PLAN_STEPS, {"backup_jobs"}, None, 3600, now=NOON)
    assert reason is not None
    assert reason.startswith("waiting for 3 more runs of the stack's new backup plan would take up to 33.0 h")
    assert "until 2026-01-06T12:00:00" in reason and "480-minute start window" in reason
    assert "backup.job_timeout_seconds of 3600 s" in reason


def test_before_provisioning_a_wait_within_the_limit_or_a_plan_clock_runs() -> None:
    one = [("given", "the backup plan has run 1 time")]
    assert plan_runs.skip_before_provisioning(one, {"backup_jobs"}, None, 10 * 3600, now=NOON) is None  # 1 h + 8 h
    assert plan_runs.skip_before_provisioning(one, {"backup_jobs"}, None, 8 * 3600, now=NOON) is not None
    assert plan_runs.skip_before_provisioning(PLAN_STEPS, {"backup_jobs", "plan_clock"}, None, 60, now=NOON) is None
    other = [("given", "a recovery point of the table exists")]
    assert plan_runs.skip_before_provisioning(other, set(), None, 1) is None


def test_before_provisioning_the_rules_come_from_the_stack_definition() -> None:
    """A user's hourly plan with a 60-minute start window: 3 runs are at most 4 hours away."""
    rules = [{"RuleName": "hourly", "ScheduleExpression": "cron(0 * * * ? *)", "StartWindowMinutes": 60}]
    definition = SimpleNamespace(backup=SimpleNamespace(plan={"Rules": rules}))
    assert plan_runs.plan_rules(definition) == rules  # type: ignore[arg-type]
    assert plan_runs.skip_before_provisioning(PLAN_STEPS, set(), definition, 4 * 3600, now=NOON) is None  # type: ignore[arg-type]
    assert plan_runs.skip_before_provisioning(PLAN_STEPS, set(), definition, 3 * 3600, now=NOON) is not None  # type: ignore[arg-type]
