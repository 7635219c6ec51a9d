"""Read a whole table as a stream of items in DynamoDB wire JSON, by the fastest path the target offers.

:func:`read_items` yields ``{"pk": {"S": "a"}, "data": {"B": "<base64>"}, ...}`` one item at a time (binary as
base64 text, exactly as on the wire, so items are JSON-ready and look the same whichever path produced them).
It never holds the table in memory. The path is chosen from the target's capabilities, never its class:

* ``fast_export`` (the embedded target, or a ``drdrill serve`` endpoint reached through any target): one HTTP
  request to ``GET /_drdrill/tables/<name>/items?region=..&account=..``, which streams JSON lines straight
  from moto's backend (:mod:`dr_infra.targets.embedded.export`). moto's paginated Scan re-sorts and re-walks
  the whole table for every page (about 60 s for 100 k items); this path reads 100 k items in seconds. The
  first line is a header with the item count, so a truncated stream is detected.
* otherwise (AWS, LocalStack): ``Scan`` with ``ConsistentRead``. Tables over about 1 GB are read as a parallel
  scan, ``TotalSegments`` sized from DescribeTable's ``TableSizeBytes`` (about one segment per GB, at least 1,
  at most 16, as AWS recommends:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan), one thread
  per segment, pages handed over through a bounded queue (memory: at most a few 1 MB pages in flight).
  botocore's standard retry mode absorbs throttling.

Very large tables on AWS (design, not implemented): a parallel Scan of a multi-terabyte table is slow and
consumes read capacity. The scalable path is ``ExportTableToPointInTime`` (needs PITR, consumes no read
capacity, a consistent snapshot at one instant) to S3 in ``DYNAMODB_JSON`` format, for the source at the
recovery point and for the restored table; both exports are gzip'd JSON-lines files (``{"Item": {...}}``)
listed in ``manifest-files.json``, so each side becomes an item stream over S3 ``GetObject`` calls and
:func:`dr_infra.verify.equivalence.compare_streams` compares them unchanged (its partitioned digests and drill-down
only need re-iterable streams). Not implemented here, and not modelled by the embedded target yet: moto
5.2.5's ``ExportTableToPointInTime`` does write one gzip'd DYNAMODB_JSON data file, but of the table's
*current* items (``ExportTime`` is ignored), with no manifest files, under a path that does not carry the
export id. A faithful model needs a gap-filler that exports the PITR history
(:mod:`dr_infra.targets.embedded.history`) at ``ExportTime`` in AWS's layout; until then an export reader
could only be tested against a fake of itself.
"""

from __future__ import annotations

import base64
import json
import math
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dr_infra.targets import control_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from dr_infra.targets.base import Target

FAST_EXPORT = "fast_export"
"""Capability: the endpoint serves ``GET /_drdrill/tables/<name>/items``."""

SEGMENT_BYTES = 1 << 30
MAX_SEGMENTS = 16
_READ_BLOCK = 1 << 20
_QUEUE_PAGES_PER_SEGMENT = 2


class TableReadError(RuntimeError):
    """The table could not be read (unknown table, truncated stream)."""


def read_items(
    target: Target, table_name: str, *, segments: int | None = None, consistent: bool = True
) -> Iterator[dict[str, Any]]:
    """Every item of ``table_name`` on ``target``, streamed, in DynamoDB wire JSON (see the module docstring).

    ``segments`` forces the parallel-scan segment count on the Scan path (ignored on the fast path);
    ``consistent`` asks for strongly consistent reads (the fast path is always consistent).
    """
    if FAST_EXPORT in target.capabilities and target.endpoint_url:
        return _read_export(target, table_name)
    return scan_items(target, table_name, segments=segments, consistent=consistent)


def export_url(target: Target, table_name: str) -> str:
    """The fast-export route for ``table_name`` on ``target``."""
    assert target.endpoint_url is not None
    query = urllib.parse.urlencode({"region": target.region, "account": target.account_id})
    name = urllib.parse.quote(table_name, safe="")
    return f"{target.endpoint_url.rstrip('/')}/_drdrill/tables/{name}/items?{query}"


def _read_export(target: Target, table_name: str) -> Iterator[dict[str, Any]]:
    url = export_url(target, table_name)
    request = urllib.request.Request(url)  # noqa: S310 - the target's own endpoint
    token = getattr(getattr(target, "control", None), "token", None) or control_token.read_token(url)
    if token:
        request.add_header(control_token.HEADER, token)
    try:
        response = urllib.request.urlopen(request, timeout=60)  # noqa: S310 - the target's own endpoint
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
        except (ValueError, AttributeError):
            body = {}
        if isinstance(body, dict) and body.get("code") == control_token.EXPORT_DENIED:
            # IAM enforcement is on: read with Scan, which IAM authorizes like any request
            return scan_items(target, table_name, segments=None, consistent=True)
        message = body.get("error", str(exc)) if isinstance(body, dict) else str(exc)
        raise TableReadError(f"cannot read table {table_name!r}: {message}") from None
    return _parse_export(response, table_name)


