"""Typed wrappers over stream records: exact numbers, binary, TTL, malformed reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from change_monitor.records import EventName, MalformedRecord, TableRef, parse_record, to_client_image

from .support import load_event, records_of


def test_modify_record_is_deserialized_with_decimals() -> None:
    record = parse_record(load_event("modify.json")["Records"][0])

    assert record.event_name is EventName.MODIFY
    assert record.table == TableRef("us-east-1", "123456789012", "orders")
    assert record.table.arn == "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    assert record.keys == {"pk": "customer#0001", "sk": "order#0001"}
    assert record.old_image is not None and record.new_image is not None
    assert record.old_image["amount"] == Decimal("12.50")
    assert record.new_image["status"] == "CANCELLED"
    assert record.approximate_creation_time == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert record.sequence == 4421584500000000017450439091


def test_binary_is_base64_in_events_and_bytes_for_the_client() -> None:
    record = parse_record(load_event("remove.json")["Records"][0])

    assert record.old_image is not None
    assert bytes(record.old_image["blob"]) == b"\x01\x02\x03"
    assert record.old_image_raw is not None
    assert to_client_image(record.old_image_raw)["blob"] == {"B": b"\x01\x02\x03"}


def test_ttl_deletion_is_recognised() -> None:
    assert parse_record(load_event("ttl_delete.json")["Records"][0]).is_ttl_delete
    assert not parse_record(load_event("remove.json")["Records"][0]).is_ttl_delete


@pytest.mark.parametrize(
    ("index", "reason", "sequence"),
    [
        (0, "no dynamodb section", None),
        (1, "no Keys", "4421584500000000017450439291"),
        (2, "unknown eventName 'UPSERT'", "4421584500000000017450439391"),
        (3, "no SequenceNumber", None),
    ],
)
def test_malformed_records_say_why(index: int, reason: str, sequence: str | None) -> None:
    with pytest.raises(MalformedRecord) as caught:
        parse_record(records_of("malformed.json")[index])

    assert caught.value.reason == reason
    assert caught.value.sequence_number == sequence


def test_invalid_base64_and_set_typed_keys_are_malformed() -> None:
    """Keys must be S, N or B, and binary must be real base64: anything else is reported, not guessed."""
    import json
    from pathlib import Path

    import pytest
    from change_monitor.records import MalformedRecord, parse_record

    record = json.loads((Path(__file__).parents[1] / "events" / "remove.json").read_text())["Records"][0]
    bad_b64 = json.loads(json.dumps(record))
    bad_b64["dynamodb"]["Keys"] = {"pk": {"B": "@@@"}}
    with pytest.raises(MalformedRecord, match="not DynamoDB JSON"):
        parse_record(bad_b64)
    set_key = json.loads(json.dumps(record))
    set_key["dynamodb"]["Keys"] = {"pk": {"BS": ["AQ=="]}}
    with pytest.raises(MalformedRecord, match="non-key types BS"):
        parse_record(set_key)
