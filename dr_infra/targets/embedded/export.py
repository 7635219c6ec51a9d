"""Fast whole-table read: ``GET /_drdrill/tables/<name>/items`` streams a table's items as JSON lines.

What AWS does: a full-table read is a Scan, paginated at 1 MB per page, optionally split into parallel
segments (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan);
very large tables are exported with ExportTableToPointInTime
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.HowItWorks.html).
What is modelled: the same items a consistent Scan would return, streamed in one response, because
moto's paginated Scan re-walks the whole table for every page.

Why: moto 5.2.5's ``Scan`` sorts every item of the table and walks from the start to ``ExclusiveStartKey``
for each page, then deep-copies the page, so a paginated full scan is about O(N^2 / page size): 100 k items
take about 60 s (25 s with 1 MB pages). Equivalence checks and restore snapshots read whole tables, so they
get this route instead. It is HTTP, not an in-process call, so every client of ``drdrill serve`` can use it;
targets advertise it with the ``fast_export`` capability and :mod:`dr_infra.verify.table_reader` picks it from
that.

How: packed tables (:mod:`item_store`, every table the embedded target makes) are snapshotted as their packed
items, unpacked to DynamoDB JSON (about 10 microseconds an item, no moto objects built) and serialised lazily.
Otherwise the table's current ``Item`` objects are snapshotted by reference from moto's backend structures
(``Table.items``: hash key -> item, or hash key -> range key -> item), each ``list(dict.values())`` atomic
under the GIL, so the snapshot takes milliseconds even for 100 k items and never sorts. The response then
streams, serialising items lazily in chunks of about 64 KB (chunked transfer encoding; no Content-Length).
Items written after the snapshot are not included; an item updated in place while the stream runs may show
the update (a DynamoDB Scan gives no stronger guarantee).

Format: ``application/x-ndjson``. The first line is a header
``{"table": name, "region": ..., "account": ..., "item_count": N}``; then exactly N lines, one item each in
DynamoDB wire JSON (binary as base64 text). Readers check the count, so a truncated stream is an error.

Query parameters: ``region`` (default ``us-east-1``) and ``account`` (default moto's default account), which
select moto's backend. An unknown table is ``404 {"error": ...}``.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from dr_infra.targets.embedded import item_store

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.models.DEFAULT_ACCOUNT_ID",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.Table",
    "moto.dynamodb.models.dynamo_type.Item",
    "moto.dynamodb.models.dynamo_type.DynamoType",
)
"""moto internals this route reads (``Table.items``, ``Item.attrs``, ``DynamoType.type``/``.value``)."""

ROUTE_PREFIX = "tables/"
ROUTE_SUFFIX = "/items"
DEFAULT_REGION = "us-east-1"
CHUNK_BYTES = 64 * 1024


def matches(path: str, method: str) -> bool:
    """True for ``GET tables/<name>/items`` (``path`` relative to ``/_drdrill/``)."""
    return method == "GET" and path.startswith(ROUTE_PREFIX) and path.endswith(ROUTE_SUFFIX)


def find_table(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT_ID) -> Table | None:
    """moto's table ``name`` in ``account``/``region``, or ``None``."""
    try:
        backend = dynamodb_backends[account][region]
    except KeyError:
        return None
    table = backend.tables.get(name)
    return table if isinstance(table, Table) else None


def snapshot(table: Table) -> list[Item]:
    """References to every current item of ``table`` (unsorted; no copies)."""
    buckets = list(table.items.values())
    if table.range_key_attr is None:
        return buckets  # type: ignore[return-value]
    items: list[Item] = []
    for bucket in buckets:
        items.extend(list(bucket.values()))
    return items


def wire_value(value: DynamoType) -> dict[str, Any]:
    """One moto attribute value in DynamoDB wire JSON."""
    kind, inner = value.type, value.value
    if kind == "M":
        return {"M": {k: wire_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [wire_value(v) if isinstance(v, DynamoType) else v for v in inner]}
    if kind == "B" and isinstance(inner, bytes | bytearray):
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for v in inner]}
    if kind in ("SS", "NS"):
        return {kind: list(inner)}
    return {kind: inner}


def wire_item(item: Item) -> dict[str, Any]:
    """One moto item in DynamoDB wire JSON (retried if a concurrent update resizes it mid-read)."""
    for _attempt in range(10):
        try:
            return {name: wire_value(value) for name, value in list(item.attrs.items())}
        except RuntimeError:  # dict changed size during iteration: an in-place update raced us
            continue
    return {name: wire_value(value) for name, value in list(item.attrs.items())}


def _base64(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__}")


def stream(table_name: str, region: str, account: str, items: list[Item] | list[bytes]) -> Iterator[bytes]:
    """The response body: header line, then one item per line, in chunks of about ``CHUNK_BYTES``.

    ``items``: moto Items, or packed items (:func:`item_store.packed_items`), unpacked one at a time."""
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    packed = json.JSONEncoder(separators=(",", ":"), default=_base64).encode
    header = {"table": table_name, "region": region, "account": account, "item_count": len(items)}
    parts: list[str] = [dumps(header), "\n"]
    size = 0
    for item in items:
        line = packed(item_store.unpack(item)) if isinstance(item, bytes) else dumps(wire_item(item))
        parts.append(line)
        parts.append("\n")
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode("ascii")
            parts, size = [], 0
    if parts:
        yield "".join(parts).encode("ascii")


def handle(environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterator[bytes]:
    """Serve ``GET /_drdrill/tables/<name>/items`` (``path`` relative to ``/_drdrill/``)."""
    name = urllib.parse.unquote(path[len(ROUTE_PREFIX) : -len(ROUTE_SUFFIX)])
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    region = (query.get("region") or [DEFAULT_REGION])[0]
    account = (query.get("account") or [DEFAULT_ACCOUNT_ID])[0]
    table = find_table(name, region, account)
    if table is None:
        body = json.dumps({"error": f"table {name!r} not found in account {account} region {region}"}).encode()
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return iter([body])
    blobs = item_store.packed_items(table)
    items: list[Item] | list[bytes] = snapshot(table) if blobs is None else blobs
    start_response("200 OK", [("Content-Type", "application/x-ndjson")])
    return stream(name, region, account, items)


def install() -> None:
    """Nothing to patch: the route is dispatched by :mod:`dr_infra.targets.embedded.control`."""
