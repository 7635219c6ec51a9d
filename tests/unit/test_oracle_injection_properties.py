"""Property: for any seed count, any sequence of harmful changes and any counts, the oracle's expected state
and what the injection really wrote to the table agree exactly (hypothesis)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dr_infra.drill import inject
from dr_infra.drill.items import item_key
from dr_infra.drill.oracle import Oracle
from dr_infra.errors import ConfigError


class FakeTable:
    """The three write calls the injection makes, applied to a dict (what DynamoDB would hold)."""

    def __init__(self, key_attributes: tuple[str, ...]) -> None:
        self.key_attributes = key_attributes
        self.items: dict[Any, dict[str, Any]] = {}

    def _key(self, item: dict[str, Any]) -> Any:
        return item_key(item, self.key_attributes)

    def put_item(self, TableName: str, Item: dict[str, Any]) -> dict[str, Any]:
        self.items[self._key(Item)] = Item
        return {}

    def delete_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:
        self.items.pop(self._key(Key), None)
        return {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        for requests in RequestItems.values():
            for request in requests:
                if "PutRequest" in request:
                    self.put_item("t", request["PutRequest"]["Item"])
                else:
                    self.delete_item("t", request["DeleteRequest"]["Key"])
        return {"UnprocessedItems": {}}


def _state(oracle: Oracle, moment: Any = None) -> dict[Any, dict[str, Any]]:
    return {oracle.key(i): i for i in oracle.state_at(moment)()}


changes = st.lists(st.tuples(st.sampled_from(["delete", "modify", "insert"]), st.integers(1, 30)), max_size=4)


@settings(max_examples=60, deadline=None)
@given(seeded=st.integers(0, 80), key_type=st.sampled_from(["S", "N"]), plan=changes)
def test_expected_state_and_injected_changes_agree(seeded: int, key_type: str, plan: list[tuple[str, int]]) -> None:
    oracle = Oracle(hash_key="LockId", key_type=key_type)
    table = FakeTable(oracle.key_attributes)
    inject.seed(table, "t", oracle, seeded)
    assert table.items == _state(oracle)
    for kind, count in plan:
        before = dict(table.items)
        if kind == "insert":
            injection = inject.insert_items(table, "t", oracle, count)
        else:
            live = oracle.live_keys(limit=count)
            if len(live) < count:
                continue  # the step refuses this (ConfigError "the table holds only ..."), tested elsewhere
            harm = inject.delete_items if kind == "delete" else inject.modify_items
            injection = harm(table, "t", oracle, live)
        changed = {item_key(k, oracle.key_attributes) for k in injection.keys}
        assert injection.count == count == len(changed)
        # the oracle's state just before the change is what the table held before it
        assert _state(oracle, injection.started_at - timedelta(microseconds=1)) == before
        assert {k: v for k, v in _state(oracle).items() if k not in changed} == {
            k: v for k, v in before.items() if k not in changed
        }
        # and after it, exactly what the table holds now
        assert table.items == _state(oracle)
        if kind == "delete":
            assert changed <= set(before) and not changed & set(table.items)
        elif kind == "insert":
            assert not changed & set(before) and changed <= set(table.items)
        else:
            assert all(table.items[k] != before[k] for k in changed)


@settings(max_examples=20, deadline=None)
@given(seeded=st.integers(0, 20), kind=st.sampled_from(["delete", "modify", "insert"]))
def test_a_harmful_change_of_nothing_is_refused_and_writes_nothing(seeded: int, kind: str) -> None:
    oracle = Oracle(hash_key="LockId")
    table = FakeTable(oracle.key_attributes)
    inject.seed(table, "t", oracle, seeded)
    before = dict(table.items)
    with pytest.raises(ConfigError, match="changes nothing"):
        if kind == "insert":
            inject.insert_items(table, "t", oracle, 0)
        else:
            harm = inject.delete_items if kind == "delete" else inject.modify_items
            harm(table, "t", oracle, oracle.live_keys(limit=0))
    assert table.items == before and oracle.live_keys(limit=0) == []
    with pytest.raises(ConfigError, match="changes nothing"):
        inject.harm_count("0")
