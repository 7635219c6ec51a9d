"""Prove that a table holds exactly the expected items: a streaming, exact, type-aware comparison.

The question a drill asks after a restore is "does the restored table equal the table as it was before the
harmful change?". Tables can be large, so the comparison never holds both sides whole in memory:

1. **Digest pass.** Each side is streamed once. Every item is turned into a canonical byte string
   (:func:`canonical`), hashed with SHA-256, and assigned to one of ``partitions`` buckets by a CRC-32 of its
   canonical key. Per bucket the side keeps an item count and the sum of the item digests modulo 2**256 (an
   order-independent multiset hash). Memory: two small arrays, whatever the table size. Both sides are read
   concurrently (two threads), so two tables on a remote endpoint are read in parallel.
2. **Drill-down.** Only the buckets whose (count, digest sum) differ are examined again: both sides are
   re-read (the inputs are re-iterable factories), items outside the differing buckets are skipped after
   hashing their key only, the expected side's items in those buckets are held (in groups of at most
   ``drilldown_budget`` items, one more re-read per extra group) and the actual side is matched against them
   item by item. Missing, extra and changed counts are exact; the first ``max_examples`` differences carry
   attribute-level diffs with nested paths (``profile.tags[2]``).

Exactness, per DynamoDB type (wire JSON, ``{"attr": {"S": "x"}}``): ``N`` is compared as a number
(``"1.0" == "1"``, normalised in DynamoDB's 38-digit decimal context; longer literals are kept exact, not
rounded), ``B`` as the decoded bytes (base64 text as in wire JSON, or ``bytes`` as boto3's low-level client
gives them), ``SS``/``NS``/``BS`` as sets (order and duplicates ignored, ``NS`` numerically), ``L`` in
order, ``M`` by key, recursively; ``S``, ``BOOL``, ``NULL`` as they are. A type change (``{"N": "1"}`` vs
``{"S": "1"}``) is a difference.

Limits, stated honestly: two different bucket contents with the same count and digest sum go unnoticed only
on a SHA-256 sum collision (not a concern for non-adversarial data). The drill-down re-reads the inputs, so
they must not change between passes (compare a restored table and the oracle, or quiesced tables). A key
that appears twice on the actual side counts as extra; ``ignore_attributes`` names top-level attributes
only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Clamped, Context, Decimal, DecimalException, Inexact, Overflow, Rounded, Underflow
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dr_infra.targets.base import Target

Item = dict[str, Any]
"""One item in DynamoDB wire JSON: ``{"pk": {"S": "a"}, "n": {"N": "1"}}``."""

ItemSource = Callable[[], Iterable[Item]]
"""A re-iterable source: each call starts a fresh stream of the same items."""

DEFAULT_PARTITIONS = 4096
DEFAULT_MAX_EXAMPLES = 10
DEFAULT_DRILLDOWN_BUDGET = 50_000
MAX_ATTRIBUTE_DIFFS = 50
_MOD = 1 << 256

DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
"""DynamoDB's number context (the one boto3 uses): 38 significant digits."""

_PLAIN_TYPES = frozenset({"S", "BOOL", "NULL"})


class ItemFormatError(ValueError):
    """An item is not valid DynamoDB wire JSON (or lacks a key attribute)."""


# --- canonical encoding -----------------------------------------------------------------------------------


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


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def _dumps(value: Any) -> bytes:
    return _ENCODE(value).encode("ascii")


def canonical(item: Item, ignore_attributes: Iterable[str] = ()) -> bytes:
    """The canonical encoding of an item: equal bytes if and only if the items are equal in DynamoDB.

    Sorted-key compact JSON of the normalised item (see :func:`normalize_value`); this is what is hashed.
    """
    return _dumps(normalize_item(item, frozenset(ignore_attributes)))


def to_jsonable(av: Any) -> Any:
    """A wire-JSON value with any ``bytes`` turned into base64 text (for examples and the journal)."""
    if isinstance(av, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(av)).decode("ascii")
    if isinstance(av, dict):
        return {k: to_jsonable(v) for k, v in av.items()}
    if isinstance(av, list):
        return [to_jsonable(v) for v in av]
    return av


