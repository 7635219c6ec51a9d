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

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dr_infra.verify.canonical import DYNAMODB_CONTEXT as DYNAMODB_CONTEXT
from dr_infra.verify.canonical import Item as Item
from dr_infra.verify.canonical import ItemFormatError as ItemFormatError
from dr_infra.verify.canonical import canonical as canonical
from dr_infra.verify.canonical import canonical_binary as canonical_binary
from dr_infra.verify.canonical import canonical_number as canonical_number
from dr_infra.verify.canonical import encode_bytes, encode_text, normalize_item, normalize_value
from dr_infra.verify.canonical import to_jsonable as to_jsonable
from dr_infra.verify.item_diff import DEFAULT_MAX_EXAMPLES as DEFAULT_MAX_EXAMPLES
from dr_infra.verify.item_diff import DEFAULT_PARTITIONS as DEFAULT_PARTITIONS
from dr_infra.verify.item_diff import DIGEST_METHOD as DIGEST_METHOD
from dr_infra.verify.item_diff import MAX_ATTRIBUTE_DIFFS as MAX_ATTRIBUTE_DIFFS
from dr_infra.verify.item_diff import Diff as Diff
from dr_infra.verify.item_diff import attribute_diffs as attribute_diffs

if TYPE_CHECKING:
    from dr_infra.targets.base import Target

ItemSource = Callable[[], Iterable[Item]]
"""A re-iterable source: each call starts a fresh stream of the same items."""

DEFAULT_DRILLDOWN_BUDGET = 50_000
_MOD = 1 << 256


class _Keyer:
    """Canonical key text and partition of an item."""

    def __init__(self, key_attributes: Sequence[str], partitions: int) -> None:
        if not key_attributes:
            raise ValueError("key_attributes must name the table's key (hash, and range if any)")
        self.names = tuple(key_attributes)
        self.partitions = partitions

    def key(self, item: Item) -> bytes:
        try:
            return encode_bytes([normalize_value(item[name]) for name in self.names])
        except KeyError as exc:
            raise ItemFormatError(f"item lacks key attribute {exc.args[0]!r}: {str(item)[:200]}") from None

    def partition(self, key: bytes) -> int:
        return zlib.crc32(key) % self.partitions

    def key_of(self, item: Item) -> dict[str, Any]:
        return {name: to_jsonable(item[name]) for name in self.names if name in item}


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
    return hashlib.sha256(encode_bytes(normalize_item(item, ignore))).digest()


def _digest_pass(source: ItemSource, keyer: _Keyer, ignore: frozenset[str]) -> _Digests:
    counts = [0] * keyer.partitions
    sums = [0] * keyer.partitions
    total = 0
    sha256 = hashlib.sha256
    from_bytes = int.from_bytes
    encode = encode_text
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
    """Compare the items of the partitions in ``group`` one by one: extra, changed and missing items."""
    held: dict[bytes, tuple[bytes, Item]] = {}
    for item in expected():
        key = keyer.key(item)
        if keyer.partition(key) in group:
            diff.drilldown_items += 1
            held[key] = (_digest(item, ignore), item)
    for item in actual():
        key = keyer.key(item)
        if keyer.partition(key) in group:
            diff.drilldown_items += 1
            _compare_one(item, held.pop(key, None), keyer, ignore, diff)
    for _digest_value, expected_item in held.values():
        diff.missing += 1
        if diff.wants_examples:
            diff.add_example({"kind": "missing", "key": keyer.key_of(expected_item), "attribute_diffs": []})


def _compare_one(
    item: Item, found: tuple[bytes, Item] | None, keyer: _Keyer, ignore: frozenset[str], diff: Diff
) -> None:
    """One actual item against the expected item of its key (``found``: its digest and the item, or None)."""
    if found is None:
        diff.extra += 1
        if diff.wants_examples:
            diff.add_example({"kind": "extra", "key": keyer.key_of(item), "attribute_diffs": []})
        return
    digest, expected_item = found
    if digest != _digest(item, ignore):
        diff.changed += 1
        if diff.wants_examples:
            diff.add_example(
                {
                    "kind": "changed",
                    "key": keyer.key_of(item),
                    "attribute_diffs": attribute_diffs(expected_item, item, ignore),
                }
            )


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
