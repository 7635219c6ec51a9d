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

import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from dr_infra.drill.state import Drill
from dr_infra.drill.waits import Probe, WaitPolicy
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.spec import DEFAULT_SCHEDULE
from dr_infra.targets.schedule_expression import ScheduleError, parse

if TYPE_CHECKING:
    from mypy_boto3_backup.type_defs import BackupJobTypeDef

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


def plan_jobs(drill: Drill) -> list[BackupJobTypeDef]:
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


DEFAULT_RULE_SCHEDULE = "cron(0 5 ? * * *)"
"""A rule's ScheduleExpression when it names none: AWS Backup's default, daily at 05:00 UTC (API_BackupRule)."""
DEFAULT_START_WINDOW_MINUTES = 480
"""A rule's StartWindowMinutes when it names none: 8 hours (API_StartBackupJob, API_BackupRule)."""
PLAN_RUNS_STEP = re.compile(r"^the backup plan has run (?P<count>-?\d+) times?$")


def plan_rules(definition: StackDefinition | None) -> list[dict[str, Any]]:
    """The rules of the plan a stack of ``definition`` gets (the user's plan, else the seed's 12-hour rule),
    known before the stack exists (:func:`dr_infra.stack.user_stack.plan_document` builds the same)."""
    if definition is not None and definition.backup is not None:
        return [dict(rule) for rule in definition.backup.plan.get("Rules", [])]
    return [{"ScheduleExpression": DEFAULT_SCHEDULE}]


def runs_due(plan: str, rules: Sequence[Mapping[str, Any]], needed: int, now: float) -> tuple[float, float] | str:
    """``(time of the needed-th next scheduled run, its rule's start window in s)``, or why it cannot be told
    (``plan``: how the reason names the plan)."""
    due: list[tuple[float, float]] = []
    for rule in rules:
        try:
            schedule = parse(
                str(rule.get("ScheduleExpression") or DEFAULT_RULE_SCHEDULE), rule.get("ScheduleExpressionTimezone")
            )
        except ScheduleError as exc:
            return f"drdrill cannot tell when {plan} runs: {exc}"
        window = float(rule.get("StartWindowMinutes") or DEFAULT_START_WINDOW_MINUTES) * 60
        due.extend((t, window) for t in schedule.next_times(now, now, needed))
    due.sort()
    if len(due) < needed:
        return f"{plan} does not run {needed} more times in the next 400 days"
    return due[needed - 1]


def wait_too_long(plan: str, rules: Sequence[Mapping[str, Any]], needed: int, now: float, limit_s: float) -> str | None:
    """Why waiting for ``needed`` more scheduled runs of ``plan`` from ``now`` skips the scenario, else ``None``.

    The wait lasts until the ``needed``-th next scheduled time plus that rule's start window (a job may start
    that late: ``StartBy``, https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupJob.html),
    and skips when that is more than the policy's ``backup.job_timeout_seconds``."""
    due = runs_due(plan, rules, needed, now)
    if isinstance(due, str):
        return due
    at, window = due
    wait = at + window - now
    if wait <= limit_s:
        return None
    return (
        f"waiting for {needed} more runs of {plan} would take up to {wait / 3600:.1f} h"
        f" (until {iso(datetime.fromtimestamp(at, UTC))} plus its {window / 60:.0f}-minute start window), more"
        f" than the policy's backup.job_timeout_seconds of {limit_s:g} s"
    )


def skip_before_provisioning(
    steps: Iterable[tuple[str, str]],
    capabilities: Collection[str],
    definition: StackDefinition | None,
    limit_s: float,
    now: float | None = None,
) -> str | None:
    """Why ``the backup plan has run N times`` will skip the scenario, known before its first step creates the
    stack: on a target without a plan clock (aws) the step waits for the plan's own runs, and the stack's plan
    (its rules come from the stack definition, or the seed's) is new, so it has made none yet. ``drdrill plan``
    marks the same scenarios, and ``drdrill run`` skips them before provisioning anything."""
    if "plan_clock" in capabilities:
        return None
    for _, text in steps:
        found = PLAN_RUNS_STEP.match(text.strip())
        if found and 1 <= int(found.group("count")) <= MAX_RUNS:
            at = time.time() if now is None else now
            return wait_too_long("the stack's new backup plan", plan_rules(definition), int(found.group("count")),
                                 at, limit_s)  # fmt: skip
    return None


def _wait_for_runs(drill: Drill, count: int) -> str:
    stack = drill.require_stack()
    have = [j for j in plan_jobs(drill) if j.get("State") == "COMPLETED"]
    if len(have) >= count:
        return f"{len(have)} runs had already completed"
    rules = drill.client("backup").get_backup_plan(BackupPlanId=stack.plan_id)["BackupPlan"]["Rules"]
    now = time.time()
    needed = count - len(have)
    limit = drill.policy.backup_job_timeout_seconds
    plan = f"backup plan {stack.names.plan}"
    reason = wait_too_long(plan, rules, needed, now, limit)
    due = runs_due(plan, rules, needed, now)
    if reason is not None or isinstance(due, str):
        _skip(drill, reason or str(due))
    at, window = due
    wait = at + window - now
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


def _skip(drill: Drill, reason: str) -> NoReturn:
    import pytest

    drill.record.skip_reason = reason
    pytest.skip(reason)
