"""Ground truth for the Then steps: restores counted from AWS, harmful decisions, the surviving change, caps.

Each test pins behaviour a DR owner relies on and fails if it regresses: a second restore job must be
counted even when the monitor never logged it, the item strategy's own repair write is not the user's
change, a harmful change that survives the restore fails the data-loss and RPO steps, an absurd wait is a
usage error, and a scenario's expected violation stays a violation in the journal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dr_infra.drill import recovery
from dr_infra.drill.incident import Incident
from dr_infra.drill.inject import Injection
from dr_infra.drill.items import key_of
from dr_infra.drill.oracle import Oracle, Write
from dr_infra.drill.policy import Policy
from dr_infra.drill.state import Drill
from dr_infra.errors import EXIT_USAGE, ConfigError
from dr_infra.report.journal import ScenarioRecord
from dr_infra.stack.spec import StackSpec

CHANGE = datetime(2025, 3, 1, 10, 0, 5, 300_000, tzinfo=UTC)
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/drdrill-run-1-orders"


# -- settling the count: stable, never waiting for more ----------------------------------------------------------
def test_settled_restores_stops_once_two_reads_agree_without_waiting_for_more() -> None:
    reads = iter([{"a": {}}, {"a": {}}, {"a": {}, "b": {}}])
    sleeps: list[float] = []
    found = recovery.settled_restores(lambda: next(reads), 0.5, limit=30, sleep=sleeps.append)
    assert set(found) == {"a"}  # a stable count of 1 is the answer, even if the scenario expects 2
    assert sleeps == [0.5]


def test_settled_restores_keeps_reading_while_the_count_moves() -> None:
    reads = iter([{}, {"a": {}}, {"a": {}, "b": {}}, {"a": {}, "b": {}}])
    found = recovery.settled_restores(lambda: next(reads), 0.5, limit=30, sleep=lambda _s: None)
    assert set(found) == {"a", "b"}


def test_settled_restores_gives_up_after_the_limit() -> None:
    counter = iter(range(1000))
    calls: list[int] = []

    def read() -> dict[str, dict[str, Any]]:
        n = next(counter)
        calls.append(n)
        return {str(n): {}}

    found = recovery.settled_restores(read, 1.0, limit=5, sleep=lambda _s: None)
    assert len(calls) == 6 and set(found) == {"5"}


# -- started_restores: what AWS reports, for this table, since the change ----------------------------------------
class _Paginator:
    def __init__(self, pages: list[dict[str, Any]], calls: list[dict[str, Any]]) -> None:
        self.pages, self.calls = pages, calls

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(kwargs)
        return self.pages


class _Client:
    def __init__(self, pages: dict[str, list[dict[str, Any]]], tables: dict[str, dict[str, Any]] | None = None):
        self.pages, self.tables, self.calls = pages, tables or {}, []  # type: ignore[var-annotated]

    def get_paginator(self, name: str) -> _Paginator:
        return _Paginator(self.pages[name], self.calls)

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": self.tables[TableName]}


def _drill(clients: dict[str, Any], capabilities: tuple[str, ...] = ("backup",)) -> Drill:
    target = SimpleNamespace(
        capabilities=set(capabilities), client=lambda service: clients[service], max_poll_interval=0.1
    )
    drill = Drill(
        target=target,  # type: ignore[arg-type]
        run_id="run",
        record=ScenarioRecord(id="s", name="s", feature="f", feature_file="f.feature", guarantee="deletion"),
        policy=Policy(),
        stack_counter=lambda: 1,
    )
    names = SimpleNamespace(prefix="drdrill-run-1", table="drdrill-run-1-orders", ledger_table="drdrill-run-1-ledger")
    drill.stack = SimpleNamespace(names=names, table_arn=TABLE_ARN, spec=StackSpec())  # type: ignore[assignment]
    drill.incident = Incident(change_at=CHANGE)
    return drill


def test_started_restores_counts_jobs_of_this_tables_recovery_points_since_the_change() -> None:
    ours, other = "arn:rp:ours", "arn:rp:other"
    backup = _Client(
        {
            "list_recovery_points_by_resource": [{"RecoveryPoints": [{"RecoveryPointArn": ours}]}],
            "list_restore_jobs": [
                {
                    "RestoreJobs": [
                        {"RestoreJobId": "J1", "RecoveryPointArn": ours, "CreationDate": CHANGE, "Status": "RUNNING"},
                        {"RestoreJobId": "J2", "RecoveryPointArn": ours, "CreationDate": CHANGE + timedelta(seconds=2)},
                        {"RestoreJobId": "OLD", "RecoveryPointArn": ours, "CreationDate": CHANGE - timedelta(hours=1)},
                        {"RestoreJobId": "X", "RecoveryPointArn": other, "CreationDate": CHANGE},
                    ]
                }
            ],
        }
    )
    restored_by_backup = {
        "TableStatus": "ACTIVE",
        "CreationDateTime": CHANGE + timedelta(seconds=3),
        "RestoreSummary": {"SourceBackupArn": ours, "SourceTableArn": TABLE_ARN},
    }
    ddb = _Client(
        {"list_tables": [{"TableNames": ["drdrill-run-1-orders", "drdrill-run-1-orders-restored-x", "someone-else"]}]},
        {"drdrill-run-1-orders-restored-x": restored_by_backup},
    )
    found = recovery.started_restores(_drill({"backup": backup, "dynamodb": ddb}))
    assert set(found) == {"J1", "J2"}  # the backup-restored table is the job's, not a second restore
    assert backup.calls[-1]["ByCreatedAfter"] <= CHANGE


def test_started_restores_counts_point_in_time_restored_tables_of_this_table() -> None:
    def table(source: str, created: datetime) -> dict[str, Any]:
        return {
            "TableStatus": "CREATING",
            "CreationDateTime": created,
            "RestoreSummary": {"SourceTableArn": source, "RestoreDateTime": CHANGE, "RestoreInProgress": True},
        }

    tables = {
        "drdrill-run-1-orders-restored-a": table(TABLE_ARN, CHANGE + timedelta(seconds=1)),
        "drdrill-run-1-orders-restored-b": table(TABLE_ARN, CHANGE + timedelta(seconds=2)),
        "drdrill-run-1-orders-restored-old": table(TABLE_ARN, CHANGE - timedelta(minutes=5)),
        "drdrill-run-1-orders-copy": table("arn:aws:dynamodb:us-east-1:1:table/other", CHANGE),
        "drdrill-run-1-ledger": {"TableStatus": "ACTIVE"},
    }
    ddb = _Client({"list_tables": [{"TableNames": ["drdrill-run-1-orders", *tables]}]}, tables)
    found = recovery.started_restores(_drill({"dynamodb": ddb}, capabilities=()))
    assert set(found) == {"drdrill-run-1-orders-restored-a", "drdrill-run-1-orders-restored-b"}
    assert {v["kind"] for v in found.values()} == {"point-in-time restore"}


# -- decisions about the harmful change only ---------------------------------------------------------------------
def test_harmful_decisions_leave_out_the_item_strategys_own_repair_write() -> None:
    key = {"LockId": {"S": "customer-42"}}
    lines = [
        {"decision": "ignored", "eventName": "INSERT", "keys": key, "reason": "own repair write"},
        {"decision": "ignored", "eventName": "REMOVE", "keys": key, "reason": "TTL deletion"},
        {"decision": "repaired", "eventName": "REMOVE", "keys": key},
        {"decision": "restore_started", "eventName": "INSERT", "keys": {"LockId": {"S": "someone-else"}}},
    ]
    found = recovery.harmful_decisions(lines, [key])
    assert [(line["decision"], line["eventName"]) for line in found] == [("repaired", "REMOVE")]
    assert not any(line["eventName"] == "INSERT" for line in found)


# -- the harmful change itself must be absent --------------------------------------------------------------------
def _oracle_drill(
    monkeypatch: pytest.MonkeyPatch, kind: str, restored: list[dict[str, Any]], oracle: Oracle | None = None
) -> Drill:
    from dr_infra.drill import rpo

    drill = _drill({})
    oracle = oracle or Oracle(hash_key="LockId")
    oracle.seed_count, oracle.seeded_at = 3, CHANGE - timedelta(minutes=1)
    drill.oracle = oracle
    drill.stack.names.table = "drdrill-run-1-orders"  # type: ignore[union-attr]
    end = CHANGE + timedelta(milliseconds=50)
    if kind == "insert":
        new = oracle.seed(1_000_001)
        oracle.record(Write(oracle.key(new), new, CHANGE, end, harmful=True))
        keys = [key_of(new, oracle.key_attributes)]
    else:
        gone = oracle.seed(1)
        oracle.record(Write(oracle.key(gone), None, CHANGE, end, harmful=True))
        keys = [key_of(gone, oracle.key_attributes)]
    drill.incident.injection = Injection(kind, 1, CHANGE, end, keys)
    drill.strategy = "pitr"
    drill.incident.restored_table = "drdrill-run-1-orders-restored-x"
    monkeypatch.setattr(rpo, "read_items", lambda target, table: iter(restored))
    return drill


def test_inserted_items_still_in_the_restored_table_are_a_surviving_change(monkeypatch: pytest.MonkeyPatch) -> None:
    from dr_infra.drill import rpo

    oracle = Oracle(hash_key="LockId")
    seeded = [oracle.seed(i) for i in range(3)]
    drill = _oracle_drill(monkeypatch, "insert", [*seeded, oracle.seed(1_000_001)])
    survived = rpo.surviving_change(drill, "drdrill-run-1-orders-restored-x")
    assert len(survived) == 1 and "inserted, present" in survived[0]
    with pytest.raises(AssertionError, match="harmful change survived"):
        rpo.measure_rpo(drill)
    assert drill.record.rpo.met is False


def test_a_restore_without_the_inserted_items_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    from dr_infra.drill import rpo

    oracle = Oracle(hash_key="LockId")
    drill = _oracle_drill(monkeypatch, "insert", [oracle.seed(i) for i in range(3)])
    assert rpo.surviving_change(drill, "t") == []
    assert drill.record.evidence["harmful_change"]["survived"] == 0


def test_deleted_items_still_missing_are_a_surviving_change(monkeypatch: pytest.MonkeyPatch) -> None:
    from dr_infra.drill import rpo

    oracle = Oracle(hash_key="LockId")
    drill = _oracle_drill(monkeypatch, "delete", [oracle.seed(0), oracle.seed(2)])
    survived = rpo.surviving_change(drill, "t")
    assert len(survived) == 1 and "deleted, still missing" in survived[0]


def _binary_oracle() -> Oracle:
    from dr_infra.drill.items import ItemMaker

    return Oracle.for_maker(ItemMaker(hash_key=("digest", "B"), range_key=("part", "B")))


def _wire(value: Any) -> Any:
    """An item as a table read yields it: binary as the wire JSON's base64 text (drdrill's items carry bytes)."""
    import base64

    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def test_binary_keys_read_back_as_base64_are_the_keys_the_drill_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table read gives binary keys as base64 text, the drill's items hold bytes: a deleted item the restore
    brought back is found (no false 'still missing'), an inserted item the restore kept is caught."""
    from dr_infra.drill import rpo

    maker = _binary_oracle()
    restored = [_wire(maker.seed(i)) for i in range(3)]
    assert rpo.surviving_change(_oracle_drill(monkeypatch, "delete", restored, _binary_oracle()), "t") == []
    kept = _oracle_drill(monkeypatch, "insert", [*restored, _wire(maker.seed(1_000_001))], _binary_oracle())
    survived = rpo.surviving_change(kept, "t")
    assert len(survived) == 1 and "inserted, present" in survived[0], survived
    missing = _oracle_drill(monkeypatch, "delete", [restored[0], restored[2]], _binary_oracle())
    assert [s.endswith("(deleted, still missing)") for s in rpo.surviving_change(missing, "t")] == [True]


