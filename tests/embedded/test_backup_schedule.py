"""Backup plans run on the embedded target's plan clock: scheduled jobs, CreatedBy, lifecycle ends (boto3 only)."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import completed_backup, create_role, create_table, put

from dr_infra.targets.control_client import ControlError
from dr_infra.targets.embedded import EmbeddedTarget

HOUR = 3600.0


@pytest.fixture
def plan(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    """A table, a vault, a role and a plan named ``plan-<unique>`` with a 12-hour rule kept 1 day."""
    ddb, backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
    table = f"sched-{unique}"
    arn = create_table(ddb, table)
    put(ddb, table, "a", 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role_name = f"backup-role-{unique}"
    role = create_role(iam, role_name)
    return {"backup": backup, "iam": iam, "ddb": ddb, "table": table, "arn": arn, "vault": vault,
            "role": role, "role_name": role_name, "scope": f"plan-{unique}"}  # fmt: skip


def _make_plan(s: dict[str, Any], schedule: str = "cron(0 0/12 * * ? *)", keep_days: int = 1) -> str:
    backup = s["backup"]
    plan_id = str(
        backup.create_backup_plan(
            BackupPlan={
                "BackupPlanName": s["scope"],
                "Rules": [
                    {
                        "RuleName": "every-12-hours",
                        "TargetBackupVaultName": s["vault"],
                        "ScheduleExpression": schedule,
                        "Lifecycle": {"DeleteAfterDays": keep_days},
                    }
                ],
            }
        )["BackupPlanId"]
    )
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "table", "IamRoleArn": s["role"], "Resources": [s["arn"]]},
    )
    return plan_id


def _plan_jobs(s: dict[str, Any], plan_id: str) -> list[dict[str, Any]]:
    jobs = s["backup"].list_backup_jobs(ByResourceArn=s["arn"])["BackupJobs"]
    return [j for j in jobs if (j.get("CreatedBy") or {}).get("BackupPlanId") == plan_id]


def _points(s: dict[str, Any]) -> list[dict[str, Any]]:
    return list(s["backup"].list_recovery_points_by_backup_vault(BackupVaultName=s["vault"])["RecoveryPoints"])


def test_a_12_hour_rule_advanced_36_hours_made_3_recovery_points_and_ended_those_past_their_lifecycle(
    embedded: EmbeddedTarget, plan: dict[str, Any]
) -> None:
    assert embedded.control is not None
    plan_id = _make_plan(plan)
    assert _plan_jobs(plan, plan_id) == []  # a fresh plan has not run yet
    before = datetime.now(UTC)

    clock = embedded.control.advance_plan_clock(36 * HOUR, scope=plan["scope"])

    jobs = sorted(_plan_jobs(plan, plan_id), key=lambda j: j["CreationDate"])
    assert len(jobs) == 3, jobs
    assert all(j["State"] == "COMPLETED" for j in jobs)
    assert all(j["CreatedBy"]["BackupPlanArn"].endswith(plan_id) for j in jobs)
    # each run is dated when it was due: on the hour, 12 hours apart, the last one within the last 12 hours
    dates = [j["CreationDate"] for j in jobs]
    assert all(d.astimezone(UTC).hour in (0, 12) and (d.minute, d.second) == (0, 0) for d in dates), dates
    assert [b - a for a, b in itertools.pairwise(dates)] == [timedelta(hours=12)] * 2
    assert timedelta(0) <= before - dates[-1] <= timedelta(hours=12)
    # DeleteAfterDays 1: the oldest run (24 to 36 hours old) was deleted, the two younger ones are kept
    points = _points(plan)
    assert sorted(p["RecoveryPointArn"] for p in points) == sorted(j["RecoveryPointArn"] for j in jobs[1:])
    assert all(p["Status"] == "COMPLETED" and p["CreatedBy"]["BackupPlanId"] == plan_id for p in points)
    with pytest.raises(ClientError) as gone:
        plan["backup"].describe_recovery_point(
            BackupVaultName=plan["vault"], RecoveryPointArn=jobs[0]["RecoveryPointArn"]
        )
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    (moved,) = clock
    assert moved["plan_id"] == plan_id and len(moved["runs"]) == 3
    assert [e["result"] for e in moved["lifecycle_ended"]] == ["deleted"]
    assert 0 < moved["next_runs_in_s"][0] <= 12 * HOUR


def test_a_recovery_point_whose_role_is_gone_stays_expired_and_cannot_be_restored(
    embedded: EmbeddedTarget, plan: dict[str, Any]
) -> None:
    assert embedded.control is not None
    _make_plan(plan)
    # 12 hours of a 12-hour cron grid hold exactly one run, whatever the time of day (13 hours hold two after 23:00)
    embedded.control.advance_plan_clock(12 * HOUR, scope=plan["scope"])
    (point,) = _points(plan)
    iam = plan["iam"]
    for attached in iam.list_attached_role_policies(RoleName=plan["role_name"])["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=plan["role_name"], PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=plan["role_name"])

    embedded.control.advance_plan_clock(25 * HOUR, scope=plan["scope"])  # past DeleteAfterDays, no new runs saved

    expired = plan["backup"].describe_recovery_point(
        BackupVaultName=plan["vault"], RecoveryPointArn=point["RecoveryPointArn"]
    )
    assert expired["Status"] == "EXPIRED"
    with pytest.raises(ClientError) as refused:
        plan["backup"].start_restore_job(
            RecoveryPointArn=point["RecoveryPointArn"],
            Metadata={"targetTableName": f"{plan['table']}-r"},
            IamRoleArn=plan["role"],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    plan["backup"].delete_recovery_point(BackupVaultName=plan["vault"], RecoveryPointArn=point["RecoveryPointArn"])
    assert point["RecoveryPointArn"] not in {p["RecoveryPointArn"] for p in _points(plan)}


def test_rate_rules_count_from_the_plan_and_advancing_ages_on_demand_points(
    embedded: EmbeddedTarget, plan: dict[str, Any]
) -> None:
    assert embedded.control is not None
    plan_id = _make_plan(plan, schedule="rate(12 hours)", keep_days=35)
    on_demand = completed_backup(plan["backup"], plan["vault"], plan["arn"], plan["role"])
    made = plan["backup"].describe_recovery_point(BackupVaultName=plan["vault"], RecoveryPointArn=on_demand)

    embedded.control.advance_plan_clock(36 * HOUR + 60, scope=plan["scope"])

    assert len(_plan_jobs(plan, plan_id)) == 3
    aged = plan["backup"].describe_recovery_point(BackupVaultName=plan["vault"], RecoveryPointArn=on_demand)
    assert "CreatedBy" not in aged  # on demand
    assert made["CreationDate"] - aged["CreationDate"] == timedelta(seconds=36 * 3600 + 60)


def test_the_clock_does_not_run_plans_that_cannot_run(embedded: EmbeddedTarget, plan: dict[str, Any]) -> None:
    assert embedded.control is not None
    with pytest.raises(ControlError, match="advance_s"):
        embedded.control.advance_plan_clock(-1, scope=plan["scope"])
    # a schedule the clock could not run is refused when the plan is created (backup_plans), naming why
    with pytest.raises(ClientError) as refused:
        _make_plan(plan, schedule="cron(0 12 L * ? *)")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "not modelled" in refused.value.response["Error"]["Message"]
    assert embedded.control.plan_clocks(scope=plan["scope"]) == []


def test_under_aws_scaled_the_plan_runs_on_its_own_scaled_clock(embedded: EmbeddedTarget, plan: dict[str, Any]) -> None:
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.001)  # an hour of plan time: 3.6 s
    plan_id = _make_plan(plan, schedule="rate(1 hour)", keep_days=35)
    time.sleep(2.0)
    assert _plan_jobs(plan, plan_id) == []  # not due yet
    deadline = time.monotonic() + 20
    while not _plan_jobs(plan, plan_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    (job,) = _plan_jobs(plan, plan_id)[:1]
    assert job["CreatedBy"]["BackupPlanId"] == plan_id  # nobody advanced the clock: the schedule ran by itself


def test_under_instant_an_hourly_plan_does_not_run_within_seconds(
    embedded: EmbeddedTarget, plan: dict[str, Any]
) -> None:
    plan_id = _make_plan(plan, schedule="rate(1 hour)", keep_days=35)
    time.sleep(4.0)
    assert _plan_jobs(plan, plan_id) == []


def test_the_dynamodb_backup_behind_a_plan_run_carries_its_date(embedded: EmbeddedTarget, plan: dict[str, Any]) -> None:
    assert embedded.control is not None
    plan_id = _make_plan(plan, schedule="rate(12 hours)", keep_days=35)
    embedded.control.advance_plan_clock(13 * HOUR, scope=plan["scope"])
    (job,) = _plan_jobs(plan, plan_id)
    backups = plan["ddb"].list_backups(TableName=plan["table"], BackupType="ALL")["BackupSummaries"]
    (summary,) = [b for b in backups if b["BackupType"] == "AWS_BACKUP"]
    assert abs((summary["BackupCreationDateTime"] - job["CreationDate"]).total_seconds()) < 1


@pytest.mark.parametrize(("window", "expected_minutes"), [(120, 120), (None, 480)], ids=["rule's", "AWS default"])
def test_a_plan_run_must_start_by_its_scheduled_time_plus_the_rules_start_window(
    embedded: EmbeddedTarget, plan: dict[str, Any], window: int | None, expected_minutes: int
) -> None:
    """StartBy is "calculated by adding the start window to the scheduled time" (API_DescribeBackupJob); a rule
    without StartWindowMinutes has AWS's default of 8 hours (API_StartBackupJob, API_BackupRule)."""
    assert embedded.control is not None
    plan_id = _make_plan(plan)
    if window is not None:
        rules = plan["backup"].get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
        rule = {k: rules[0][k] for k in ("RuleName", "TargetBackupVaultName", "ScheduleExpression", "Lifecycle")}
        plan["backup"].update_backup_plan(
            BackupPlanId=plan_id,
            BackupPlan={"BackupPlanName": plan["scope"], "Rules": [{**rule, "StartWindowMinutes": window}]},
        )
    embedded.control.advance_plan_clock(24 * HOUR, scope=plan["scope"])
    jobs = _plan_jobs(plan, plan_id)
    assert len(jobs) == 2, jobs
    for job in jobs:
        described = plan["backup"].describe_backup_job(BackupJobId=job["BackupJobId"])
        assert described["StartBy"] - described["CreationDate"] == timedelta(minutes=expected_minutes), described


def test_an_on_demand_job_must_start_by_its_creation_plus_its_start_window(
    embedded: EmbeddedTarget, plan: dict[str, Any]
) -> None:
    backup = plan["backup"]
    asked = backup.start_backup_job(
        BackupVaultName=plan["vault"], ResourceArn=plan["arn"], IamRoleArn=plan["role"], StartWindowMinutes=90
    )
    default = backup.start_backup_job(BackupVaultName=plan["vault"], ResourceArn=plan["arn"], IamRoleArn=plan["role"])
    for started, minutes in ((asked, 90), (default, 480)):
        job = backup.describe_backup_job(BackupJobId=started["BackupJobId"])
        assert job["StartBy"] - job["CreationDate"] == timedelta(minutes=minutes), job
    with pytest.raises(ClientError) as refused:  # below AWS's 60-minute minimum
        backup.start_backup_job(
            BackupVaultName=plan["vault"], ResourceArn=plan["arn"], IamRoleArn=plan["role"], StartWindowMinutes=30
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
