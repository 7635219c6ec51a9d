"""backup: AWS Backup StartRestoreJob from the newest recovery point before the incident.

The recovery point is the newest ``COMPLETED`` one of the table, in
``DR_BACKUP_VAULT_NAME``, whose ``CreationDate`` is strictly before the incident's
first harmful change. Stream times are whole seconds rounded down, so "strictly
before" that second is conservative: a point taken in the same second as the
change is never used, since it may already contain the change.

No such point: every record of the table is reported as failed (decision
``no_recovery_point``) and the mapping redelivers until MaximumRecordAgeInSeconds.
Before a start, in-flight restore jobs (PENDING and RUNNING) are counted; at
``DR_MAX_CONCURRENT_RESTORES`` the records are failed for redelivery instead.
The IdempotencyToken and target table name come from the ledger, so a re-issue
after a crash returns the same job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from change_monitor.ledger import Claim
from change_monitor.log import Decision, error_text, iso
from change_monitor.records import StreamRecord
from change_monitor.strategies.base import LambdaContext, RestoreStrategy, Started, StartFailure

if TYPE_CHECKING:
    from mypy_boto3_backup.type_defs import RecoveryPointByResourceTypeDef


class BackupStrategy(RestoreStrategy):
    """Restore a copy of the table from AWS Backup, once per incident."""

    name = "backup"

    def start(self, records: Sequence[StreamRecord], claim: Claim, context: LambdaContext | None) -> Started:
        """Find the recovery point and start (or re-issue) the restore job."""
        incident = claim.incident
        table = records[0].table
        point = self._recovery_point(table.arn, incident.first_change_time)
        if point is None:
            raise StartFailure(
                Decision.NO_RECOVERY_POINT,
                f"no recovery point before {iso(incident.first_change_time)}",
            )
        self._check_concurrency()
        arn = point["RecoveryPointArn"]
        try:
            response = self.clients.backup.start_restore_job(
                RecoveryPointArn=arn,
                Metadata={"targetTableName": incident.restored_table},
                IamRoleArn=str(self.settings.restore_role_arn),
                IdempotencyToken=incident.token,
                ResourceType="DynamoDB",
            )
        except ClientError as exc:
            raise StartFailure(Decision.FAILED, "StartRestoreJob failed", error_text(exc)) from exc
        job_id = response["RestoreJobId"]
        restore_time = iso(point["CreationDate"])
        return Started(
            already=not claim.new,
            fields={"recoveryPointArn": arn, "restoreTime": restore_time, "restoreJobId": job_id},
            restore_job_id=job_id,
            recovery_point_arn=arn,
            restore_time=restore_time,
        )

    def _recovery_point(self, table_arn: str, before: datetime) -> RecoveryPointByResourceTypeDef | None:
        best: RecoveryPointByResourceTypeDef | None = None
        kwargs: dict[str, Any] = {"ResourceArn": table_arn}
        try:
            while True:
                page = self.clients.backup.list_recovery_points_by_resource(**kwargs)
                for point in page.get("RecoveryPoints", []):
                    created = point.get("CreationDate")
                    if (
                        point.get("Status") == "COMPLETED"
                        and point.get("BackupVaultName") == self.settings.backup_vault_name
                        and created is not None
                        and created < before
                        and (best is None or created > best["CreationDate"])
                    ):
                        best = point
                token = page.get("NextToken")
                if not token:
                    return best
                kwargs["NextToken"] = token
        except ClientError as exc:
            raise StartFailure(Decision.FAILED, "ListRecoveryPointsByResource failed", error_text(exc)) from exc

    def _check_concurrency(self) -> None:
        """Fail for redelivery when AWS's concurrent-restore limit is reached."""
        in_flight = 0
        try:
            for status in ("PENDING", "RUNNING"):
                kwargs: dict[str, Any] = {"ByStatus": status, "ByResourceType": "DynamoDB"}
                while True:
                    page = self.clients.backup.list_restore_jobs(**kwargs)
                    in_flight += len(page.get("RestoreJobs", []))
                    token = page.get("NextToken")
                    if not token:
                        break
                    kwargs["NextToken"] = token
        except ClientError as exc:
            raise StartFailure(Decision.FAILED, "ListRestoreJobs failed", error_text(exc)) from exc
        limit = self.settings.max_concurrent_restores
        if in_flight >= limit:
            raise StartFailure(
                Decision.FAILED,
                f"concurrent restore limit reached ({in_flight} in flight, limit {limit}); retrying on redelivery",
            )
