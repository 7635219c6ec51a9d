"""How a table's stream holds its records: packed to bytes, and trimmed once they are 24 hours old.

What AWS does (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html): "All data in
DynamoDB Streams is subject to a 24-hour lifetime"; older records are removed (trimmed) from the stream. A read
past the oldest record is refused with ``TrimmedDataAccessException`` ("The operation attempted to read past the
oldest stream record in a shard"): GetShardIterator with a sequence number older than the trim point, or
GetRecords with an iterator whose next record was trimmed since it was handed out
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html). A
``TRIM_HORIZON`` iterator starts at the oldest record still there. A Lambda event source mapping whose position
was trimmed continues from the trim horizon: the trimmed records are lost to it
(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html).

What moto 5.2.5 does instead: keeps every record forever, each as a dict holding two item images (about 5 KB for
a 0.5 KB item), and has no trim.

What is modelled here:

* :class:`PackedRecord` keeps a record as its pickle (about 0.75 KB for that item) plus its sequence number and
  creation time; ``to_json()`` (what moto's GetRecords and drdrill's pollers read) unpacks a fresh copy.
* :class:`RecordLog` replaces ``StreamShard.items``. Its indices are positions in the shard since it began
  (``len()`` counts trimmed records too, so sequence numbers and pollers' positions never shift); the records
  before :attr:`RecordLog.horizon` are gone. Reading a trimmed position raises
  :class:`TrimmedDataAccessException` (AWS's code and message); iterating yields the live records only.
* A record is trimmed once it is older than :data:`RETENTION_SECONDS`: by the wall clock, plus what
  :meth:`RecordLog.age` added to the records already written. The embedded target's plan clock
  (:mod:`backup_schedule`) ages the streams of the tables a plan covers when a drill moves it forward, so a drill
  that skips 36 hours of backup runs also finds the records of before the skip trimmed, as on AWS. Trimming
  happens on every read, and on writes at most once a second.
"""

from __future__ import annotations

import bisect
import pickle
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, overload

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodbstreams.models import ShardIterator

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.exceptions.JsonRESTError",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.StreamRecord",
    "moto.dynamodb.models.table.StreamShard.__init__",
    "moto.dynamodb.models.table.StreamShard.get",
    "moto.dynamodbstreams.models.ShardIterator.__init__",
)

RETENTION_SECONDS = 24 * 3600
"""DynamoDB Streams keeps records for 24 hours."""

TRIM_EVERY_S = 1.0
"""On writes, look for records to trim at most this often (reads always trim first)."""


class TrimmedDataAccessException(JsonRESTError):
    """AWS's error for a read past the oldest record of a shard."""

    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException",
            "The operation attempted to read past the oldest stream record in a shard.",
        )


class PackedRecord:
    """One stream record, pickled: what moto's ``StreamRecord`` holds, at about a seventh of the memory."""

    __slots__ = ("blob", "created", "sequence")

    def __init__(self, record: dict[str, Any], created: float) -> None:
        self.blob = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        self.sequence = int(record["dynamodb"]["SequenceNumber"])
        self.created = created
        """Epoch seconds of ``ApproximateCreationDateTime``."""

    @property
    def record(self) -> dict[str, Any]:
        """A fresh copy of the record (changing it changes nothing stored)."""
        unpacked: dict[str, Any] = pickle.loads(self.blob)  # noqa: S301 - bytes this process pickled itself
        return unpacked

    def to_json(self) -> dict[str, Any]:
        return self.record

    def __deepcopy__(self, memo: dict[int, Any]) -> PackedRecord:
        return self  # immutable: moto's deep copy of a table (TransactWriteItems' rollback) may share it


