"""Backup plans run on the embedded target: rules start backup jobs on schedule, lifecycles end recovery points.

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
exists, otherwise it becomes EXPIRED. Jobs finish in ``settings.current().backup_job_seconds``, far inside
the 60-minute minimum windows, so no window ever cancels one. Time zones other than UTC and ``L``/``W``/``#``
cron fields are refused (:mod:`dr_infra.targets.schedule_expression`), shown in ``errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.backup.models import BackupBackend, Plan, backup_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import backup, backup_model, deleted_table_backup, history, settings, stream_store
from dr_infra.targets.embedded import backup_coverage as coverage
from dr_infra.targets.schedule_expression import Schedule, ScheduleError, parse

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.Plan",
    "moto.backup.models.backup_backends",
    "moto.backup.models.BackupBackend.get_backup_plan",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.Backup",
    "moto.iam.models.iam_backends",
    "moto.iam.models.IAMBackend.get_role_by_arn",
    "moto.utilities.utils.get_partition",
)

SECONDS_PER_DAY = 86_400
MAX_ADVANCE_S = 400 * SECONDS_PER_DAY
"""One advance may skip at most this much plan time (a bound on the runs one request creates)."""
HISTORY_LIMIT = 200
SWEEP_ERRORS: list[str] = []
"""Errors a sweep before a request met (shown by ``GET /_drdrill/plan-clock``); the request is served anyway."""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


@dataclass
class PlanClock:
    """One plan's clock: plan time = ``plan_anchor + (wall - wall_anchor) / rate``."""

    plan_id: str
    plan_name: str
    wall_anchor: float
    plan_anchor: float
    rate: float
    """Wall seconds per plan second: 1 (instant) or the aws-scaled scale."""
    origin: float
    """Plan time the schedule started counting from (the plan's creation): rate() rules count from it."""
    evaluated_until: float
    advanced_s: float = 0.0
    next_due: float | None = None
    """Plan time of the next run (cached: most requests find nothing due); ``None``: recompute."""
    version: str | None = None
    """The plan version ``next_due`` was computed for (UpdateBackupPlan changes the rules)."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    ended: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def plan_at(self, wall: float) -> float:
        return self.plan_anchor + (wall - self.wall_anchor) / self.rate

    def wall_at(self, plan: float) -> float:
        return self.wall_anchor + (plan - self.plan_anchor) * self.rate

    def rerate(self, now: float, rate: float) -> None:
        """Keep plan time continuous when the profile (and with it the rate) changes."""
        self.plan_anchor, self.wall_anchor, self.rate = self.plan_at(now), now, rate

    def note(self, kind: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        kind.append(entry)
        del kind[:-HISTORY_LIMIT]


def _clocks(backend: BackupBackend) -> dict[str, PlanClock]:
    clocks: dict[str, PlanClock] | None = backend.__dict__.get("_drdrill_plan_clocks")
    if clocks is None:
        clocks = {}
        backend.__dict__["_drdrill_plan_clocks"] = clocks
    return clocks


def _rate() -> float:
    return settings.current().plan_time_scale


def clock_of(backend: BackupBackend, plan: Plan, now: float) -> PlanClock:
    """The plan's clock, started at the plan's creation (created on first use)."""
    clocks = _clocks(backend)
    clock = clocks.get(plan.backup_plan_id)
    if clock is None:
        created = float(plan.creation_date)
        clock = PlanClock(
            plan.backup_plan_id,
            str(plan.backup_plan.get("BackupPlanName")),
            wall_anchor=created,
            plan_anchor=created,
            rate=_rate(),
            origin=created,
            evaluated_until=created,
        )
        clocks[plan.backup_plan_id] = clock
    if clock.rate != _rate():
        clock.rerate(now, _rate())
    return clock


def _live_plans(backend: BackupBackend) -> list[Plan]:
    return [p for p in list(backend.plans.values()) if p.deletion_date is None]


def _backends() -> Iterable[BackupBackend]:
    for account in list(backup_backends.keys()):
        yield from list(backup_backends[account].values())


# --- runs and lifecycles ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _parsed(expression: str, timezone: str | None) -> Schedule:
    return parse(expression, timezone)


def _schedule(rule: dict[str, Any], clock: PlanClock) -> Schedule | None:
    try:
        return _parsed(
            str(rule.get("ScheduleExpression") or "cron(0 5 ? * * *)"), rule.get("ScheduleExpressionTimezone")
        )
    except ScheduleError as exc:
        message = f"rule {rule.get('RuleName')}: {exc}"
        if message not in clock.errors:
            clock.errors.append(message)
        return None


def _run(backend: BackupBackend, plan: Plan, rule: dict[str, Any], clock: PlanClock, due: float) -> None:
    """One scheduled run of ``rule``: a backup job per selected table, dated when it was due."""
    vault = str(rule.get("TargetBackupVaultName"))
    if vault not in backend.vaults:
        clock.note(clock.runs, {"rule": rule.get("RuleName"), "due": _iso(due), "error": f"vault {vault} not found"})
        return
    wall = clock.wall_at(due)
    for table_arn, role in coverage.selected_tables(backend, plan, clock.errors):
        job = backup.start_backup_job(
            backend,
            vault,
            table_arn,
            role,
            lifecycle=rule.get("Lifecycle"),
            recovery_point_tags=rule.get("RecoveryPointTags"),
            start_window_minutes=rule.get("StartWindowMinutes"),
        )
        job.created = wall
        job.created_by = {
            "BackupPlanId": plan.backup_plan_id,
            "BackupPlanArn": plan.backup_plan_arn,
            "BackupPlanVersion": plan.version_id,
            "BackupRuleId": rule.get("RuleId"),
        }
        _redate_snapshot(job, wall)
        clock.note(
            clock.runs,
            {
                "rule": rule.get("RuleName"),
                "due": _iso(due),
                "created_at": _iso(wall),
                "job_id": job.job_id,
                "recovery_point_arn": job.recovery_point_arn,
                "resource_arn": table_arn,
            },
        )


def _redate_snapshot(job: backup.BackupJob, wall: float) -> None:
    """The DynamoDB backup behind the recovery point carries the same creation time (DescribeBackup)."""
    _, region, _ = backup_model.table_of(job.resource_arn)
    snapshot = dynamodb_backends[job.account_id][region].backups.get(job.snapshot_arn)
    if snapshot is not None:
        snapshot.creation_date_time = datetime.fromtimestamp(wall, UTC)


def _role_exists(account_id: str, region: str, role_arn: str) -> bool:
    try:
        iam_backends[account_id][get_partition(region)].get_role_by_arn(role_arn)
    except Exception:
        return False
    return True


def _owner(backend: BackupBackend, point: backup.RecoveryPoint, plans: list[Plan]) -> Plan | None:
    """The plan whose clock a recovery point's lifecycle runs on (its vault and resource), looked up once."""
    owners: dict[str, str | None] = backend.__dict__.setdefault("_drdrill_point_owners", {})
    if point.arn not in owners:
        found = next((p for p in plans if coverage.covers(backend, p, point.vault_name, point.resource_arn)), None)
        owners[point.arn] = found.backup_plan_id if found is not None else None
    plan_id = owners[point.arn]
    return next((p for p in plans if p.backup_plan_id == plan_id), None) if plan_id else None


