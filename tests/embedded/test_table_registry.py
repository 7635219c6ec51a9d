"""Requests that list tables are answered whole while other requests create tables (issue 19's shared server).

AWS answers ListTables and CreateEventSourceMapping (which finds its stream among the tables) while other
clients create and delete tables. moto iterated its OrderedDict of tables in Python, so a CreateTable on another
request thread meanwhile made the other request fail with "OrderedDict mutated during iteration"
(dr_infra/targets/embedded/table_registry.py). A race between threads does not reproduce on demand, so the
test makes the interleaving itself: a table added while a listing walks the tables."""

from __future__ import annotations

from moto.dynamodb.models import DynamoDBBackend

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.table_registry import SnapshotTables


def test_a_table_added_while_tables_are_iterated_does_not_break_the_iteration(embedded: EmbeddedTarget) -> None:
    backend = DynamoDBBackend("us-east-1", "123456789012")
    assert isinstance(backend.tables, SnapshotTables)
    backend.tables["a"] = object()
    walking = iter(backend.tables.values())
    backend.tables["b"] = object()  # another request's CreateTable, mid-iteration
    assert len(list(walking)) == 1  # the tables as they were when the listing started
    assert list(backend.tables) == ["a", "b"] and len(backend.tables.items()) == 2
