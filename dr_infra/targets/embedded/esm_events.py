"""The Lambda event an event source mapping builds from DynamoDB stream records, as AWS builds it.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html): the event is
``{"Records": [{"eventID", "eventName", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion",
"dynamodb": {"ApproximateCreationDateTime" (epoch seconds), "Keys", "NewImage", "OldImage",
"SequenceNumber", "SizeBytes", "StreamViewType"}, "eventSourceARN"}]}``, plus ``userIdentity`` on records a
service wrote (TTL deletions: ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``). Binary
values travel base64-encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from moto.dynamodb.models.table import StreamRecord

from dr_infra.targets.embedded.stream_store import PackedRecord

HOOKED_INTERNALS: tuple[str, ...] = ("moto.dynamodb.models.table.StreamRecord.to_json",)


def epoch_seconds(value: Any) -> float:
    """A stream record's time as epoch seconds (moto keeps datetimes or numbers)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())
    return float(value) if value is not None else 0.0


def json_bytes(value: object) -> str:
    """Binary attribute values travel base64-encoded in Lambda events, as on AWS (moto keeps BS as bytes)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot encode {type(value).__name__} in a Lambda event")


def sequence(record: StreamRecord | PackedRecord) -> int:
    if isinstance(record, PackedRecord):
        return record.sequence
    return int(record.to_json()["dynamodb"]["SequenceNumber"])


def created_at(record: StreamRecord | PackedRecord) -> float:
    """The record's ApproximateCreationDateTime in epoch seconds."""
    if isinstance(record, PackedRecord):
        return record.created
    return epoch_seconds(record.to_json()["dynamodb"]["ApproximateCreationDateTime"])


def lambda_event_record(record: StreamRecord, region: str, stream_arn: str) -> dict[str, Any]:
    """One entry of the Lambda event's ``Records`` list, as AWS builds it from a stream record."""
    raw = record.to_json()
    source = raw["dynamodb"]
    dynamodb: dict[str, Any] = {
        # DynamoDB Streams rounds ApproximateCreationDateTime down to the second.
        "ApproximateCreationDateTime": int(epoch_seconds(source["ApproximateCreationDateTime"])),
        "Keys": source["Keys"],
    }
    for key in ("NewImage", "OldImage"):
        if key in source:
            dynamodb[key] = source[key]
    dynamodb["SequenceNumber"] = source["SequenceNumber"]
    dynamodb["SizeBytes"] = source["SizeBytes"]
    dynamodb["StreamViewType"] = source["StreamViewType"]
    event: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    identity = raw.get("userIdentity")
    if identity:  # the Streams API's {"PrincipalId", "Type"} is {"type", "principalId"} in Lambda events
        event["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return event