class RecordLog:
    """A shard's records by position since the shard began; positions before :attr:`horizon` were trimmed."""

    def __init__(self) -> None:
        self._records: list[PackedRecord] = []
        self._created: list[float] = []
        self._trimmed = 0
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def horizon(self) -> int:
        """Position of the oldest record still in the stream (the count of records trimmed)."""
        self.trim()
        return self._trimmed

    def age(self, seconds: float) -> None:
        """Make every record written so far ``seconds`` older (the table's world moved forward by as much);
        later records are as old as the wall clock says."""
        with self._lock:
            self._created = [created - seconds for created in self._created]
        self.trim()

    def trim(self, now: float | None = None) -> int:
        """Drop the records older than :data:`RETENTION_SECONDS`; returns how many were dropped."""
        now = time.time() if now is None else now
        cutoff = now - RETENTION_SECONDS
        with self._lock:
            self._checked = now
            if not self._created or self._created[0] >= cutoff:
                return 0
            count = bisect.bisect_left(self._created, cutoff)
            del self._records[:count]
            del self._created[:count]
            self._trimmed += count
            return count

    def append(self, record: PackedRecord) -> None:
        with self._lock:
            self._records.append(record)
            # creation times are kept sorted for the trim; moto's clock may repeat a value, never go back much
            self._created.append(max(record.created, self._created[-1]) if self._created else record.created)
            due = record.created - self._checked >= TRIM_EVERY_S
        if due:
            self.trim()

    def __deepcopy__(self, memo: dict[int, Any]) -> RecordLog:
        """An independent log sharing the (immutable) records: moto deep-copies every table before a
        TransactWriteItems and puts the copies back if it is cancelled."""
        copied = RecordLog()
        with self._lock:
            copied._records = list(self._records)
            copied._created = list(self._created)
            copied._trimmed, copied._checked = self._trimmed, self._checked
        return copied

    def __len__(self) -> int:
        return self._trimmed + len(self._records)

    def __iter__(self) -> Iterator[PackedRecord]:
        self.trim()
        with self._lock:
            return iter(list(self._records))

    @overload
    def __getitem__(self, index: int) -> PackedRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[PackedRecord]: ...

    def __getitem__(self, index: int | slice) -> PackedRecord | list[PackedRecord]:
        """A record or a run of records by position; a trimmed position raises TrimmedDataAccessException."""
        self.trim()
        with self._lock:
            total = self._trimmed + len(self._records)
            if isinstance(index, slice):
                start, stop, step = index.indices(total)
                if step != 1:
                    raise ValueError("stream records are read in order")
                if start < self._trimmed and stop > start:
                    raise TrimmedDataAccessException()
                return self._records[start - self._trimmed : max(start, stop) - self._trimmed]
            position = index + total if index < 0 else index
            if position >= total:
                raise IndexError("stream position out of range")
            if position < self._trimmed:
                raise TrimmedDataAccessException()
            return self._records[position - self._trimmed]


def pack(record: StreamRecord, created: float) -> PackedRecord:
    """The packed form of a record moto built (and :mod:`stream_records` corrected)."""
    return PackedRecord(record.record, created)


def horizon(items: Any) -> int:
    """The trim horizon of a shard's ``items`` (0 for a plain list)."""
    return int(getattr(items, "horizon", 0))


def age_streams(account: str, region: str, table_arns: Iterable[str], seconds: float, done: set[str]) -> None:
    """Age the records so far of the streams of the tables ``table_arns`` names by ``seconds`` (a plan clock moved
    forward). ``done``: ARNs already aged by this advance (a table two plans select ages once), updated."""
    tables = dynamodb_backends[account][region].tables
    for arn in table_arns:
        if arn in done:
            continue
        done.add(arn)
        table = tables.get(arn.rsplit(":table/", 1)[-1])
        items = getattr(getattr(table, "stream_shard", None), "items", None)
        if isinstance(items, RecordLog):
            items.age(seconds)


def _wrap_shard_init(original: Any) -> Any:
    def __init__(self: StreamShard, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.items = RecordLog()  # type: ignore[assignment]

    return __init__


def _wrap_iterator_init(original: Any) -> Any:
    def __init__(
        self: ShardIterator,
        streams_backend: Any,
        stream_shard: StreamShard,
        shard_iterator_type: str,
        sequence_number: int | None = None,
    ) -> None:
        original(self, streams_backend, stream_shard, shard_iterator_type, sequence_number)
        oldest = stream_shard.starting_sequence_number + horizon(stream_shard.items)
        if shard_iterator_type == "TRIM_HORIZON":
            self.sequence_number = oldest
        elif shard_iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and self.sequence_number < oldest:
            raise TrimmedDataAccessException()

    return __init__


def install() -> None:
    """Give every new stream shard a :class:`RecordLog`; make iterators honour the trim horizon."""
    moto_patch.wrap(StreamShard, "__init__", _wrap_shard_init, by=__name__)
    moto_patch.wrap(ShardIterator, "__init__", _wrap_iterator_init, by=__name__)
