"""pitr: RestoreTableToPointInTime to the second before the incident, once per incident.

Restore time ``T`` is the incident's first harmful change, ``ApproximateCreationDateTime``
floored to the whole second (PITR has one-second granularity and AWS rounds the
stream time down to the second). The framework leaves at least one second between
the last write that must survive and the first harmful change, so ``T`` keeps the
former and drops the latter.

Waiting for LatestRestorableDateTime (the one hand-written wait loop): on AWS,
``LatestRestorableDateTime`` trails real time by up to ~5 minutes, so right after
a harmful change ``T`` may not be restorable yet. The monitor polls
DescribeContinuousBackups once per second while the invocation has more than
:data:`SAFETY_MARGIN_MS` left, then gives up and reports the records as failed; the
event source mapping redelivers them and the next invocation tries again. Waiting
inside the invocation keeps the common case (a few seconds behind) fast; failing
for redelivery keeps a long lag from timing the function out, which would retry
the whole batch without a log line saying why.

PITR must be ``ENABLED`` on the source table, otherwise the records fail with the
reason. ``EarliestRestorableDateTime`` is left to AWS to enforce
(InvalidRestoreTimeException is logged as ``failed``): emulators report it as
"now", and checking it here would refuse every restore there.
``TableAlreadyExistsException`` for the deterministic target name means the
restore of this incident was already started: logged as restore_already_started.
DynamoDB enforces the 50-concurrent-restores limit for PITR restores with
``LimitExceededException`` (AWS Backup's ListRestoreJobs does not list them), which
fails the records for redelivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from botocore.exceptions import ClientError

from change_monitor.ledger import Claim
from change_monitor.log import Decision, error_text, iso
from change_monitor.records import StreamRecord
from change_monitor.strategies.base import LambdaContext, RestoreStrategy, Started, StartFailure

SAFETY_MARGIN_MS = 5_000
"""Stop waiting when less than this is left of the invocation."""
POLL_SECONDS = 1.0


class PitrStrategy(RestoreStrategy):
    """Restore a copy of the table to just before the incident, once per incident."""

    name = "pitr"

    def start(self, records: Sequence[StreamRecord], claim: Claim, context: LambdaContext | None) -> Started:
        """Wait until ``T`` is restorable (within the time budget) and start the restore."""
        incident = claim.incident
        table = records[0].table.name
        restore_time = incident.first_change_time  # already whole seconds
        self._wait_until_restorable(table, restore_time, context)
        fields = {"restoreTime": iso(restore_time)}
        try:
            self.clients.dynamodb.restore_table_to_point_in_time(
                SourceTableName=table,
                TargetTableName=incident.restored_table,
                RestoreDateTime=restore_time,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TableAlreadyExistsException":
                return Started(already=True, fields=fields, restore_time=iso(restore_time))
            raise StartFailure(Decision.FAILED, "RestoreTableToPointInTime failed", error_text(exc)) from exc
        # This call created the restored table, so this invocation started the restore, even when it only
        # re-issued a claim another invocation made (the other one then meets TableAlreadyExists): exactly one
        # restore_started line per incident, whichever invocation wins the race.
        return Started(already=False, fields=fields, restore_time=iso(restore_time))

    def _wait_until_restorable(self, table: str, restore_time: datetime, context: LambdaContext | None) -> None:
        while True:
            try:
                response = self.clients.dynamodb.describe_continuous_backups(TableName=table)
            except ClientError as exc:
                raise StartFailure(Decision.FAILED, "DescribeContinuousBackups failed", error_text(exc)) from exc
            pitr = response["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
            if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
                raise StartFailure(
                    Decision.FAILED,
                    f"point-in-time recovery is not enabled on {table} "
                    f"(status {pitr.get('PointInTimeRecoveryStatus')})",
                )
            latest = pitr.get("LatestRestorableDateTime")
            if latest is not None and latest >= restore_time:
                return
            remaining = context.get_remaining_time_in_millis() if context is not None else 0
            if remaining - POLL_SECONDS * 1000 < SAFETY_MARGIN_MS:
                raise StartFailure(
                    Decision.FAILED,
                    f"LatestRestorableDateTime {iso(latest) if latest else None} is before the "
                    f"restore time {iso(restore_time)}; retrying on redelivery",
                )
            self.runtime.sleep(POLL_SECONDS)
