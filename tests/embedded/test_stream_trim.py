"""DynamoDB Streams keeps records 24 hours; a read past the trim horizon is TrimmedDataAccessException (boto3 only).

AWS: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html ("All data in DynamoDB Streams is
subject to a 24-hour lifetime"), https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
API_streams_GetRecords.html and API_streams_GetShardIterator.html (TrimmedDataAccessException: a shard iterator
with a sequence number older than the trim point, or an iterator whose record was trimmed before GetRecords).
The embedded target's time moves on through its plan clock: advancing a plan ages what its selections cover.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import create_role, create_table, put

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.stream_store import (
    RETENTION_SECONDS,
    PackedRecord,
    RecordLog,
    TrimmedDataAccessException,
)

HOUR = 3600.0


class Stream:
    """A streamed table, optionally covered by a 12-hourly backup plan named ``plan-<unique>``."""

    def __init__(self, target: EmbeddedTarget, name: str, plan_scope: str | None = None) -> None:
        self.ddb, self.streams = target.client("dynamodb"), target.client("dynamodbstreams")
        self.table = name
        arn = create_table(self.ddb, name, stream=True)
        self.arn = self.ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        self.shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        if plan_scope:
            backup, iam = target.client("backup"), target.client("iam")
            backup.create_backup_vault(BackupVaultName=f"vault-{name}")
            role = create_role(iam, f"role-{name}")
            plan_id = backup.create_backup_plan(
                BackupPlan={
                    "BackupPlanName": plan_scope,
                    "Rules": [
                        {
                            "RuleName": "every-12-hours",
                            "TargetBackupVaultName": f"vault-{name}",
                            "ScheduleExpression": "cron(0 0/12 * * ? *)",
                        }
                    ],
                }
            )["BackupPlanId"]
            backup.create_backup_selection(
                BackupPlanId=plan_id,
                BackupSelection={"SelectionName": "table", "IamRoleArn": role, "Resources": [arn]},
            )

    def iterator(self, kind: str = "TRIM_HORIZON", sequence: str | None = None) -> str:
        extra = {"SequenceNumber": sequence} if sequence else {}
        return str(
            self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard, ShardIteratorType=kind, **extra)[
                "ShardIterator"
            ]
        )

    def records(self, iterator: str | None = None) -> list[dict[str, Any]]:
        return list(self.streams.get_records(ShardIterator=iterator or self.iterator())["Records"])

    def keys(self, iterator: str | None = None) -> list[str]:
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in self.records(iterator)]


def _trimmed(error: pytest.ExceptionInfo[ClientError]) -> None:
    assert error.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    assert "oldest stream record" in error.value.response["Error"]["Message"]


def test_records_older_than_24_hours_are_trimmed_and_reading_them_is_refused(
    embedded: EmbeddedTarget, unique: str
) -> None:
    s = Stream(embedded, f"trim-{unique}", plan_scope=f"plan-{unique}")
    put(s.ddb, s.table, "a", 1)
    put(s.ddb, s.table, "b", 1)
    before = s.records()
    held = s.iterator()  # handed out before the trim
    assert control(embedded).advance_plan_clock(25 * HOUR, scope=f"plan-{unique}")
    put(s.ddb, s.table, "c", 1)

    with pytest.raises(ClientError) as stale:
        s.records(held)
    _trimmed(stale)
    with pytest.raises(ClientError) as old_sequence:
        s.iterator("AT_SEQUENCE_NUMBER", before[0]["dynamodb"]["SequenceNumber"])
    _trimmed(old_sequence)
    with pytest.raises(ClientError) as after_old:
        s.iterator("AFTER_SEQUENCE_NUMBER", before[0]["dynamodb"]["SequenceNumber"])
    _trimmed(after_old)

    after = s.records()  # TRIM_HORIZON now starts at the oldest record still there
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["c"]
    assert int(after[0]["dynamodb"]["SequenceNumber"]) > int(before[-1]["dynamodb"]["SequenceNumber"])
    assert s.keys(s.iterator("AT_SEQUENCE_NUMBER", after[0]["dynamodb"]["SequenceNumber"])) == ["c"]


def test_records_younger_than_24_hours_stay_readable(embedded: EmbeddedTarget, unique: str) -> None:
    s = Stream(embedded, f"keep-{unique}", plan_scope=f"plan-{unique}")
    put(s.ddb, s.table, "a", 1)
    held = s.iterator()
    control(embedded).advance_plan_clock(23 * HOUR, scope=f"plan-{unique}")
    put(s.ddb, s.table, "b", 1)
    assert s.keys(held) == ["a", "b"]
    first = s.records()[0]["dynamodb"]["SequenceNumber"]
    assert s.keys(s.iterator("AT_SEQUENCE_NUMBER", first)) == ["a", "b"]

    control(embedded).advance_plan_clock(2 * HOUR, scope=f"plan-{unique}")  # "a" is 25 hours old, "b" 2 hours
    assert s.keys() == ["b"]


def test_a_table_the_plan_does_not_cover_keeps_its_records(embedded: EmbeddedTarget, unique: str) -> None:
    covered = Stream(embedded, f"covered-{unique}", plan_scope=f"plan-{unique}")
    other = Stream(embedded, f"other-{unique}")
    put(covered.ddb, covered.table, "a", 1)
    put(other.ddb, other.table, "a", 1)
    control(embedded).advance_plan_clock(30 * HOUR, scope=f"plan-{unique}")
    assert covered.keys() == []
    assert other.keys() == ["a"]


def control(target: EmbeddedTarget) -> Any:
    assert target.control is not None
    return target.control


def _record(seq: int) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(seq), "Keys": {"pk": {"S": str(seq)}}}}


def test_the_record_log_trims_by_the_wall_clock_and_keeps_positions() -> None:
    """Without any plan clock, a record is gone once it is 24 hours old by the wall clock; positions never shift."""
    log = RecordLog()
    now = time.time()
    ages = [RETENTION_SECONDS + 60, RETENTION_SECONDS + 1, RETENTION_SECONDS - 60]
    for i, age in enumerate(ages):
        log.append(PackedRecord(_record(i), created=now - age))
    assert len(log) == 3
    assert log.horizon == 2
    assert log[2].record == _record(2)
    assert log[-1].sequence == 2
    assert [r.sequence for r in log] == [2]
    assert [r.sequence for r in log[2:10]] == [2]
    for trimmed in (0, 1):
        with pytest.raises(TrimmedDataAccessException):
            log[trimmed]
    with pytest.raises(TrimmedDataAccessException):
        log[0:3]
    changed = log[2].record
    changed["eventName"] = "MODIFY"
    assert log[2].record["eventName"] == "INSERT"  # readers get copies
    log.append(PackedRecord(_record(3), created=time.time()))
    assert [r.sequence for r in log[2:4]] == [2, 3]