def _end_lifecycles(backend: BackupBackend, now: float) -> None:
    state = backup.state_of(backend)
    plans = _live_plans(backend)
    for point in list(state.recovery_points.values()):
        days = (point.job.lifecycle or {}).get("DeleteAfterDays")
        if point.expired or not isinstance(days, int | float) or days < 0:
            continue
        owner = _owner(backend, point, plans)
        clock = clock_of(backend, owner, now) if owner is not None else None
        created = clock.plan_at(point.job.created) if clock else point.job.created
        current = clock.plan_at(now) if clock else now
        if current < created + days * SECONDS_PER_DAY:
            continue
        entry = {"recovery_point_arn": point.arn, "created_at": _iso(point.job.created), "delete_after_days": days}
        if _role_exists(backend.account_id, backend.region_name, point.iam_role_arn):
            backup.delete_recovery_point(backend, point.vault_name, point.arn)
            entry["result"] = "deleted"
        else:
            point.expired = True
            entry["result"] = "EXPIRED: its IAM role no longer exists, so AWS Backup could not delete it"
        if clock is not None:
            clock.note(clock.ended, entry)


def sweep(backend: BackupBackend, now: float | None = None) -> None:
    """Start every run that has fallen due and end every lifecycle that has run out, up to ``now``."""
    at = history.now() if now is None else now
    with backup_model.lock:
        live = _live_plans(backend)
        clocks = _clocks(backend)
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
                schedule = _schedule(rule, clock)
                if schedule is not None:
                    due.extend(
                        (t, index, rule) for t in schedule.fire_times(clock.evaluated_until, until, clock.origin)
                    )
            for moment, _, rule in sorted(due, key=lambda d: (d[0], d[1])):
                _run(backend, plan, rule, clock, moment)
            clock.evaluated_until = until
            upcoming = [
                t
                for rule in plan.backup_plan.get("Rules", [])
                if (schedule := _schedule(rule, clock)) is not None
                for t in schedule.next_times(until, clock.origin, 1)
            ]
            clock.next_due, clock.version = (min(upcoming) if upcoming else float("inf")), plan.version_id
        if backup.state_of(backend).recovery_points:
            _end_lifecycles(backend, at)


def sweep_all() -> None:
    """:func:`sweep` every account and region that has a plan or a recovery point."""
    now = history.now()
    for backend in _backends():
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
        for backend in _backends():
            sweep(backend, now)
            state = backup.state_of(backend)
            aged: set[str] = set()
            for plan in [p for p in _live_plans(backend) if _matches(p, scope)]:
                clock = clock_of(backend, plan, now)
                shift = seconds * clock.rate
                for job in list(state.backup_jobs.values()):
                    if job.job_id not in aged and coverage.covers(backend, plan, job.vault_name, job.resource_arn):
                        aged.add(job.job_id)
                        job.created -= shift
                        _redate_snapshot(job, job.created)
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
        for backend in _backends():
            for plan in _live_plans(backend):
                if not _matches(plan, scope) or (only is not None and plan.backup_plan_id not in only):
                    continue
                clock = clock_of(backend, plan, at)
                current = clock.plan_at(at)
                upcoming: list[float] = []
                for rule in plan.backup_plan.get("Rules", []):
                    schedule = _schedule(rule, clock)
                    if schedule is not None:
                        upcoming.extend(schedule.next_times(current, clock.origin, 10))
                found.append(
                    {
                        "plan_id": plan.backup_plan_id,
                        "plan_name": clock.plan_name,
                        "plan_time": _iso(current),
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
    """Wrap the server's WSGI app so due runs and lifecycles happen before each request is served."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            sweep_all()
        except Exception as exc:  # a scheduler bug must not turn every AWS request into an HTTP 500
            SWEEP_ERRORS.append(f"{type(exc).__name__}: {exc}")
            del SWEEP_ERRORS[:-20]
        return app(environ, start_response)

    return serve


def install() -> None:
    """Nothing to patch: :func:`ticking` wraps the server's app (see :mod:`server`)."""
