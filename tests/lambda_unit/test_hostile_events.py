"""Hostile stream events: every record gets one decision line, the handler never raises.

Missing fields and unknown event names are malformed (reported for redelivery when they carry a
SequenceNumber); a 400 KB item and binary keys that are not UTF-8 are ordinary records, handled normally.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from change_monitor import handler
from change_monitor.log import Decision
from change_monitor.records import StreamRecord, parse_record
from change_monitor.strategies.base import LambdaContext, Outcome, Runtime

from .support import LogLines, records_of, settings_for

ITEM_LIMIT = 400 * 1024  # DynamoDB's maximum item size, attribute names included


class Recorder:
    """A strategy that repairs every harmful record and remembers what it saw."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[StreamRecord] = []

    def process(
        self, harmful: Sequence[StreamRecord], batch: Sequence[StreamRecord], context: LambdaContext | None
    ) -> list[Outcome]:
        self.seen = list(harmful)
        return [Outcome(r, Decision.REPAIRED) for r in harmful]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, make_runtime: Callable[..., Runtime]) -> Recorder:
    strategy = Recorder()
    handler.reset_runtime(make_runtime(settings_for("item")))
    monkeypatch.setattr(handler, "build_strategy", lambda runtime: strategy)
    return strategy


def _remove() -> dict[str, Any]:
    return copy.deepcopy(records_of("remove.json")[0])


def _without(path: str) -> dict[str, Any]:
    record = _remove()
    *parents, leaf = path.split(".")
    node = record
    for part in parents:
        node = node[part]
    del node[leaf]
    return record


def _with(path: str, value: Any) -> dict[str, Any]:
    record = _remove()
    *parents, leaf = path.split(".")
    node = record
    for part in parents:
        node = node[part]
    node[leaf] = value
    return record


SEQ = _remove()["dynamodb"]["SequenceNumber"]