# --- result -----------------------------------------------------------------------------------------------


@dataclass
class Diff:
    """What a comparison found. Counts are exact; ``examples`` holds the first ``max_examples`` ones."""

    compared_expected: int = 0
    compared_actual: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    max_examples: int = DEFAULT_MAX_EXAMPLES
    partitions: int = DEFAULT_PARTITIONS
    differing_partitions: int = 0
    drilldown_passes: int = 0
    drilldown_items: int = 0
    """Items (both sides) fully examined in the drill-down; items outside differing partitions are not."""
    expected_digest: str | None = None
    actual_digest: str | None = None
    """Digests of the two sides' data (:data:`DIGEST_METHOD`): equal data gives equal digests, whatever the
    order the items were read in, so the journal pins what exactly was compared."""

    @property
    def equal(self) -> bool:
        return self.missing == 0 and self.extra == 0 and self.changed == 0

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed

    def summary(self) -> str:
        """One line for logs and reports."""
        sides = f"{self.compared_expected} expected, {self.compared_actual} actual items"
        if self.equal:
            return f"equal: {sides}"
        return (
            f"NOT equal: {self.missing} missing, {self.extra} extra, {self.changed} changed ({sides}; "
            f"{len(self.examples)} of {self.differences} differences shown)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready evidence (the journal's ``diff``)."""
        return {
            "equal": self.equal,
            "summary": self.summary(),
            "compared_expected": self.compared_expected,
            "compared_actual": self.compared_actual,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "examples": self.examples,
            "examples_truncated": self.differences > len(self.examples),
            "partitions": self.partitions,
            "differing_partitions": self.differing_partitions,
            "drilldown_passes": self.drilldown_passes,
            "drilldown_items": self.drilldown_items,
            "expected_digest": self.expected_digest,
            "actual_digest": self.actual_digest,
            "digest_method": DIGEST_METHOD,
        }

    def _add_example(self, example: dict[str, Any]) -> None:
        if len(self.examples) < self.max_examples:
            self.examples.append(example)

    @property
    def _wants_examples(self) -> bool:
        return len(self.examples) < self.max_examples


# --- attribute-level diffs --------------------------------------------------------------------------------


def attribute_diffs(
    expected: Item, actual: Item, ignore_attributes: Iterable[str] = (), limit: int = MAX_ATTRIBUTE_DIFFS
) -> list[dict[str, Any]]:
    """Where two items differ: ``[{"attribute": "profile.tags[2]", "expected": {...}, "actual": {...}}]``.

    Maps and lists are descended into; a set, scalar or type change is reported at its own path. An absent
    attribute is ``None``.
    """
    ignore = frozenset(ignore_attributes)
    out: list[dict[str, Any]] = []
    for name in sorted((set(expected) | set(actual)) - ignore):
        _diff_value(name, expected.get(name), actual.get(name), out, limit)
        if len(out) >= limit:
            break
    return out[:limit]


def _diff_value(path: str, expected: Any, actual: Any, out: list[dict[str, Any]], limit: int) -> None:
    if len(out) >= limit:
        return
    if expected is None or actual is None:
        if expected is not None or actual is not None:
            out.append({"attribute": path, "expected": to_jsonable(expected), "actual": to_jsonable(actual)})
        return
    norm_expected, norm_actual = normalize_value(expected), normalize_value(actual)
    if norm_expected == norm_actual:
        return
    if "M" in expected and "M" in actual:
        inner_expected, inner_actual = expected["M"], actual["M"]
        for key in sorted(set(inner_expected) | set(inner_actual)):
            _diff_value(f"{path}.{key}", inner_expected.get(key), inner_actual.get(key), out, limit)
        return
    if "L" in expected and "L" in actual:
        list_expected, list_actual = expected["L"], actual["L"]
        for index in range(max(len(list_expected), len(list_actual))):
            _diff_value(
                f"{path}[{index}]",
                list_expected[index] if index < len(list_expected) else None,
                list_actual[index] if index < len(list_actual) else None,
                out,
                limit,
            )
        return
    out.append({"attribute": path, "expected": to_jsonable(expected), "actual": to_jsonable(actual)})


# --- the comparison ---------------------------------------------------------------------------------------


class _Keyer:
    """Canonical key text and partition of an item."""

    def __init__(self, key_attributes: Sequence[str], partitions: int) -> None:
        if not key_attributes:
            raise ValueError("key_attributes must name the table's key (hash, and range if any)")
        self.names = tuple(key_attributes)
        self.partitions = partitions

    def key(self, item: Item) -> bytes:
        try:
            return _dumps([normalize_value(item[name]) for name in self.names])
        except KeyError as exc:
            raise ItemFormatError(f"item lacks key attribute {exc.args[0]!r}: {str(item)[:200]}") from None

    def partition(self, key: bytes) -> int:
        return zlib.crc32(key) % self.partitions

    def key_of(self, item: Item) -> dict[str, Any]:
        return {name: to_jsonable(item[name]) for name in self.names if name in item}


#: How :attr:`Diff.expected_digest` is made: the sum modulo 2**256 of every item's SHA-256 (of its canonical
#: JSON, :func:`canonical`), as 64 hex digits: an order-independent hash of the multiset of items.
DIGEST_METHOD = "sha256-multiset-sum/1"


@dataclass
class _Digests:
    count: int = 0
    per_partition_count: list[int] = field(default_factory=list)
    per_partition_sum: list[int] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """The whole side's digest (:data:`DIGEST_METHOD`)."""
        return f"{sum(self.per_partition_sum) % _MOD:064x}"


def _digest(item: Item, ignore: frozenset[str]) -> bytes:
    return hashlib.sha256(_dumps(normalize_item(item, ignore))).digest()


def _digest_pass(source: ItemSource, keyer: _Keyer, ignore: frozenset[str]) -> _Digests:
    counts = [0] * keyer.partitions
    sums = [0] * keyer.partitions
    total = 0
    sha256 = hashlib.sha256
    from_bytes = int.from_bytes
    encode = _ENCODE
    crc32 = zlib.crc32
    names = keyer.names
    partitions = keyer.partitions
    for item in source():
        normalized = normalize_item(item, ignore)
        try:
            key = encode([normalized[name] for name in names]).encode("ascii")
        except KeyError:
            key = keyer.key(item)  # raises the readable error (or the key attribute is ignored)
        part = crc32(key) % partitions
        counts[part] += 1
        sums[part] += from_bytes(sha256(encode(normalized).encode("ascii")).digest(), "big")
        total += 1
    return _Digests(total, counts, [s % _MOD for s in sums])


def _groups(partitions: list[int], counts: list[int], budget: int) -> Iterator[set[int]]:
    """Differing partitions in groups holding at most ``budget`` expected items (at least one partition)."""
    group: set[int] = set()
    size = 0
    for part in partitions:
        if group and size + counts[part] > budget:
            yield group
            group, size = set(), 0
        group.add(part)
        size += counts[part]
    if group:
        yield group


def _drill(
    expected: ItemSource,
    actual: ItemSource,
    keyer: _Keyer,
    ignore: frozenset[str],
    group: set[int],
    diff: Diff,
) -> None:
    held: dict[bytes, tuple[bytes, Item]] = {}
    for item in expected():
        key = keyer.key(item)
        if keyer.partition(key) in group:
            diff.drilldown_items += 1
            held[key] = (_digest(item, ignore), item)
    for item in actual():
        key = keyer.key(item)
        if keyer.partition(key) not in group:
            continue
        diff.drilldown_items += 1
        found = held.pop(key, None)
        if found is None:
            diff.extra += 1
            if diff._wants_examples:
                diff._add_example({"kind": "extra", "key": keyer.key_of(item), "attribute_diffs": []})
            continue
        digest, expected_item = found
        if digest != _digest(item, ignore):
            diff.changed += 1
            if diff._wants_examples:
                diff._add_example(
                    {
                        "kind": "changed",
                        "key": keyer.key_of(item),
                        "attribute_diffs": attribute_diffs(expected_item, item, ignore),
                    }
                )
    for _digest_value, expected_item in held.values():
        diff.missing += 1
        if diff._wants_examples:
            diff._add_example({"kind": "missing", "key": keyer.key_of(expected_item), "attribute_diffs": []})


def compare_streams(
    expected: ItemSource,
    actual: ItemSource,
    key_attributes: Sequence[str],
    ignore_attributes: Iterable[str] = (),
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    *,
    partitions: int = DEFAULT_PARTITIONS,
    drilldown_budget: int = DEFAULT_DRILLDOWN_BUDGET,
    parallel: bool = True,
) -> Diff:
    """Compare two item streams exactly (see the module docstring for the method and its guarantees).

    ``expected`` and ``actual`` are factories: each call must start a fresh stream of the same items (they are
    called once for the digest pass and once more per drill-down group, only if the sides differ).
    ``parallel`` reads both sides of the digest pass in two threads.
    """
    if partitions < 1:
        raise ValueError("partitions must be >= 1")
    keyer = _Keyer(key_attributes, partitions)
    ignore = frozenset(ignore_attributes)
    if parallel:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="drdrill-equivalence") as pool:
            expected_future = pool.submit(_digest_pass, expected, keyer, ignore)
            actual_future = pool.submit(_digest_pass, actual, keyer, ignore)
            expected_digests, actual_digests = expected_future.result(), actual_future.result()
    else:
        expected_digests = _digest_pass(expected, keyer, ignore)
        actual_digests = _digest_pass(actual, keyer, ignore)
    diff = Diff(
        compared_expected=expected_digests.count,
        compared_actual=actual_digests.count,
        max_examples=max_examples,
        partitions=partitions,
        expected_digest=expected_digests.digest,
        actual_digest=actual_digests.digest,
    )
    differing = [
        part
        for part in range(partitions)
        if expected_digests.per_partition_count[part] != actual_digests.per_partition_count[part]
        or expected_digests.per_partition_sum[part] != actual_digests.per_partition_sum[part]
    ]
    diff.differing_partitions = len(differing)
    for group in _groups(differing, expected_digests.per_partition_count, max(1, drilldown_budget)):
        diff.drilldown_passes += 1
        _drill(expected, actual, keyer, ignore, group, diff)
    return diff


