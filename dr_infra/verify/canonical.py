"""The canonical form of DynamoDB items: one spelling per value, so equal items give equal bytes.

Why its own module: the equivalence check hashes this form, the attribute-level diff compares it, and the
recovery evidence and benchmarks print it; each needs the same notion of "equal in DynamoDB" (``N`` as a number
in DynamoDB's 38-digit context, ``B`` as decoded bytes, sets as sets, ``L`` in order, ``M`` by key).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from decimal import Clamped, Context, Decimal, DecimalException, Inexact, Overflow, Rounded, Underflow
from typing import Any

Item = dict[str, Any]
"""One item in DynamoDB wire JSON: ``{"pk": {"S": "a"}, "n": {"N": "1"}}``."""

DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
"""DynamoDB's number context (the one boto3 uses): 38 significant digits."""

_PLAIN_TYPES = frozenset({"S", "BOOL", "NULL"})


class ItemFormatError(ValueError):
    """An item is not valid DynamoDB wire JSON (or lacks a key attribute)."""


def canonical_number(text: str | int | Decimal) -> str:
    """One spelling per numeric value: ``"1.0"``, ``"1"``, ``"1E0"`` give ``"1"``; ``"10"``: ``"1E+1"``."""
    if type(text) is str and text.isdigit() and len(text) <= 38 and text.isascii():
        # Fast path for plain non-negative integers; the same spelling Decimal.normalize gives.
        digits = text.lstrip("0")
        if not digits:
            return "0"
        coefficient = digits.rstrip("0")
        zeros = len(digits) - len(coefficient)
        if not zeros:
            return digits
        if len(coefficient) == 1:
            return f"{coefficient}E+{zeros}"
        return f"{coefficient[0]}.{coefficient[1:]}E+{zeros + len(coefficient) - 1}"
    try:
        value = Decimal(text) if not isinstance(text, Decimal) else text
    except (DecimalException, ValueError, TypeError) as exc:
        raise ItemFormatError(f"not a number: {text!r}") from exc
    if not value.is_finite():
        raise ItemFormatError(f"not a finite number: {text!r}")
    if not value:
        return "0"
    try:
        return str(DYNAMODB_CONTEXT.normalize(value))
    except DecimalException:
        # Outside DynamoDB's range or precision: keep it exact instead of rounding two values together.
        precision = len(value.as_tuple().digits)
        exact = Context(prec=max(precision, 1), Emin=-999_999_999, Emax=999_999_999)
        return str(exact.normalize(value))


def canonical_binary(value: str | bytes | bytearray | memoryview) -> str:
    """Binary as canonical base64 of its bytes (wire JSON carries base64 text; boto3 gives ``bytes``)."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ItemFormatError(f"binary value is not base64: {value[:40]!r}") from exc
    else:
        raw = bytes(value)
    return base64.b64encode(raw).decode("ascii")


def normalize_value(av: dict[str, Any]) -> dict[str, Any]:
    """An attribute value (``{"N": "1.0"}``) in canonical form (``{"N": "1"}``), equal iff the values are."""
    try:
        ((kind, value),) = av.items()
    except (AttributeError, TypeError, ValueError):
        raise ItemFormatError(f"not a DynamoDB attribute value: {av!r}"[:200]) from None
    if kind in _PLAIN_TYPES:
        return av
    normalizer = _NORMALIZERS.get(kind)
    if normalizer is None:
        raise ItemFormatError(f"unknown DynamoDB type {kind!r}")
    return {kind: normalizer(value)}


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "N": canonical_number,
    "M": lambda value: {name: normalize_value(inner) for name, inner in value.items()},
    "L": lambda value: [normalize_value(inner) for inner in value],
    "SS": lambda value: sorted(set(value)),
    "NS": lambda value: sorted({canonical_number(v) for v in value}),
    "B": canonical_binary,
    "BS": lambda value: sorted({canonical_binary(v) for v in value}),
}


def normalize_item(item: Item, ignore: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every attribute of ``item`` (but ``ignore``) in canonical form."""
    return {name: normalize_value(av) for name, av in item.items() if name not in ignore}


#: Sorted-key compact ASCII JSON as text (the hot loop of the digest pass calls it directly).
encode_text = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def encode_bytes(value: Any) -> bytes:
    """Sorted-key compact ASCII JSON of ``value``: the bytes that are hashed and compared."""
    return encode_text(value).encode("ascii")


def canonical(item: Item, ignore_attributes: Iterable[str] = ()) -> bytes:
    """The canonical encoding of an item: equal bytes if and only if the items are equal in DynamoDB.

    Sorted-key compact JSON of the normalised item (see :func:`normalize_value`); this is what is hashed.
    """
    return encode_bytes(normalize_item(item, frozenset(ignore_attributes)))


def to_jsonable(av: Any) -> Any:
    """A wire-JSON value with any ``bytes`` turned into base64 text (for examples and the journal)."""
    if isinstance(av, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(av)).decode("ascii")
    if isinstance(av, dict):
        return {k: to_jsonable(v) for k, v in av.items()}
    if isinstance(av, list):
        return [to_jsonable(v) for v in av]
    return av