def _parse_export(response: Any, table_name: str) -> Iterator[dict[str, Any]]:
    loads = json.loads
    expected: int | None = None
    seen = 0
    rest = b""
    with response:
        while True:
            block = response.read(_READ_BLOCK)
            if not block:
                break
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if not line:
                    continue
                if expected is None:
                    expected = int(loads(line)["item_count"])
                    continue
                seen += 1
                yield loads(line)
    if rest.strip():
        raise TableReadError(f"export of {table_name!r} ended in the middle of a line")
    if expected is None or seen != expected:
        raise TableReadError(f"export of {table_name!r} was truncated: {seen} of {expected} items")


# --- Scan path --------------------------------------------------------------------------------------------


def segment_count(table_size_bytes: int) -> int:
    """Parallel-scan segments for a table of this size: about one per GB, 1..16."""
    return max(1, min(MAX_SEGMENTS, math.ceil(table_size_bytes / SEGMENT_BYTES)))


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    """boto3's low-level item (binary as ``bytes``) back to wire JSON (binary as base64 text)."""
    return {name: _wire_value(av) for name, av in item.items()}


def _wire_value(av: dict[str, Any]) -> dict[str, Any]:
    for kind, value in av.items():
        if kind == "B":
            return {"B": base64.b64encode(value).decode("ascii")}
        if kind == "BS":
            return {"BS": [base64.b64encode(v).decode("ascii") for v in value]}
        if kind == "M":
            return {"M": {k: _wire_value(v) for k, v in value.items()}}
        if kind == "L":
            return {"L": [_wire_value(v) for v in value]}
    return av


def scan_items(
    target: Target, table_name: str, *, segments: int | None = None, consistent: bool = True
) -> Iterator[dict[str, Any]]:
    """The table through the public Scan API (parallel when ``segments`` > 1, sized to the table if None)."""
    client = target.client("dynamodb")
    if segments is None:
        size = int(client.describe_table(TableName=table_name)["Table"].get("TableSizeBytes") or 0)
        segments = segment_count(size)
    if segments <= 1:
        return _scan_segment_items(client, table_name, None, consistent)
    return _parallel_scan(client, table_name, segments, consistent)


def _scan_pages(
    client: DynamoDBClient, table_name: str, segment: tuple[int, int] | None, consistent: bool
) -> Iterator[list[dict[str, Any]]]:
    kwargs: dict[str, Any] = {"TableName": table_name, "ConsistentRead": consistent}
    if segment is not None:
        kwargs["Segment"], kwargs["TotalSegments"] = segment
    while True:
        page = client.scan(**kwargs)
        yield page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def _scan_segment_items(
    client: DynamoDBClient, table_name: str, segment: tuple[int, int] | None, consistent: bool
) -> Iterator[dict[str, Any]]:
    for page in _scan_pages(client, table_name, segment, consistent):
        for item in page:
            yield _wire(item)


_DONE = object()


def _parallel_scan(
    client: DynamoDBClient, table_name: str, segments: int, consistent: bool
) -> Iterator[dict[str, Any]]:
    """Scan ``segments`` segments at once (one thread each), yielding their items as their pages arrive."""
    scan = _SegmentPages(client, table_name, segments, consistent)
    threads = [
        threading.Thread(target=scan.read_segment, args=(i,), name=f"drdrill-scan-{table_name}-{i}", daemon=True)
        for i in range(segments)
    ]
    for thread in threads:
        thread.start()
    try:
        running = segments
        while running:
            value = scan.pages.get()
            if value is _DONE:
                running -= 1
            elif isinstance(value, BaseException):
                raise TableReadError(f"parallel scan of {table_name!r} failed: {value}") from value
            else:
                for item in value:
                    yield _wire(item)
    finally:
        scan.stop.set()
        for thread in threads:
            thread.join(timeout=5)


class _SegmentPages:
    """The bounded queue the segment threads hand their pages to (then ``_DONE``, or the exception that
    stopped them); ``stop`` tells them the consumer has gone."""

    def __init__(self, client: DynamoDBClient, table_name: str, segments: int, consistent: bool) -> None:
        self.client, self.table_name, self.segments, self.consistent = client, table_name, segments, consistent
        self.pages: queue.Queue[Any] = queue.Queue(maxsize=segments * _QUEUE_PAGES_PER_SEGMENT)
        self.stop = threading.Event()

    def put(self, value: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.pages.put(value, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read_segment(self, index: int) -> None:
        try:
            for page in _scan_pages(self.client, self.table_name, (index, self.segments), self.consistent):
                if not self.put(page):
                    return
            self.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self.put(exc)
