"""Recovery points' lifecycles on the embedded target: deleted at creation + DeleteAfterDays on their plan's clock,
EXPIRED when their IAM role is gone.

See :mod:`backup_schedule` for what AWS does (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html)
and what is modelled.
"""

from __future__ import annotations

from moto.backup.models import BackupBackend, Plan
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import backup
from dr_infra.targets.embedded import backup_coverage as coverage
from dr_infra.targets.embedded.backup_plan_clock import clock_of, iso, live_plans

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.iam.models.iam_backends",
    "moto.iam.models.IAMBackend.get_role_by_arn",
    "moto.utilities.utils.get_partition",
)

SECONDS_PER_DAY = 86_400


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


def end_lifecycles(backend: BackupBackend, now: float) -> None:
    """Delete (or mark EXPIRED) every recovery point past creation + DeleteAfterDays on its plan's clock."""
    state = backup.state_of(backend)
    plans = live_plans(backend)
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
        entry = {"recovery_point_arn": point.arn, "created_at": iso(point.job.created), "delete_after_days": days}
        if _role_exists(backend.account_id, backend.region_name, point.iam_role_arn):
            backup.delete_recovery_point(backend, point.vault_name, point.arn)
            entry["result"] = "deleted"
        else:
            point.expired = True
            entry["result"] = "EXPIRED: its IAM role no longer exists, so AWS Backup could not delete it"
        if clock is not None:
            clock.note(clock.ended, entry)