@pytest.mark.parametrize(
    ("record", "reason", "reported"),
    [
        (_without("eventName"), "unknown eventName None", True),
        (_with("eventName", "DELETE"), "unknown eventName 'DELETE'", True),
        (_with("eventName", ["REMOVE"]), "unknown eventName ['REMOVE']", True),
        (_without("eventSourceARN"), "bad eventSourceARN: not a DynamoDB ARN: ''", True),
        (
            _with("eventSourceARN", "arn:aws:sqs:us-east-1:1:q"),
            "bad eventSourceARN: not a DynamoDB ARN: 'arn:aws:sqs:us-east-1:1:q'",
            True,
        ),
        (_without("dynamodb.ApproximateCreationDateTime"), "no ApproximateCreationDateTime", True),
        (_with("dynamodb.ApproximateCreationDateTime", True), "no ApproximateCreationDateTime", True),
        (_with("dynamodb.Keys", {}), "no Keys", True),
        (_with("dynamodb.Keys", "pk=1"), "no Keys", True),
        (_with("dynamodb.OldImage", ["x"]), "dynamodb.OldImage is not a map", True),
        (_with("dynamodb.SequenceNumber", 42), "no SequenceNumber", False),
        (_with("dynamodb.SequenceNumber", "12ab"), "no SequenceNumber", False),
        (_without("dynamodb"), "no dynamodb section", False),
        ("REMOVE", "record is not an object", False),
        (None, "record is not an object", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_record_with_missing_or_wrong_fields_is_logged_malformed_and_reported(
    recorder: Recorder, logs: LogLines, record: Any, reason: str, reported: bool
) -> None:
    good = _with("dynamodb.SequenceNumber", str(int(SEQ) + 1000))

    response = handler.lambda_handler({"Records": [record, good]}, None)

    lines = logs.read()
    assert [line["decision"] for line in lines] == ["malformed", "repaired"]
    assert lines[0]["reason"] == reason and lines[0]["level"] == "ERROR"
    assert [r.sequence_number for r in recorder.seen] == [good["dynamodb"]["SequenceNumber"]]
    failures = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    # a reportable malformed record makes the mapping redeliver it (and the rest of the batch after it)
    assert failures == ([SEQ, good["dynamodb"]["SequenceNumber"]] if reported else [])


@pytest.mark.parametrize("event", [{}, {"Records": None}, {"Records": "x"}, [], "not an event", None])
def test_an_event_without_a_records_list_is_one_malformed_line(recorder: Recorder, logs: LogLines, event: Any) -> None:
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    [line] = logs.read()
    assert line["decision"] == "malformed" and line["reason"] == "event has no Records list"


def test_a_400_kb_item_is_handled_and_not_copied_into_the_log(recorder: Recorder, logs: LogLines) -> None:
    record = _remove()
    keys = record["dynamodb"]["Keys"]
    filler = "x" * (ITEM_LIMIT - 1024)
    record["dynamodb"]["OldImage"] = {
        **keys,
        "payload": {"S": filler},
        "blob": {"B": base64.b64encode(b"\xff" * 512).decode()},
    }
    record["dynamodb"]["SizeBytes"] = ITEM_LIMIT
    assert len(json.dumps(record)) > ITEM_LIMIT - 1024

    response = handler.lambda_handler({"Records": [record]}, None)

    assert response == {"batchItemFailures": []}
    [seen] = recorder.seen
    assert seen.old_image is not None and len(seen.old_image["payload"]) == len(filler)
    assert seen.old_image["blob"] == Binary(b"\xff" * 512)
    [line] = logs.read()
    assert line["decision"] == "repaired" and line["keys"] == keys
    assert len(json.dumps(line)) < 2048, "the decision line must carry the keys, not the item"


def test_a_malformed_400_kb_record_logs_a_bounded_line(recorder: Recorder, logs: LogLines) -> None:
    record = _without("dynamodb.Keys")
    record["dynamodb"]["OldImage"] = {"payload": {"S": "y" * (ITEM_LIMIT - 1024)}}

    response = handler.lambda_handler({"Records": [record]}, None)

    [line] = logs.read()
    assert line["decision"] == "malformed" and line["reason"] == "no Keys"
    assert len(json.dumps(line)) < 2048
    assert response == {"batchItemFailures": [{"itemIdentifier": SEQ}]}


NOT_UTF8 = b"\xff\xfe\x80\x00\xc3("  # invalid UTF-8 start bytes, a NUL, a truncated sequence


def test_a_binary_key_that_is_not_utf8_is_parsed_logged_and_repaired(recorder: Recorder, logs: LogLines) -> None:
    record = _remove()
    encoded = base64.b64encode(NOT_UTF8).decode()
    record["dynamodb"]["Keys"] = {"pk": {"B": encoded}}
    record["dynamodb"]["OldImage"] = {"pk": {"B": encoded}, "v": {"BS": [encoded]}}

    response = handler.lambda_handler({"Records": [record]}, None)

    assert response == {"batchItemFailures": []}
    [seen] = recorder.seen
    assert seen.keys == {"pk": Binary(NOT_UTF8)}
    [line] = logs.read()
    assert line["decision"] == "repaired"
    assert line["keys"] == {"pk": {"B": encoded}}  # logged exactly as in the event (base64 text)


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"B": "%%% not base64 %%%"}},
        {"pk": {"B": 12}},
        {"pk": {"B": "abc"}},
        {"pk": {"Q": "unknown type"}},
    ],
    ids=["bad-base64", "binary-number", "bad-padding", "unknown-type"],
)
def test_an_undecodable_key_is_malformed_not_a_crash(recorder: Recorder, logs: LogLines, key: dict[str, Any]) -> None:
    record = _with("dynamodb.Keys", key)

    response = handler.lambda_handler({"Records": [record]}, None)

    [line] = logs.read()
    assert line["decision"] == "malformed"
    assert line["reason"].startswith(("Keys are not DynamoDB JSON: ", "Keys have non-key types"))
    assert response == {"batchItemFailures": [{"itemIdentifier": SEQ}]}
    assert recorder.seen == []


def test_a_lone_surrogate_in_a_string_key_is_logged_as_valid_json(recorder: Recorder, logs: LogLines) -> None:
    record = _with("dynamodb.Keys", {"pk": {"S": "bad\udcffkey"}})

    assert handler.lambda_handler({"Records": [record]}, None) == {"batchItemFailures": []}
    [line] = logs.read()
    assert line["keys"] == {"pk": {"S": "bad\udcffkey"}}
    assert parse_record(record).keys == {"pk": "bad\udcffkey"}
