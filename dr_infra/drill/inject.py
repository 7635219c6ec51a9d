"""Writes to the protected table: seeding, and the harmful changes a drill injects.

Every write is recorded in the :class:`~dr_infra.drill.oracle.Oracle` with the client clock around its call.
Batches use BatchWriteItem (25 requests per call, DynamoDB's limit); ``UnprocessedItems`` are retried with
tenacity's exponential backoff, as the DynamoDB docs ask
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from dr_infra.drill.items import Item, key_of
from dr_infra.drill.oracle import Oracle, Write
from dr_infra.drill.waits import ProgressTicker
from dr_infra.errors import ConfigError
from dr_infra.report.journal import utcnow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 25
MAX_ITEMS = 200_000
"""Largest count a step accepts: bigger numbers are almost always a typo (and would take hours on AWS)."""


def check_count(count: int, what: str = "items", minimum: int = 0) -> int:
    """Reject negative, too small or absurd counts with one line that says what is allowed."""
    if count < 0:
        raise ConfigError(f"{count} {what}: a count cannot be negative")
    if count < minimum:
        raise ConfigError(f"{count} {what} changes nothing, so there is nothing to recover: use {minimum} or more")
    if count > MAX_ITEMS:
        raise ConfigError(f"{count} {what} is beyond drdrill's cap of {MAX_ITEMS:,} per step; use a smaller number")
    return count


def harm_count(text: str) -> int:
    """A When step's count: at least one item (a harmful change of nothing proves nothing), at most the cap."""
    return check_count(int(text), minimum=1)


def seed_count(text: str) -> int:
    """A table's seed count: 0 (an empty table) up to the cap."""
    return check_count(int(text))


