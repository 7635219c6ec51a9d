"""Make the stack's backup plan run N times before the change, so the backup strategy's RPO is the plan's.

Without this a backup-strategy drill restores from an on-demand backup taken seconds before the change, and its
RPO (about a second) says nothing about the plan's cadence, which is what a user of the original design has:
the change is recovered from the plan's newest recovery point, up to one schedule interval old.

* Embedded target (capability ``plan_clock``): the plan's clock is advanced (``POST /_drdrill/plan-clock``)
  past its next N scheduled runs and left :data:`WALL_MARGIN_S` wall seconds (at most half an interval) before
  the run after them, the worst moment for a change: the newest plan-made recovery point is then almost one
  interval old. The runs are dated when they were due (:mod:`dr_infra.targets.embedded.backup_schedule`), and
  everything dated before the advance ages with them, the drill's oracle too (:meth:`Oracle.age`): the table's
  data was written that much earlier in the plan's world, so the recovery points hold it.
* Other targets: the plan runs on AWS's own clock, so the step waits for N plan-made backup jobs (``CreatedBy``
  the stack's plan) to be COMPLETED, or skips the scenario with the reason when the wait (until the N-th
  scheduled run plus the rule's start window) would exceed the policy's ``backup.job_timeout_seconds``.

AWS: https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html (schedule, start window),
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointCreator.html (``CreatedBy``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from dr_infra.drill.state import Drill
from dr_infra.drill.waits import Probe, WaitPolicy
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso
from dr_infra.targets.schedule_expression import ScheduleError, parse

MAX_RUNS = 50
WALL_MARGIN_S = 120.0
"""Wall seconds left before the plan's next run after the advance: enough for the scenario to reach its change."""
PHASE_PLAN_RUNS = "backup plan runs COMPLETED"


def check_runs(count: int | str) -> int:
    """The step's run count (from its Gherkin text too, before any scenario runs: ``@checks``)."""
    number = int(count)
    if not 1 <= number <= MAX_RUNS:
        raise ConfigError(f"the backup plan has run {number} times: use 1 to {MAX_RUNS} runs")
    return number


def plan_jobs(drill: Drill) -> list[dict[str, Any]]:
    """The stack's plan-made backup jobs of the table (``CreatedBy.BackupPlanId``), oldest first."""
    stack = drill.require_stack()
    backup = drill.client("backup")
    jobs = [
        job
        for page in backup.get_paginator("list_backup_jobs").paginate(ByResourceArn=stack.table_arn)
        for job in page.get("BackupJobs", [])
        if (job.get("CreatedBy") or {}).get("BackupPlanId") == stack.plan_id
    ]
    return sorted(jobs, key=lambda j: j["CreationDate"])


def run_plan(drill: Drill, count: int) -> list[dict[str, Any]]:
    """Make ``count`` scheduled runs of the stack's plan happen; returns their COMPLETED jobs, oldest first."""
    check_runs(count)
    drill.require("backup_jobs", why="the backup plan's runs are AWS Backup jobs")
    stack = drill.require_stack()
    if stack.plan_id is None:
        raise ConfigError("the stack has no backup plan")
    if drill.incident.change_at is not None:
        raise ConfigError("'the backup plan has run N times' must come before the first When step")
    control = getattr(drill.target, "control", None)
    if "plan_clock" in drill.target.capabilities and control is not None:
        how = _advance(drill, control, count)
    else:
        how = _wait_for_runs(drill, count)
    jobs = _completed_runs(drill, count)
    newest = jobs[-1]
    drill.record.evidence["backup_plan_runs"] = {
        "runs": count,
        "how": how,
        "jobs": [
            {
                "job_id": j["BackupJobId"],
                "recovery_point_arn": j["RecoveryPointArn"],
                "created_at": iso(j["CreationDate"]),
            }
            for j in jobs[-count:]
        ],
    }
    age = (datetime.now(UTC) - newest["CreationDate"]).total_seconds()
    drill.record.add_evidence(
        "notes",
        f"the backup plan ran {count} times ({how}); its newest recovery point was {age:.0f} s old when the"
        " scenario went on, so a restore from it loses what was written since",
    )
    return jobs


