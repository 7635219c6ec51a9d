"""Counting restores from the ground truth, not the monitor's word: AWS Backup restore jobs and restored tables.

A restore exists as soon as AWS accepted the call, whatever the monitor logged (or whether it logs anything a
drill can read): restore jobs of the protected table's recovery points (ListRestoreJobs,
ListRecoveryPointsByResource) and tables whose DescribeTable ``RestoreSummary.SourceTableArn`` is the protected
table (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreSummary.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_fixed

from dr_infra.drill.state import Drill
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import iso
from dr_infra.stack import restored


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def started_restores(drill: Drill) -> dict[str, dict[str, Any]]:
    """Every restore of the protected table started since the change, as AWS reports it (``{id: details}``).

    AWS Backup: ListRestoreJobs created since the change whose recovery point is one of the table's
    (ListRecoveryPointsByResource). Point-in-time: this run's tables (by the stack's name prefix) whose
    DescribeTable RestoreSummary names the protected table as SourceTableArn, with no SourceBackupArn (that is
    a backup restore, already counted by its job), created since the change.
    """
    inc = drill.incident
    stack = drill.require_stack()
    if inc.change_at is None:
        raise DrDrillError("no change was made, so no restore can have been started for it")
    since = inc.change_at.replace(microsecond=0) - timedelta(seconds=1)  # job times are the server's, whole seconds
    found: dict[str, dict[str, Any]] = {}
    if "backup" in drill.target.capabilities:
        backup = drill.client("backup")
        points = {
            p["RecoveryPointArn"]
            for page in backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=stack.table_arn)
            for p in page.get("RecoveryPoints", [])
        }
        if points:
            for page in backup.get_paginator("list_restore_jobs").paginate(ByCreatedAfter=since):
                for job in page.get("RestoreJobs", []):
                    created = _aware(job.get("CreationDate"))
                    if job.get("RecoveryPointArn") in points and (created is None or created >= since):
                        found[str(job["RestoreJobId"])] = {
                            "kind": "backup restore job",
                            "status": job.get("Status"),
                            "created_at": iso(created),
                            "created_resource_arn": job.get("CreatedResourceArn"),
                        }
    for name, table in restored_tables(drill).items():
        created = _aware_iso(table.get("created_at"))
        if table["kind"] == "point-in-time restore" and (created is None or created >= since):
            found[name] = table
    return found


def _aware_iso(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def restored_tables(drill: Drill) -> dict[str, dict[str, Any]]:
    """Tables restored from the protected table, whatever restored them: by DescribeTable's RestoreSummary.

    drdrill's own monitor names its restores after the stack, so only this run's tables (the stack's name prefix)
    are described; a user's monitor names them as it likes, so every table is. A SourceBackupArn marks a restore
    from a backup (AWS Backup or DynamoDB's own), its absence a point-in-time restore.
    """
    stack = drill.require_stack()
    ddb = drill.client("dynamodb")
    prefix = None if stack.spec.user_monitor else f"{stack.names.prefix}-"
    exclude = frozenset({stack.names.table, stack.names.ledger_table})
    found = restored.tables_restored_from(ddb, {stack.table_arn}, prefix, exclude)
    return {name: restored.summary(table) for name, table in found.items()}


def settled_restores(
    read: Callable[[], dict[str, dict[str, Any]]],
    interval: float,
    limit: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, dict[str, Any]]:
    """Read until two reads ``interval`` apart agree (at most ``limit`` seconds), then return the last read.

    It waits for the count to be stable, never for a count it hopes for: a restore that had not started yet when
    the reads agree would have had to come later than any retry or redelivery can.
    """
    last: list[dict[str, dict[str, Any]]] = [read()]

    def changed() -> bool:
        current = read()
        moved = set(current) != set(last[0])
        last[0] = current
        return moved

    sleep(interval)
    Retrying(
        retry=retry_if_result(bool),
        wait=wait_fixed(interval),
        stop=stop_after_attempt(max(1, round(limit / interval))),
        sleep=sleep,
        retry_error_callback=lambda state: True,
    )(changed)
    return last[0]
