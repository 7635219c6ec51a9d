"""AWS Backup for DynamoDB on the embedded target: one import for the modules that model it.

What AWS does: see each module (and
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Operations_AWS_Backup.html).

* :mod:`backup_model`: the per-account/region state (jobs, recovery points, restore jobs) and their shapes.
* :mod:`backup_selections`: backup selections.
* :mod:`backup_jobs`: StartBackupJob, recovery points, the vault-deletion guard.
* :mod:`backup_restores`: StartRestoreJob and the account's concurrent-restore quota.
* :mod:`backup_routes`: the HTTP side (moto routes and handlers).
* :mod:`backup_schedule`: backup plans run on a plan clock a drill can advance.

What moto 5.2.5 does instead: only plan and vault CRUD; everything above is NotImplemented (HTTP 500) or has
no route (HTTP 404). Plan rules run on the plan clock of :mod:`backup_schedule` (jobs ``CreatedBy`` the plan,
lifecycles that end in deletion or ``EXPIRED``).
"""

from __future__ import annotations

from dr_infra.targets.embedded import backup_jobs, backup_model, backup_restores, backup_selections
from dr_infra.targets.embedded.backup_jobs import (
    check_vault_deletable,
    delete_recovery_point,
    describe_backup_job,
    list_backup_jobs,
    list_recovery_points_by_resource,
    list_recovery_points_by_vault,
    recovery_point,
    start_backup_job,
)
from dr_infra.targets.embedded.backup_model import (
    AccessDeniedException,
    BackupJob,
    BackupState,
    LimitExceededException,
    MissingParameterValueException,
    RecoveryPoint,
    RestoreJob,
    Selection,
    backend_for,
    state_of,
    utc,
)
from dr_infra.targets.embedded.backup_restores import (
    DEFAULT_ROLE_NAME,
    MAX_RESTORES_IN_FLIGHT,
    describe_restore_job,
    list_restore_jobs,
    restores_in_flight,
    start_restore_job,
)
from dr_infra.targets.embedded.backup_selections import (
    create_backup_selection,
    delete_backup_selection,
    get_backup_selection,
    list_backup_selections,
)

HOOKED_INTERNALS: tuple[str, ...] = (
    *backup_model.HOOKED_INTERNALS,
    *backup_selections.HOOKED_INTERNALS,
    *backup_jobs.HOOKED_INTERNALS,
    *backup_restores.HOOKED_INTERNALS,
)

__all__ = [
    "DEFAULT_ROLE_NAME",
    "MAX_RESTORES_IN_FLIGHT",
    "AccessDeniedException",
    "BackupJob",
    "BackupState",
    "LimitExceededException",
    "MissingParameterValueException",
    "RecoveryPoint",
    "RestoreJob",
    "Selection",
    "backend_for",
    "check_vault_deletable",
    "create_backup_selection",
    "delete_backup_selection",
    "delete_recovery_point",
    "describe_backup_job",
    "describe_restore_job",
    "get_backup_selection",
    "list_backup_jobs",
    "list_backup_selections",
    "list_recovery_points_by_resource",
    "list_recovery_points_by_vault",
    "list_restore_jobs",
    "recovery_point",
    "restores_in_flight",
    "start_backup_job",
    "start_restore_job",
    "state_of",
    "utc",
]


def install() -> None:
    """The logic needs no patch of its own; :mod:`backup_routes` wires it into moto."""