def _advance(drill: Drill, control: Any, count: int) -> str:
    stack = drill.require_stack()
    scope = stack.names.plan
    advanced = 0.0
    aged = 0.0
    remaining = count
    while True:
        clocks = [c for c in control.plan_clocks(scope=scope) if c.get("plan_id") == stack.plan_id]
        if not clocks:
            raise ConfigError(f"the embedded target keeps no clock for backup plan {stack.names.plan}")
        clock = clocks[0]
        upcoming = [float(t) for t in clock.get("next_runs_in_s") or []]
        if not upcoming:
            errors = "; ".join(clock.get("errors") or []) or "its rules have no run in the next 400 days"
            raise ConfigError(f"backup plan {stack.names.plan} never runs: {errors}")
        if remaining < len(upcoming):
            # past the last run wanted, stopping short of the one after it: the newest run is as old as it gets
            gap = upcoming[remaining] - upcoming[remaining - 1]
            step = upcoming[remaining] - min(WALL_MARGIN_S / float(clock.get("rate") or 1.0), gap / 2)
            control.advance_plan_clock(step, scope=scope)
            advanced, aged = advanced + step, aged + step * float(clock.get("rate") or 1.0)
            break
        consume = max(1, len(upcoming) - 1)  # keep one run in sight to stop before it
        step = upcoming[consume - 1] + 1.0
        control.advance_plan_clock(step, scope=scope)
        advanced, aged = advanced + step, aged + step * float(clock.get("rate") or 1.0)
        remaining -= consume
        if remaining == 0:
            break
    drill.require_oracle().age(aged)
    return f"embedded plan clock advanced by {advanced:.0f} s, the table's writes dated {aged:.0f} s earlier"


def _wait_for_runs(drill: Drill, count: int) -> str:
    stack = drill.require_stack()
    have = [j for j in plan_jobs(drill) if j.get("State") == "COMPLETED"]
    if len(have) >= count:
        return f"{len(have)} runs had already completed"
    rules = drill.client("backup").get_backup_plan(BackupPlanId=stack.plan_id)["BackupPlan"]["Rules"]
    now = time.time()
    due: list[tuple[float, float]] = []
    for rule in rules:
        try:
            schedule = parse(
                str(rule.get("ScheduleExpression") or "cron(0 5 ? * * *)"), rule.get("ScheduleExpressionTimezone")
            )
        except ScheduleError as exc:
            _skip(drill, f"drdrill cannot tell when backup plan {stack.names.plan} runs: {exc}")
        window = float(rule.get("StartWindowMinutes") or 480) * 60
        due.extend((t, window) for t in schedule.next_times(now, now, count))
    due.sort()
    needed = count - len(have)
    if len(due) < needed:
        _skip(drill, f"backup plan {stack.names.plan} does not run {needed} more times in the next 400 days")
    at, window = due[needed - 1]
    wait = at + window - now
    limit = drill.policy.backup_job_timeout_seconds
    if wait > limit:
        _skip(
            drill,
            f"waiting for {needed} more runs of backup plan {stack.names.plan} would take up to {wait / 3600:.1f} h"
            f" (until {iso(datetime.fromtimestamp(at, UTC))} plus its {window / 60:.0f}-minute start window), more"
            f" than the policy's backup.job_timeout_seconds of {limit:g} s",
        )
    WaitPolicy(PHASE_PLAN_RUNS, wait, max_interval=60.0).run(
        lambda: Probe(
            len([j for j in plan_jobs(drill) if j.get("State") == "COMPLETED"]) >= count,
            f"{len(plan_jobs(drill))} plan runs seen",
        )
    )
    return f"waited {time.time() - now:.0f} s for the plan's own schedule"


def _completed_runs(drill: Drill, count: int) -> list[dict[str, Any]]:
    def probe() -> Probe:
        jobs = plan_jobs(drill)
        done = [j for j in jobs if j.get("State") == "COMPLETED"]
        states = ", ".join(sorted({str(j.get("State")) for j in jobs})) or "none"
        return Probe(len(done) >= count, f"{len(done)} of {count} plan runs COMPLETED (states: {states})", done)

    result: list[dict[str, Any]] = WaitPolicy(PHASE_PLAN_RUNS, drill.policy.backup_job_timeout_seconds).run(probe).value
    return result


def _skip(drill: Drill, reason: str) -> None:
    import pytest

    drill.record.skip_reason = reason
    pytest.skip(reason)