def test_a_binary_key_is_one_key_as_bytes_or_base64() -> None:
    oracle = _binary_oracle()
    item = oracle.seed(4)
    assert oracle.key(item) == oracle.key(_wire(item))
    assert oracle.key(item) != oracle.key(_wire(oracle.seed(5)))


# -- expected violations stay violations -------------------------------------------------------------------------
def test_an_expected_rto_violation_keeps_its_note_when_measures_are_finished() -> None:
    drill = _drill({})
    inc = drill.incident
    inc.monitor_invoked_at = CHANGE + timedelta(seconds=0.2)
    inc.restore_started_at = CHANGE + timedelta(seconds=0.3)
    inc.restore_completed_at = inc.table_active_at = CHANGE + timedelta(seconds=3.5)
    inc.change_stream_at = CHANGE.replace(microsecond=0)
    drill.rto_target, drill.rpo_target = 2.0, 60.0
    note = "the phase that ran long: restore started -> restore completed (3.200 s)"
    drill.violate("rto", note, expected=True)
    drill.finish_measures()
    drill.finish_measures()  # the plugin finishes again at teardown
    assert drill.record.rto.met is False and drill.record.rto.note == note
    assert drill.record.evidence["expected_violation"] == [{"measure": "rto", "note": note}]
    first = drill.record.rto.phases[0]
    assert first.name == "harmful write -> monitor invoked"
    assert first.stream_record_at == "2025-03-01T10:00:05.000+00:00"


def test_an_expected_violation_is_shown_as_detected_and_the_run_stays_met() -> None:
    from dataclasses import asdict

    from dr_infra.report.journal import Journal
    from dr_infra.report.model import build

    drill = _drill({})
    drill.violate("rto", "restore job J ended FAILED: disk on fire", expected=True)
    journal = Journal(run_id="run", scenarios=[drill.record])
    journal.finish()
    assert journal.status == "met"
    view = build(journal.to_dict())
    (scenario,) = view.scenarios
    assert scenario.verdict == "Violation detected (expected)" and scenario.rto.verdict == "over target"
    assert "1 scenario injected a fault on purpose" in view.explanation
    assert asdict(drill.record)["rto"]["note"] == "restore job J ended FAILED: disk on fire"


# -- caps --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["86401", "10000000000"])
def test_an_absurd_time_limit_is_a_usage_error(value: str) -> None:
    from steps.then import _seconds

    with pytest.raises(ConfigError, match="cap of 86,400 seconds") as info:
        _seconds(value)
    assert info.value.exit_code == EXIT_USAGE


def test_a_day_is_still_a_valid_time_limit() -> None:
    from steps.then import _seconds

    assert _seconds("86400") == 86_400.0
