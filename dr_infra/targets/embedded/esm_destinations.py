"""Discarded stream batches go to the mapping's ``DestinationConfig.OnFailure``, as AWS sends them.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html; the message below is the
one recorded on AWS in LocalStack's
``tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json``,
``test_dynamodb_event_source_mapping_with_on_failure_destination_config`` and ``..._sns_on_failure_...``):
when a batch is discarded (retries used up, or its records older than ``MaximumRecordAgeInSeconds``) and an
SQS queue or SNS topic is the mapping's ``OnFailure`` destination, Lambda sends it one JSON document that
describes the batch (not the records themselves)::

    {"requestContext": {"requestId", "functionArn", "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": N},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"|null},
     "version": "1.0", "timestamp": "2022-07-13T13:48:01.000Z",
     "DDBStreamBatchInfo": {"shardId", "startSequenceNumber", "endSequenceNumber",
                            "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord",
                            "batchSize", "streamArn"}}

``condition`` is ``RetryAttemptsExhausted`` or ``RecordAgeExceeded``; the message body on SQS, the SNS
notification's ``Message`` on SNS. The reader fetches the records with GetShardIterator/GetRecords.

What is modelled: exactly that document, sent through moto's SQS ``send_message`` / SNS ``publish`` (so an
SQS queue subscribed to the topic receives it). ``functionError`` is ``Unhandled`` when the last attempt
raised or timed out and ``null`` when the function answered with batch item failures; for records discarded
by age before any invocation ``approximateInvokeCount`` is 0 and ``responseContext`` is omitted. A
destination deleted after the mapping was created is skipped (counted in the poller's statistics).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models.table import StreamRecord
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from dr_infra.targets.embedded.esm_events import created_at

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.sqs.models.SQSBackend.send_message",
    "moto.sns.models.SNSBackend.publish",
)
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


@dataclass(frozen=True)
class Discarded:
    """One batch the poller gave up on."""

    records: list[StreamRecord]
    condition: str
    invoke_count: int
    function_error: str | None


def _iso(epoch: float, millis: bool) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def invocation_record(
    discarded: Discarded, function_arn: str, stream_arn: str, shard_id: str, now: float
) -> dict[str, Any]:
    """The document AWS sends to an OnFailure destination for a discarded stream batch."""
    first, last = discarded.records[0], discarded.records[-1]
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": discarded.condition,
            "approximateInvokeCount": discarded.invoke_count,
        },
    }
    if discarded.invoke_count:
        document["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": discarded.function_error,
        }
    document["version"] = "1.0"
    document["timestamp"] = _iso(now, millis=True)
    document["DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first.to_json()["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": last.to_json()["dynamodb"]["SequenceNumber"],
        "approximateArrivalOfFirstRecord": _iso(created_at(first), millis=False),
        "approximateArrivalOfLastRecord": _iso(created_at(last), millis=False),
        "batchSize": len(discarded.records),
        "streamArn": stream_arn,
    }
    return document


def send(destination: str, document: dict[str, Any]) -> bool:
    """Deliver ``document`` to an SQS queue or SNS topic ARN; False when the destination is gone."""
    parts = destination.split(":")
    if len(parts) < 6:
        return False
    service, region, account, name = parts[2], parts[3], parts[4], parts[5]
    body = json.dumps(document)
    try:
        if service == "sqs":
            sqs_backends[account][region].send_message(name, body)
            return True
        if service == "sns":
            sns_backends[account][region].publish(body, arn=destination)
            return True
    except Exception:  # a queue or topic deleted since the mapping was created
        return False
    return False