def table_key_attributes(target: Target, table_name: str) -> list[str]:
    """The table's key attribute names, hash key first (from DescribeTable)."""
    schema = target.client("dynamodb").describe_table(TableName=table_name)["Table"]["KeySchema"]
    return [k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH")]


def compare_tables(
    target: Target,
    expected_table: str,
    actual_table: str,
    key_attributes: Sequence[str] | None = None,
    ignore_attributes: Iterable[str] = (),
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    **options: Any,
) -> Diff:
    """Compare two tables on ``target`` (key from ``expected_table``'s schema unless given)."""
    from dr_infra.verify.table_reader import read_items

    keys = list(key_attributes) if key_attributes else table_key_attributes(target, expected_table)
    return compare_streams(
        lambda: read_items(target, expected_table),
        lambda: read_items(target, actual_table),
        keys,
        ignore_attributes,
        max_examples,
        **options,
    )


def compare_table_to(
    target: Target,
    actual_table: str,
    expected: ItemSource,
    key_attributes: Sequence[str] | None = None,
    ignore_attributes: Iterable[str] = (),
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    **options: Any,
) -> Diff:
    """Compare a table on ``target`` against an expected item stream (the oracle)."""
    from dr_infra.verify.table_reader import read_items

    keys = list(key_attributes) if key_attributes else table_key_attributes(target, actual_table)
    return compare_streams(
        expected, lambda: read_items(target, actual_table), keys, ignore_attributes, max_examples, **options
    )
