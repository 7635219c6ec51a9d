"""A backup plan's clock on the embedded target: plan time against wall time, per plan.

Plan time runs with the wall clock (``instant`` profile) or ``1 / scale`` times faster under ``aws-scaled``;
:func:`dr_infra.targets.embedded.backup_schedule.advance` moves it forward. See :mod:`backup_schedule` for what
AWS does (https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html) and what is
modelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.backup.models import BackupBackend, Plan, backup_backends

from dr_infra.targets.embedded import process_state

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.Plan",
    "moto.backup.models.backup_backends",
)

HISTORY_LIMIT = 200


def iso(epoch: float) -> str:
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


def clocks_of(backend: BackupBackend) -> dict[str, PlanClock]:
    """The backend's plan clocks by plan id (kept on the backend, so a reset backend starts over)."""
    clocks: dict[str, PlanClock] | None = backend.__dict__.get("_drdrill_plan_clocks")
    if clocks is None:
        clocks = {}
        backend.__dict__["_drdrill_plan_clocks"] = clocks
    return clocks


def _rate() -> float:
    return process_state.current_settings().plan_time_scale


def clock_of(backend: BackupBackend, plan: Plan, now: float) -> PlanClock:
    """The plan's clock, started at the plan's creation (created on first use)."""
    clocks = clocks_of(backend)
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


def live_plans(backend: BackupBackend) -> list[Plan]:
    """The backend's plans not deleted."""
    return [p for p in list(backend.plans.values()) if p.deletion_date is None]


def backends() -> Iterable[BackupBackend]:
    """Every account's and region's AWS Backup backend."""
    for account in list(backup_backends.keys()):
        yield from list(backup_backends[account].values())
