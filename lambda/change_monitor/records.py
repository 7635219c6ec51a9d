"""Thin, typed, read-only wrappers over DynamoDB stream records (Powertools-style).

Why not Powertools: the zip must run on the bare Lambda runtime, and these ~150
lines on top of boto3's ``TypeDeserializer`` are all the monitor needs.

Images are kept in two forms:

* ``*_raw``: DynamoDB JSON exactly as in the event. The monitor logs keys in this
  form and writes repairs from it, so values round-trip without any float or
  set conversion.
* deserialized (``keys``, ``new_image``, ``old_image``): Python values, numbers as
  :class:`decimal.Decimal` (38 digits, exact), for comparisons.

:func:`parse_record` turns a raw dict into a :class:`StreamRecord` or raises
:class:`MalformedRecord` with a reason; it never raises anything else, so one bad
record cannot crash the batch.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

AttributeValue = dict[str, Any]
"""One DynamoDB-JSON attribute value, e.g. ``{"S": "x"}``."""
Image = dict[str, AttributeValue]
"""A DynamoDB-JSON item (or key)."""

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
_deserializer = TypeDeserializer()


class EventName(enum.StrEnum):
    """The three stream event names."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


KEY_TYPES = frozenset({"S", "N", "B"})


class MalformedRecord(ValueError):
    """A record the monitor cannot interpret; ``raw`` is kept for logging."""

    def __init__(self, reason: str, raw: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw

    @property
    def sequence_number(self) -> str | None:
        """The record's SequenceNumber if it has one (then it can be reported as failed)."""
        if isinstance(self.raw, Mapping):
            ddb = self.raw.get("dynamodb")
            if isinstance(ddb, Mapping):
                seq = ddb.get("SequenceNumber")
                if isinstance(seq, str) and seq.isdigit():
                    return seq
        return None


@dataclass(frozen=True)
class TableRef:
    """A table identified from a record's ``eventSourceARN``."""

    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        """The table ARN (what AWS Backup calls the resource ARN)."""
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}"

    @classmethod
    def from_arn(cls, arn: str) -> TableRef:
        """Parse a table or stream ARN; raise ValueError if it is neither."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb":
            raise ValueError(f"not a DynamoDB ARN: {arn!r}")
        resource = parts[5].split("/")
        if len(resource) < 2 or resource[0] != "table" or not resource[1]:
            raise ValueError(f"not a DynamoDB table ARN: {arn!r}")
        return cls(region=parts[3], account=parts[4], name=resource[1])


def deserialize(image: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """DynamoDB JSON to Python values (numbers as Decimal)."""
    return {
        name: _deserializer.deserialize(_binary_to_bytes(av))  # type: ignore[arg-type]
        for name, av in image.items()
    }


def _binary_to_bytes(av: AttributeValue) -> AttributeValue:
    """Event JSON carries binary as base64 text; the API and deserializer want bytes."""
    if "B" in av and isinstance(av["B"], str):
        return {"B": base64.b64decode(av["B"], validate=True)}
    if "BS" in av:
        return {"BS": [base64.b64decode(b, validate=True) if isinstance(b, str) else b for b in av["BS"]]}
    if "M" in av:
        return {"M": {k: _binary_to_bytes(v) for k, v in av["M"].items()}}
    if "L" in av:
        return {"L": [_binary_to_bytes(v) for v in av["L"]]}
    return av


def to_client_image(image: Mapping[str, AttributeValue]) -> Image:
    """An event image as the low-level client expects it (binary as bytes, not base64)."""
    return {name: _binary_to_bytes(av) for name, av in image.items()}


@dataclass(frozen=True)
class StreamRecord:
    """One validated stream record; attributes mirror the event's fields."""

    raw: Mapping[str, Any]
    event_name: EventName
    sequence_number: str
    table: TableRef
    keys_raw: Image
    new_image_raw: Image | None
    old_image_raw: Image | None
    approximate_creation_time: datetime

    @property
    def sequence(self) -> int:
        """SequenceNumber as an integer: the strings differ in length, so compare these."""
        return int(self.sequence_number)

    @cached_property
    def keys(self) -> dict[str, Any]:
        """The item's key, deserialized."""
        return deserialize(self.keys_raw)

    @cached_property
    def new_image(self) -> dict[str, Any] | None:
        """The item after the change, deserialized (None for REMOVE or other view types)."""
        return None if self.new_image_raw is None else deserialize(self.new_image_raw)

    @cached_property
    def old_image(self) -> dict[str, Any] | None:
        """The item before the change, deserialized (None for INSERT or other view types)."""
        return None if self.old_image_raw is None else deserialize(self.old_image_raw)

    @property
    def is_ttl_delete(self) -> bool:
        """True for a deletion made by DynamoDB's Time to Live, which is not a user change."""
        identity = self.raw.get("userIdentity")
        return (
            self.event_name is EventName.REMOVE
            and isinstance(identity, Mapping)
            and identity.get("type") == "Service"
            and identity.get("principalId") == TTL_PRINCIPAL
        )

    def carries_attribute(self, name: str) -> bool:
        """True if either image holds attribute ``name``."""
        return any(img is not None and name in img for img in (self.new_image_raw, self.old_image_raw))


def _image(ddb: Mapping[str, Any], field: str, raw: object) -> Image | None:
    value = ddb.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedRecord(f"dynamodb.{field} is not a map", raw)
    return value


def parse_record(raw: object) -> StreamRecord:
    """Validate one raw record; raise :class:`MalformedRecord` with the reason if unusable."""
    if not isinstance(raw, Mapping):
        raise MalformedRecord("record is not an object", raw)
    ddb = raw.get("dynamodb")
    if not isinstance(ddb, Mapping):
        raise MalformedRecord("no dynamodb section", raw)
    seq = ddb.get("SequenceNumber")
    if not isinstance(seq, str) or not seq.isdigit():
        raise MalformedRecord("no SequenceNumber", raw)
    keys = ddb.get("Keys")
    if not isinstance(keys, dict) or not keys:
        raise MalformedRecord("no Keys", raw)
    try:
        event_name = EventName(str(raw.get("eventName")))
    except ValueError:
        raise MalformedRecord(f"unknown eventName {raw.get('eventName')!r}", raw) from None
    try:
        table = TableRef.from_arn(str(raw.get("eventSourceARN", "")))
    except ValueError as exc:
        raise MalformedRecord(f"bad eventSourceARN: {exc}", raw) from None
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, bool) or not isinstance(created, int | float | Decimal):
        raise MalformedRecord("no ApproximateCreationDateTime", raw)
    new_image = _image(ddb, "NewImage", raw)
    old_image = _image(ddb, "OldImage", raw)
    bad_types = sorted(
        {t for value in keys.values() for t in (value if isinstance(value, dict) else {"?": None})} - KEY_TYPES
    )
    if bad_types:
        # Key attributes can only be strings, numbers or binary (DynamoDB's key schema rule).
        raise MalformedRecord(f"Keys have non-key types {', '.join(bad_types)} (only S, N, B)", raw)
    try:
        deserialize(keys)
    except (TypeError, ValueError, KeyError) as exc:
        raise MalformedRecord(f"Keys are not DynamoDB JSON: {exc}", raw) from None
    return StreamRecord(
        raw=raw,
        event_name=event_name,
        sequence_number=seq,
        table=table,
        keys_raw=keys,
        new_image_raw=new_image,
        old_image_raw=old_image,
        approximate_creation_time=datetime.fromtimestamp(float(created), tz=UTC),
    )
