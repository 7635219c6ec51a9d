"""Backup plans run on the embedded target: rules start backup jobs on schedule, lifecycles end recovery points.

This module sweeps (before each request) and advances the plans; each plan's clock is :mod:`backup_plan_clock`,
a scheduled run :mod:`backup_plan_runs`, a recovery point's lifecycle :mod:`backup_lifecycle`.

What AWS does:

* A backup plan's rules start a backup job for every resource its selections assign, at each time the rule's
  ``ScheduleExpression`` names (UTC; default ``cron(0 5 ? * * *)``); the job must start within
  ``StartWindowMinutes`` (default 480, at least 60) and complete within ``CompletionWindowMinutes`` (default
  10080) or AWS Backup cancels it. The job's ``CreatedBy`` names the plan (BackupPlanId, BackupPlanArn,
  BackupPlanVersion, BackupRuleId), and so does the recovery point's; an on-demand StartBackupJob has none.
  The rule's ``RecoveryPointTags`` are put on the recovery point (:mod:`backup_tags`).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointCreator.html
* A rule's ``Lifecycle.DeleteAfterDays`` is "the number of days after creation that a recovery point is
  deleted"; AWS Backup deletes it then. When it cannot (the recovery point's IAM role is gone or lacks the
  permission) the recovery point is not deleted but enters the ``EXPIRED`` state, and stays there until someone
  deletes it with DeleteRecoveryPoint. ``MoveToColdStorageAfterDays`` is ignored for resource types without cold
  storage (DynamoDB without advanced backup features).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteRecoveryPoint.html
* ``EnableContinuousBackup`` does not apply to DynamoDB: AWS Backup takes snapshot backups of DynamoDB tables
  (point-in-time recovery of a table is the table's own UpdateContinuousBackups setting).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html

What moto 5.2.5 does instead: stores the plan; nothing ever runs.

What is modelled here: every plan has a *plan clock* (:class:`PlanClock`): plan time runs with the wall clock
(``instant`` profile) or ``1 / scale`` times faster under ``aws-scaled`` (the plan's hours pass in scaled
seconds, like every other AWS latency, :mod:`settings`), and a drill can move it forward
(:func:`advance`, control route ``POST /_drdrill/plan-clock``). Moving a plan's clock forward by ``D`` ages
its world by ``D``: every backup job and recovery point in the plan's vaults of a resource its selections name
(on-demand ones too) is dated ``D`` earlier, so is every stream record so far of the tables they name
(:mod:`stream_store`: older than 24 hours, it is trimmed), and the runs that fall in the skipped time happen, dated when
they were due. Since no request reached the target during the skipped time, each of those runs holds the
data the table holds now, which is what it would have held. Before every request the target serves,
:func:`sweep` starts the runs that have fallen due and ends lifecycles, so a run never sees a write made
after it was due. A run starts its job at the scheduled time (the start window's first minute; its
``StartBy`` is that time plus the rule's StartWindowMinutes, 480 when unset) for each selected DynamoDB table
that exists (``Resources`` ARNs, ``*`` wildcards, minus ``NotResources``: :mod:`backup_coverage`); a selection
by tags or conditions is not modelled and is reported in the clock's ``errors``. A lifecycle ends
at creation + DeleteAfterDays on the plan clock: the recovery point is deleted when its IAM role still
exists, otherwise it becomes EXPIRED. Jobs finish in ``EmbeddedSettings.backup_job_seconds``, far inside
the 60-minute minimum windows, so no window ever cancels one. Time zones other than UTC and ``L``/``W``/``#``
cron fields are refused (:mod:`dr_infra.targets.schedule_expression`), shown in ``errors``.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from moto.backup.models import BackupBackend, Plan

from dr_infra.targets.embedded import (
    backup,
    backup_lifecycle,
    backup_model,
    backup_plan_clock,
    backup_plan_runs,
    deleted_table_backup,
    history,
    stream_store,
)
from dr_infra.targets.embedded import backup_coverage as coverage
from dr_infra.targets.embedded.backup_plan_clock import PlanClock, backends, clock_of, iso, live_plans
from dr_infra.targets.embedded.backup_plan_runs import redate_snapshot, schedule_of

__all__ = [
    "MAX_ADVANCE_S",
    "SWEEP_ERRORS_KEY",
    "PlanClock",
    "advance",
    "describe",
    "install",
    "sweep",
    "sweep_all",
    "ticking",
]

HOOKED_INTERNALS: tuple[str, ...] = (
    *backup_plan_clock.HOOKED_INTERNALS,
    *backup_plan_runs.HOOKED_INTERNALS,
    *backup_lifecycle.HOOKED_INTERNALS,
)

SECONDS_PER_DAY = backup_lifecycle.SECONDS_PER_DAY
MAX_ADVANCE_S = 400 * SECONDS_PER_DAY
"""One advance may skip at most this much plan time (a bound on the runs one request creates)."""
SWEEP_ERRORS_KEY = "drdrill.sweep_errors"
"""WSGI environ key of the errors the sweeps before this server's requests met (its last 20, oldest first; shown
by ``GET /_drdrill/plan-clock``): each server's :func:`ticking` wrapper owns its own, so no module keeps them."""
MAX_SWEEP_ERRORS = 20


