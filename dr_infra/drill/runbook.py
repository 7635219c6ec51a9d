"""Recovery actions the drill performs itself, where the change monitor cannot act on AWS either.

* Table loss: DeleteTable emits no stream REMOVE records (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html),
  so the monitor never sees it; on AWS the trigger would be an EventBridge rule on CloudTrail's DeleteTable.
  The drill runs the runbook: with the ``pitr`` strategy, restore the deleted table by ``SourceTableArn`` to
  the second before the deletion (a deleted table with PITR stays restorable within its recovery period up to
  its deletion time: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html);
  otherwise restore the newest COMPLETED recovery point into a new table.
* Redelivery: Lambda's stream poller may deliver a batch again (retries, bisection); the drill reproduces
  that by invoking the monitor with the same records, in the event shape Lambda uses
  (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dr_infra.drill import inject
from dr_infra.drill.state import Drill
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import iso, utcnow
from dr_infra.stack import safety

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef


def lose_table(drill: Drill) -> str:
    """Delete the drill's table (DeleteTable) as its harmful change, then run the recovery runbook (the monitor
    cannot see the loss); returns what :func:`restore_lost_table` started."""
    stack = drill.require_stack()
    safety.check_drill_table(drill, "delete")
    drill.ensure_monitor_attached()
    inject.wait_for_quiet_second(drill.require_oracle(), also_after=drill.incident.recovery_point_at)
    start = utcnow()
    drill.client("dynamodb").delete_table(TableName=stack.names.table)
    drill.incident.table_lost = True
    drill.mark_change(inject.Injection("delete-table", 1, start, utcnow(), []))
    how = (
        "restore to the second before the deletion by the table's ARN"
        if drill.strategy == "pitr"
        else "restore from the latest recovery point"
    )
    drill.record.add_evidence(
        "notes",
        "table loss: DeleteTable emits no stream records, so the monitor cannot see it; "
        f"the drill ran the recovery runbook itself ({how})",
    )
    return restore_lost_table(drill)


def restore_lost_table(drill: Drill) -> str:
    """Start a restore of the lost table; returns the restore job id (backup) or the restored table (pitr)."""
    if drill.strategy == "pitr":
        return restore_lost_table_to_point_in_time(drill)
    return restore_lost_table_from_backup(drill)


def restore_lost_table_to_point_in_time(drill: Drill) -> str:
    """RestoreTableToPointInTime by the deleted table's ARN, to the floor of the deletion's second.

    The deletion time is the client clock when DeleteTable was sent (``change_at``): DynamoDB deletes after it,
    so its floor is within [EarliestRestorableDateTime, deletion time], and the quiet second before the deletion
    keeps every write that must survive before that floor. Returns the restored table's name.
    """
    drill.require("pitr_time_travel", why="a lost table is restored to a point in time by its ARN")
    stack = drill.require_stack()
    deleted_at = drill.incident.change_at
    if deleted_at is None:
        raise DrDrillError("the lost table's deletion was not recorded: nothing to restore to")
    restore_at = deleted_at.replace(microsecond=0)
    target = f"{stack.names.table}-restored-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    started = datetime.now(UTC)
    drill.client("dynamodb").restore_table_to_point_in_time(
        SourceTableArn=stack.table_arn, TargetTableName=target, RestoreDateTime=restore_at
    )
    drill.incident.restored_table = target
    drill.incident.restore_time = restore_at
    drill.incident.restore_started_at = started
    return target


def restore_lost_table_from_backup(drill: Drill) -> str:
    """Start a restore of the lost table from its newest COMPLETED recovery point; returns the job id."""
    drill.require("backup_jobs", why="a lost table is restored from an AWS Backup recovery point")
    stack = drill.require_stack()
    backup = drill.client("backup")
    points = [
        p
        for page in backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=stack.table_arn)
        for p in page.get("RecoveryPoints", [])
        if p.get("Status") == "COMPLETED"
    ]
    if not points:
        raise DrDrillError(f"no COMPLETED recovery point of {stack.names.table}: the lost table cannot be restored")
    newest = max(points, key=lambda p: p["CreationDate"])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = f"{stack.names.table}-restored-{stamp}"
    job = backup.start_restore_job(
        RecoveryPointArn=newest["RecoveryPointArn"],
        IamRoleArn=stack.backup_role_arn,
        ResourceType="DynamoDB",
        Metadata={"targetTableName": target},
        IdempotencyToken=f"drdrill-runbook-{drill.run_id}-{stack.names.stack_no}",
    )
    drill.incident.restore_job_id = job["RestoreJobId"]
    drill.incident.restored_table = target
    drill.incident.recovery_point_arn = newest["RecoveryPointArn"]
    drill.incident.recovery_point_at = newest["CreationDate"]
    drill.incident.restore_started_at = datetime.now(UTC)  # StartRestoreJob answers only the RestoreJobId
    return str(job["RestoreJobId"])


def _epoch(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def redeliver_last_records(drill: Drill) -> int:
    """Invoke the monitor again with every stream record since the change; returns how many."""
    stack = drill.require_stack()
    change = drill.incident.change_at
    if change is None:
        raise DrDrillError("'the last stream records are delivered again' needs a change first (a When step)")
    streams = drill.client("dynamodbstreams")
    records: list[RecordTypeDef] = []
    shards = streams.describe_stream(StreamArn=stack.stream_arn)["StreamDescription"].get("Shards", [])
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stack.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            batch = page.get("Records", [])
            records.extend(batch)
            if not batch:
                break
            iterator = page.get("NextShardIterator")
    cutoff = change.timestamp() - 1
    recent = [r for r in records if (_epoch(r["dynamodb"].get("ApproximateCreationDateTime")) or 0) >= cutoff]
    event = {"Records": []}  # type: dict[str, list[dict[str, Any]]]
    for record in recent:
        dynamodb: dict[str, Any] = dict(record["dynamodb"])
        dynamodb["ApproximateCreationDateTime"] = _epoch(dynamodb.get("ApproximateCreationDateTime"))
        entry: dict[str, Any] = {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": drill.target.region,
            "dynamodb": dynamodb,
            "eventSourceARN": stack.stream_arn,
        }
        identity = record.get("userIdentity")
        if identity:  # a TTL deletion stays the service's: Streams API {"Type", "PrincipalId"} -> Lambda's keys
            entry["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
        event["Records"].append(entry)
    for start in range(0, len(event["Records"]), 100):
        payload = {"Records": event["Records"][start : start + 100]}
        drill.client("lambda").invoke(
            FunctionName=stack.names.monitor_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload, default=_b64).encode(),
        )
    drill.record.add_evidence("notes", f"redelivered {len(recent)} stream records at {iso(datetime.now(UTC))}")
    return len(recent)


def _b64(value: Any) -> Any:
    import base64

    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__}")