def _batch_write(client: DynamoDBClient, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem call plus retries of whatever DynamoDB left unprocessed."""
    pending: dict[str, Any] = {table: requests}

    def send() -> dict[str, Any]:
        nonlocal pending
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return pending

    Retrying(
        retry=retry_if_result(bool),
        wait=wait_exponential(multiplier=0.05, max=2),
        stop=stop_after_attempt(12),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(send)
    if pending:
        raise RuntimeError(f"DynamoDB left {sum(len(v) for v in pending.values())} writes unprocessed after retries")


def _in_batches(requests: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    current: list[dict[str, Any]] = []
    for request in requests:
        current.append(request)
        if len(current) == BATCH:
            yield current
            current = []
    if current:
        yield current


def write_batches(
    client: DynamoDBClient,
    table: str,
    requests: Iterable[dict[str, Any]],
    workers: int = 4,
    what: str = "writing",
    clock: Callable[[], float] = time.monotonic,
    total: int | None = None,
) -> int:
    """Send ``requests`` (PutRequest/DeleteRequest dicts) in batches of 25 over a few threads, saying how far
    it got at least every :data:`~dr_infra.drill.waits.PROGRESS_EVERY_S` seconds (``what`` names the work).

    With ``total`` (the number of requests) given, the requests are drawn lazily, at most two batches per worker
    ahead of the writes: a 100 000-item seed never holds its items all at once (they took about 4.5 KB each,
    as much as the embedded target's whole copy). Without it they are counted first, for the progress line."""
    if total is None:
        requests = list(requests)
        total = len(requests)
    ticker = ProgressTicker(what, total, clock)
    count = 0

    def send(batch: list[dict[str, Any]]) -> None:
        _batch_write(client, table, batch)
        ticker.add(len(batch))

    if workers <= 1:
        for batch in _in_batches(requests):
            count += len(batch)
            send(batch)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: set[Future[None]] = set()
            for batch in _in_batches(requests):
                count += len(batch)
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                pending.add(pool.submit(send, batch))
            for future in pending:
                future.result()
    ticker.close()
    return count


def seed(client: DynamoDBClient, table: str, oracle: Oracle, count: int) -> None:
    """Put ``count`` seed items (every DynamoDB type) and record the seeding in the oracle."""
    check_count(count)
    requests = ({"PutRequest": {"Item": oracle.seed(i)}} for i in range(count))
    write_batches(client, table, requests, what=f"seeding {table}", total=count)
    oracle.seed_count = count
    oracle.seeded_at = utcnow()


@dataclass
class Injection:
    """What a harmful change did: its client-clock window and the items it touched."""

    kind: str
    count: int
    started_at: datetime
    finished_at: datetime
    keys: list[Item]


def _record_all(oracle: Oracle, pairs: Sequence[tuple[Item, Item | None]], start: datetime, end: datetime) -> None:
    for before, after in pairs:
        oracle.record(Write(oracle.key(before), after, start, end, harmful=True))


def delete_items(client: DynamoDBClient, table: str, oracle: Oracle, items: Sequence[Item]) -> Injection:
    """Delete ``items`` (a bulk delete when there are many)."""
    check_count(len(items), minimum=1)
    keys = [key_of(i, oracle.key_attributes) for i in items]
    start = utcnow()
    if len(keys) == 1:
        client.delete_item(TableName=table, Key=keys[0])
    else:
        write_batches(client, table, ({"DeleteRequest": {"Key": k}} for k in keys), what=f"deleting from {table}")
    end = utcnow()
    _record_all(oracle, [(i, None) for i in items], start, end)
    return Injection("delete", len(items), start, end, keys)


def modify_items(client: DynamoDBClient, table: str, oracle: Oracle, items: Sequence[Item]) -> Injection:
    """Overwrite ``items`` with tampered versions (MODIFY records)."""
    check_count(len(items), minimum=1)
    generation = len(oracle.writes) + 1
    changed = [oracle.items.modified(i, generation) for i in items]
    start = utcnow()
    if len(changed) == 1:
        client.put_item(TableName=table, Item=changed[0])
    else:
        write_batches(client, table, ({"PutRequest": {"Item": c}} for c in changed), what=f"modifying {table}")
    end = utcnow()
    _record_all(oracle, list(zip(items, changed, strict=True)), start, end)
    return Injection("modify", len(items), start, end, [key_of(i, oracle.key_attributes) for i in items])


def insert_items(client: DynamoDBClient, table: str, oracle: Oracle, count: int) -> Injection:
    """Insert ``count`` new items that were never there (INSERT records)."""
    check_count(count, minimum=1)
    base = oracle.seed_count + 1_000_000 + len(oracle.writes)
    new = [oracle.seed(base + i) for i in range(count)]
    for item in new:
        item["kind"] = {"S": "injected"}
    start = utcnow()
    write_batches(client, table, ({"PutRequest": {"Item": i}} for i in new), what=f"inserting into {table}")
    end = utcnow()
    for item in new:
        oracle.record(Write(oracle.key(item), item, start, end, harmful=True))
    return Injection("insert", count, start, end, [key_of(i, oracle.key_attributes) for i in new])


def put_item(client: DynamoDBClient, table: str, oracle: Oracle, item: Item, canary: bool = False) -> Write:
    """A legitimate (non-harmful) write, recorded in the oracle."""
    start = utcnow()
    client.put_item(TableName=table, Item=item)
    write = Write(oracle.key(item), item, start, utcnow(), canary=canary)
    oracle.record(write)
    return write


def wait_for_quiet_second(
    oracle: Oracle, sleep: Callable[[float], None] = time.sleep, also_after: datetime | None = None
) -> None:
    """Keep the harmful change at least one whole second after the last write that must survive.

    PITR restores have one-second granularity and stream records carry ApproximateCreationDateTime rounded
    down to the second, so a change in the same second as good data could not be separated from it.
    ``also_after`` (the newest recovery point's creation) gets the same second: the change monitor only uses
    points strictly before the change's second, so a point taken in that second would not count.
    """
    last = oracle.last_write_finished()
    if also_after is not None and (last is None or also_after > last):
        last = also_after
    if last is None:
        return
    remaining = 1.05 - (utcnow() - last).total_seconds()
    if remaining > 0:
        sleep(remaining)
