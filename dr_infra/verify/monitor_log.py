"""Evidence read back from the target: the change monitor's decision lines in CloudWatch Logs.

The monitor prints one JSON object per decision (see ``lambda/change_monitor/log.py``); Lambda ships
stdout to the function's log group, so the framework reads the same lines an operator would read on AWS.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_logs import CloudWatchLogsClient


def monitor_decisions(
    logs: CloudWatchLogsClient, log_group: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Every JSON decision line in ``log_group`` (oldest first), each with its CloudWatch ``timestamp``."""
    kwargs: dict[str, Any] = {"logGroupName": log_group}
    if since is not None:
        kwargs["startTime"] = int(since.timestamp() * 1000) - 1000
    decisions = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
            for event in page.get("events", []):
                message = event.get("message", "").strip()
                if not message.startswith("{"):
                    continue
                try:
                    line = json.loads(message)
                except ValueError:
                    continue
                if isinstance(line, dict) and "decision" in line:
                    line["timestamp"] = event.get("timestamp")
                    decisions.append(line)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return []
        raise
    decisions.sort(key=lambda d: d.get("timestamp") or 0)
    return decisions


def invocation_starts(logs: CloudWatchLogsClient, log_group: str, since: datetime | None = None) -> list[int]:
    """Timestamps (ms) of the function's START lines: when the monitor was invoked."""
    kwargs: dict[str, Any] = {"logGroupName": log_group, "filterPattern": "START"}
    if since is not None:
        kwargs["startTime"] = int(since.timestamp() * 1000) - 1000
    try:
        events = [
            e
            for page in logs.get_paginator("filter_log_events").paginate(**kwargs)
            for e in page.get("events", [])
            if e.get("message", "").startswith("START RequestId")
        ]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return []
        raise
    return sorted(int(e["timestamp"]) for e in events)


def log_lines(logs: CloudWatchLogsClient, log_group: str, since: datetime | None = None) -> list[tuple[int, str]]:
    """Every log event of ``log_group`` as ``(timestamp ms, message)``, oldest first: a user's monitor prints what it
    likes (plain text included), so nothing is parsed."""
    kwargs: dict[str, Any] = {"logGroupName": log_group}
    if since is not None:
        kwargs["startTime"] = int(since.timestamp() * 1000) - 1000
    try:
        events = [
            e for page in logs.get_paginator("filter_log_events").paginate(**kwargs) for e in page.get("events", [])
        ]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return []
        raise
    events.sort(key=lambda e: int(e.get("timestamp") or 0))
    return [(int(e.get("timestamp") or 0), str(e.get("message", "")).rstrip("\n")) for e in events]


FUNCTION_ERROR_MARKERS = ("[ERROR]", "Task timed out after", "Runtime exited with error")


def function_errors(logs: CloudWatchLogsClient, log_group: str, since: datetime | None = None) -> list[str]:
    """Log lines of failed invocations (unhandled exception, timeout, crash), oldest first, as Lambda writes them."""
    return [
        message.strip()
        for _, message in log_lines(logs, log_group, since)
        if any(marker in message for marker in FUNCTION_ERROR_MARKERS)
    ]


def _epoch_seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def key_json(key: Any) -> str:
    """One spelling of an item key for matching: binary values as base64 text, as Lambda's stream events carry
    them (boto3 gives them as bytes)."""
    return json.dumps(key, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def stream_record_times(
    streams: DynamoDBStreamsClient, stream_arn: str, keys: list[dict[str, Any]], since: datetime, page_limit: int = 1000
) -> list[datetime]:
    """ApproximateCreationDateTime of the stream records of ``keys`` created at or after ``since``.

    Every shard is read from TRIM_HORIZON (a drill's stream holds only the drill's own writes); a shard's
    reading stops at its first empty page (an open shard's iterator never ends).
    """
    wanted = {key_json(k) for k in keys}
    cutoff = since.timestamp()
    found: list[datetime] = []
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("Shards", [])
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=page_limit)
            records = page.get("Records", [])
            for record in records:
                data = record.get("dynamodb") or {}
                at = _epoch_seconds(data.get("ApproximateCreationDateTime"))
                if at is not None and at >= cutoff - 1 and key_json(data.get("Keys")) in wanted:
                    found.append(datetime.fromtimestamp(at, UTC))
            if not records:
                break
            iterator = page.get("NextShardIterator")
    return sorted(found)
