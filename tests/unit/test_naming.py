"""Run ids sort by start time and never repeat; every resource name fits its service's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dr_infra.errors import ConfigError
from dr_infra.stack.names import StackNames, check_logical_table_name, new_run_id, run_started_at


def test_run_ids_sort_by_start_time() -> None:
    start = datetime(2025, 3, 1, 23, 59, 58, tzinfo=UTC)
    ids = [new_run_id(start + timedelta(seconds=s)) for s in (0, 1, 2, 3600, 86400 * 40)]
    assert sorted(ids) == ids


def test_run_ids_are_unique_within_one_second() -> None:
    moment = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    ids = {new_run_id(moment) for _ in range(50)}
    assert len(ids) > 40  # a random suffix: a handful of collisions in 65536 is possible, not 10


def test_run_id_encodes_its_start_time() -> None:
    moment = datetime(2025, 3, 1, 12, 34, 56, tzinfo=UTC)
    assert run_started_at(new_run_id(moment)) == moment
    assert run_started_at("not-a-drdrill-run") is None


@pytest.mark.parametrize("logical", ["a", "orders", "x" * 24, "A.b_c-9"])
def test_names_fit_service_limits(logical: str) -> None:
    run_id = new_run_id(datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC))
    names = StackNames(run_id, 9999, check_logical_table_name(logical))
    for name in (names.backup_role, names.monitor_role, names.monitor_function, names.reprotect_function):
        assert len(name) <= 64, name
    for name in (names.vault, names.plan, names.selection):
        assert len(name) <= 50, name
    for name in (names.table, names.ledger_table, f"{names.table}-restored-{'i' * 20}"):
        assert 3 <= len(name) <= 255, name
    assert names.table.startswith(f"drdrill-{run_id}-")


def test_two_stacks_of_one_run_have_disjoint_names() -> None:
    run_id = new_run_id()
    first, second = StackNames(run_id, 1, "orders"), StackNames(run_id, 2, "orders")
    fields = ("table", "ledger_table", "vault", "plan", "selection", "backup_role", "monitor_function")
    assert not {getattr(first, f) for f in fields} & {getattr(second, f) for f in fields}


def test_tags_mark_the_run() -> None:
    tags = StackNames("20250301t120000-abcd", 1, "orders").tags()
    assert tags == {"drdrill:run-id": "20250301t120000-abcd", "drdrill:managed": "true"}


@pytest.mark.parametrize("bad", ["my orders", "orders!", "", "x" * 25, "ord/ers", "é"])
def test_bad_logical_table_names_are_rejected_in_one_line(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_logical_table_name(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(bad) in message
