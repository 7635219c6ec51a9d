"""moto's registry of DynamoDB tables, iterated whole: a request never sees another request's table mid-iteration.

What AWS does: every API call is answered whole. CreateEventSourceMapping looks its stream up, ListTables and
ListStreams list, while other clients create, restore and delete tables at the same moment
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html: tables are created
asynchronously, many at once; https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).

What moto 5.2.5 does instead: the embedded server serves requests on threads, and moto iterates its
``DynamoDBBackend.tables`` (an ``OrderedDict``) in Python: in ``DynamoDBStreamsBackend.list_streams`` (which
CreateEventSourceMapping calls to find the stream), in ``list_tables`` and elsewhere. A CreateTable or a restore
on another thread meanwhile raised ``RuntimeError: OrderedDict mutated during iteration``, which the embedded
target answered as a ValidationException: two drills sharing one server (``drdrill run -n N``) failed a drill
that AWS would have run.

What is modelled here: each backend's ``tables`` is a :class:`SnapshotTables`, an ``OrderedDict`` whose
iteration (the dict itself, ``keys()``, ``values()``, ``items()``) walks a copy taken in one step (a C-level copy
under the GIL), so a caller sees the tables as they were when it started. Lookups, inserts and deletions are
``OrderedDict``'s own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.DynamoDBBackend.__init__",
    "moto.dynamodbstreams.models.DynamoDBStreamsBackend.list_streams",
)


class SnapshotTables(OrderedDict[str, Any]):
    """An ``OrderedDict`` whose iteration walks a snapshot (see the module docstring)."""

    def __iter__(self) -> Iterator[str]:
        return iter(list(OrderedDict.keys(self)))

    def keys(self) -> Any:
        return list(OrderedDict.keys(self))

    def values(self) -> Any:
        return list(OrderedDict.values(self))

    def items(self) -> Any:
        return list(OrderedDict.items(self))


def _with_snapshot_tables(original: Any) -> Any:
    def init(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.tables = SnapshotTables(self.tables)

    return init


def install() -> None:
    moto_patch.wrap(DynamoDBBackend, "__init__", _with_snapshot_tables, by=__name__)