def sweep(backend: BackupBackend, now: float | None = None) -> None:
    """Start every run that has fallen due and end every lifecycle that has run out, up to ``now``."""
    at = history.now() if now is None else now
    with backup_model.lock:
        live = live_plans(backend)
        clocks = backup_plan_clock.clocks_of(backend)
        for gone in set(clocks) - {p.backup_plan_id for p in live}:
            del clocks[gone]  # a deleted plan runs no more
        for plan in live:
            clock = clock_of(backend, plan, at)
            until = clock.plan_at(at)
            if clock.version == plan.version_id and clock.next_due is not None and until < clock.next_due:
                clock.evaluated_until = until
                continue
            due: list[tuple[float, int, dict[str, Any]]] = []
            for index, rule in enumerate(plan.backup_plan.get("Rules", [])):
                schedule = schedule_of(rule, clock)
                if schedule is not None:
                    due.extend(
                        (t, index, rule) for t in schedule.fire_times(clock.evaluated_until, until, clock.origin)
                    )
            for moment, _, rule in sorted(due, key=lambda d: (d[0], d[1])):
                backup_plan_runs.run(backend, plan, rule, clock, moment)
            clock.evaluated_until = until
            upcoming = [
                t
                for rule in plan.backup_plan.get("Rules", [])
                if (schedule := schedule_of(rule, clock)) is not None
                for t in schedule.next_times(until, clock.origin, 1)
            ]
            clock.next_due, clock.version = (min(upcoming) if upcoming else float("inf")), plan.version_id
        if backup.state_of(backend).recovery_points:
            backup_lifecycle.end_lifecycles(backend, at)


def sweep_all() -> None:
    """:func:`sweep` every account and region that has a plan or a recovery point."""
    now = history.now()
    for backend in backends():
        if backend.plans or backup.state_of(backend).recovery_points:
            sweep(backend, now)


def _matches(plan: Plan, scope: str | None) -> bool:
    return scope is None or scope in str(plan.backup_plan.get("BackupPlanName")) or scope == plan.backup_plan_id


def advance(seconds: float, scope: str | None = None) -> list[dict[str, Any]]:
    """Move the clocks of the plans named by ``scope`` (all without one) forward by ``seconds`` of plan time."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= MAX_ADVANCE_S:
        raise ValueError(f"advance_s must be a number of seconds in (0, {MAX_ADVANCE_S}], got {seconds!r}")
    now = history.now()
    moved: list[str] = []
    with backup_model.lock:
        for backend in backends():
            sweep(backend, now)
            state = backup.state_of(backend)
            aged: set[str] = set()
            for plan in [p for p in live_plans(backend) if _matches(p, scope)]:
                clock = clock_of(backend, plan, now)
                shift = seconds * clock.rate
                for job in list(state.backup_jobs.values()):
                    if job.job_id not in aged and coverage.covers(backend, plan, job.vault_name, job.resource_arn):
                        aged.add(job.job_id)
                        job.created -= shift
                        redate_snapshot(job, job.created)
                covered = functools.partial(coverage.selects, backend, plan)
                deleted_table_backup.age(backend.account_id, backend.region_name, covered, shift, aged)
                streamed = [arn for arn, _ in coverage.selected_tables(backend, plan, [])]
                stream_store.age_streams(backend.account_id, backend.region_name, streamed, shift, aged)
                clock.plan_anchor += seconds
                clock.advanced_s += seconds
                moved.append(plan.backup_plan_id)
            sweep(backend, now)
    return describe(scope, now, only=set(moved))


def describe(scope: str | None = None, now: float | None = None, only: set[str] | None = None) -> list[dict[str, Any]]:
    """Every matching plan's clock: plan time, rate, time advanced, next runs, runs made, lifecycles ended."""
    at = history.now() if now is None else now
    found: list[dict[str, Any]] = []
    with backup_model.lock:
        for backend in backends():
            for plan in live_plans(backend):
                if not _matches(plan, scope) or (only is not None and plan.backup_plan_id not in only):
                    continue
                clock = clock_of(backend, plan, at)
                current = clock.plan_at(at)
                upcoming: list[float] = []
                for rule in plan.backup_plan.get("Rules", []):
                    schedule = schedule_of(rule, clock)
                    if schedule is not None:
                        upcoming.extend(schedule.next_times(current, clock.origin, 10))
                found.append(
                    {
                        "plan_id": plan.backup_plan_id,
                        "plan_name": clock.plan_name,
                        "plan_time": iso(current),
                        "rate": clock.rate,
                        "advanced_s": clock.advanced_s,
                        "next_runs_in_s": [round(t - current, 3) for t in sorted(upcoming)[:10]],
                        "runs": list(clock.runs),
                        "lifecycle_ended": list(clock.ended),
                        "errors": list(clock.errors),
                    }
                )
    return found


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def ticking(app: WsgiApp) -> WsgiApp:
    """Wrap the server's WSGI app so due runs and lifecycles happen before each request is served; a sweep that
    fails is recorded (under :data:`SWEEP_ERRORS_KEY` in every request's environ) and the request served anyway."""
    errors: deque[str] = deque(maxlen=MAX_SWEEP_ERRORS)

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            sweep_all()
        except Exception as exc:  # a scheduler bug must not turn every AWS request into an HTTP 500
            errors.append(f"{type(exc).__name__}: {exc}")
        environ[SWEEP_ERRORS_KEY] = errors
        return app(environ, start_response)

    return serve


def install() -> None:
    """Nothing to patch: :func:`ticking` wraps the server's app (see :mod:`server`)."""
