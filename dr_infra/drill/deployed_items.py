"""Drilling a deployed stack in place: its posture first, then drdrill's own items under a reserved key prefix.

Nothing is provisioned and nothing of the user's is written: the stack's parts are read from the account
(:mod:`dr_infra.stack.deployed_discovery`), their posture is checked against the DR policy before the first write
(:mod:`dr_infra.verify.deployed_posture`; a failed check fails the step with the reason, so the scenario is
violated), and the drill's items all have hash keys starting with the definition's ``drill_key_prefix`` plus the
run id, so harm, equivalence and clean-up can tell them from the user's by their key alone. The deployed monitor is
already attached to the table's stream: the drill neither enables a stream nor creates a mapping.

Equivalence of a restored (or repaired) table covers the drill's items; the user's items it also holds are counted
and reported as out of scope (:func:`in_scope`). Clean-up (:mod:`dr_infra.stack.deployed_stack`) removes the
drill's items and recovery points, and with ``--cleanup-restored`` the tables the user's recovery restored from
the deployed table after the drill's first write; without it they are listed in the journal and left.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dr_infra.drill.items import item_maker
from dr_infra.drill.oracle import Oracle
from dr_infra.drill.restore_count import settled_restores
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso, utcnow
from dr_infra.stack import deployed_stack as parts_of
from dr_infra.stack import restored
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.deployed import DeployedDefinition
from dr_infra.stack.deployed_discovery import discover
from dr_infra.stack.names import StackNames, check_logical_table_name
from dr_infra.stack.provision import Stack
from dr_infra.stack.spec import StackSpec
from dr_infra.verify.deployed_posture import check_deployed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SETTLE_S = 120.0
"""How long clean-up waits for restores the drill caused (also by deleting its own items) to settle."""


def resolve(drill: Drill, definition: StackDefinition) -> DeployedDefinition:
    deployed = definition.deployed
    assert deployed is not None
    if deployed.cloudformation_stack is not None:
        from dr_infra.stack.deployed_cloudformation import resolve_stack

        resolved: DeployedDefinition = resolve_stack(drill.target, deployed)
        return resolved
    return deployed


def use_deployed(drill: Drill, logical_table: str, definition: StackDefinition, named: str | None = None) -> Stack:
    """Make the deployed stack the scenario's stack: discover, check posture, arm clean-up (nothing is written).

    ``named``: the table the step names (``the deployed table "orders"``), which must be the definition's."""
    check_logical_table_name(logical_table[:24] or "deployed")
    if drill.stack is not None:
        raise ConfigError("a scenario protects one table: 'a DR-protected table' appears twice")
    where = str(definition.path)
    deployed = resolve(drill, definition)
    if named is not None and deployed.table is not None and named != deployed.table:
        raise ConfigError(
            f"{where}: the step names the deployed table {named!r}, but [deployed] table is {deployed.table!r}; "
            "name the same table"
        )
    parts = discover(drill.target, deployed, where)
    if parts.shape.hash_key.type == "N":
        raise ConfigError(
            f"{where}: the deployed table's hash key {parts.shape.hash_key.name!r} is a Number, so drdrill's items "
            "cannot be told apart by a key prefix; drill a table with a String or Binary hash key"
        )
    names = StackNames(drill.run_id, drill.stack_counter(), logical_table[:24])
    spec = StackSpec(
        logical_table=names.logical_table, table=parts.shape, definition=definition, strategy=drill.strategy
    )
    stack = parts_of.deployed_stack(drill.target, parts, spec, names, deployed.drill_key_prefix, drill.cleanups)
    drill.stack = stack
    key_prefix = parts_of.key_prefix(stack)
    drill.oracle = Oracle.for_maker(replace(item_maker(spec), key_prefix=key_prefix))
    drill.monitor_attached = True  # the deployed monitor is on the stream already: drdrill attaches nothing
    drill.record.evidence["stack"] = {
        "prefix": names.prefix,
        "table": parts.table,
        "created": [],
        "deployed": {**parts.describe(), "drill_key_prefix": key_prefix},
        "definition": definition.describe(),
    }
    drill.record.evidence["monitor_armed"] = {
        "at": iso(utcnow()),
        "stream_arn": parts.stream_arn,
        "mapping_uuid": stack.mapping_uuid or None,
        "starting_position": parts.mappings[0].get("StartingPosition") if parts.mappings else None,
        "deployed": True,
    }
    for note in parts.notes:
        drill.record.add_evidence("notes", f"deployed stack: {note}")
    _arm_cleanup(drill, stack)
    _posture(drill, stack)
    return stack


def _posture(drill: Drill, stack: Stack) -> None:
    checks = check_deployed(drill.target, stack, drill.policy.frequency_hours, drill.policy.retention_days)
    drill.record.posture.extend(c.to_dict() for c in checks)
    failed = [c for c in checks if not c.ok]
    if failed:
        reasons = "; ".join(f"{c.check}: expected {c.expected}, found {c.actual}" for c in failed)
        raise AssertionError(f"the deployed stack's posture fails, so it would not recover: {reasons}")


def _arm_cleanup(drill: Drill, stack: Stack) -> None:
    """Register clean-up now, before the first write: it runs newest first, so the items go first, then the
    restores they and the harm caused settle, then restored tables (only with --cleanup-restored), then the
    drill's recovery points."""
    target = drill.target
    since = utcnow() - timedelta(seconds=1)  # restores are dated by the server, in whole seconds
    ddb = target.client("dynamodb")
    if "backup" in target.capabilities:
        backup = target.client("backup")
        drill.cleanups.add(
            f"delete the drill's recovery points of {stack.names.table}",
            lambda: parts_of.delete_drill_recovery_points(backup, stack),
        )
    drill.cleanups.add(
        f"tables restored from {stack.names.table} since the drill started",
        lambda: _restored_tables(drill, stack, since),
    )
    drill.cleanups.add(
        f"check that none of the drill's items came back to {stack.names.table}", lambda: _items_gone(drill, ddb, stack)
    )
    drill.cleanups.add(
        f"wait for restores of {stack.names.table} the drill caused to settle", lambda: _settle(drill, stack, since)
    )
    drill.cleanups.add(
        f"delete the drill's items (hash key {parts_of.key_prefix(stack)}*) from {stack.names.table}",
        lambda: _delete_items(drill, ddb, stack),
    )


def _delete_items(drill: Drill, ddb: DynamoDBClient, stack: Stack) -> None:
    count = parts_of.delete_drill_items(ddb, stack)
    drill.record.evidence.setdefault("deployed_cleanup", {})["items_deleted"] = count


REWRITE_ROUNDS = 3
"""How many times clean-up deletes drill items a deployed monitor wrote back before it reports them as left."""


def _items_gone(drill: Drill, ddb: DynamoDBClient, stack: Stack) -> None:
    """Once the restores settled: a monitor that repairs deletions in place writes the drill's deleted items back
    (their REMOVE records are harm to it). They are deleted again, a few rounds, each after the monitor had time to
    react; any still there is a clean-up failure naming them, never a silent leak."""
    wait = min(10.0, max(1.0, 5 * drill.target.max_poll_interval))
    evidence = drill.record.evidence.setdefault("deployed_cleanup", {})
    for _ in range(REWRITE_ROUNDS):
        time.sleep(wait)
        if not parts_of.drill_item_keys(ddb, stack):
            return
        evidence["items_deleted_again"] = evidence.get("items_deleted_again", 0) + parts_of.delete_drill_items(
            ddb, stack
        )
    time.sleep(wait)
    left = parts_of.drill_item_keys(ddb, stack)
    if left:
        raise RuntimeError(
            f"{len(left)} of the drill's items came back to {stack.names.table} after {REWRITE_ROUNDS + 1} rounds of "
            f"deletes: the deployed monitor writes deleted items back (in-place repair); delete the items whose hash "
            f"key starts with {parts_of.key_prefix(stack)} while its mapping is paused"
        )


def _in_flight(drill: Drill, stack: Stack, since: Any) -> list[str]:
    if "backup" not in drill.target.capabilities:
        return []
    backup = drill.client("backup")
    points = {
        p["RecoveryPointArn"]
        for page in backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=stack.table_arn)
        for p in page.get("RecoveryPoints", [])
    }
    return [
        str(job["RestoreJobId"])
        for page in backup.get_paginator("list_restore_jobs").paginate(ByCreatedAfter=since)
        for job in page.get("RestoreJobs", [])
        if job.get("RecoveryPointArn") in points and job.get("Status") in {"CREATED", "PENDING", "RUNNING"}
    ]


def _settle(drill: Drill, stack: Stack, since: Any) -> None:
    """Wait until the restores the drill caused (its harm, and the user's monitor reacting to the clean-up's own
    deletes) are no longer in flight and no new one appears for a few polls."""
    ddb = drill.client("dynamodb")
    interval = max(0.2, min(2.0, drill.target.max_poll_interval * 2))
    deadline = time.monotonic() + SETTLE_S

    def read() -> dict[str, dict[str, Any]]:
        jobs = {job: {"kind": "restore job in flight"} for job in _in_flight(drill, stack, since)}
        tables = {name: {"kind": "table"} for name in parts_of.caused_restores(ddb, stack, since)}
        return {**jobs, **tables}

    while True:
        found = settled_restores(read, interval, min(10 * interval, 30.0))
        if not any(v["kind"] == "restore job in flight" for v in found.values()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"restores of {stack.names.table} still in flight after {SETTLE_S:g} s: "
                f"{', '.join(k for k, v in found.items() if v['kind'] != 'table')}"
            )


def _restored_tables(drill: Drill, stack: Stack, since: Any) -> None:
    ddb = drill.client("dynamodb")
    names = parts_of.caused_restores(ddb, stack, since)
    evidence = drill.record.evidence.setdefault("deployed_cleanup", {})
    if not drill.cleanup_restored:
        evidence["restored_tables_left"] = names
        if names:
            drill.record.add_evidence(
                "notes",
                f"left in place (run with --cleanup-restored to delete them): tables restored from {stack.names.table} "
                f"since the drill started: {', '.join(names)}",
            )
        return
    for name in names:
        restored.delete_restored(ddb, name)
    evidence["restored_tables_deleted"] = names


# -- equivalence scope --------------------------------------------------------------------------------------
class Scope:
    """Which items of a deployed table are the drill's (hash key under its prefix): the rest are out of scope."""

    def __init__(self, drill: Drill) -> None:
        stack = drill.require_stack()
        self.active = parts_of.is_deployed(stack)
        self.hash_key = stack.spec.table.hash_key.name
        oracle = drill.require_oracle()
        self.prefix = oracle.items.key_prefix
        self.out_of_scope = 0

    def _ours(self, item: dict[str, Any]) -> bool:
        value = item.get(self.hash_key) or {}
        if "S" in value:
            return str(value["S"]).startswith(self.prefix)
        if "B" in value:
            raw = value["B"]  # bytes from boto3, base64 text in wire JSON (what table_reader yields)
            data = bytes(raw) if isinstance(raw, bytes | bytearray) else base64.b64decode(str(raw))
            return data.startswith(self.prefix.encode())
        return False

    def filter(self, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The drill's items of ``items``; counts the others (per pass: the count of the last full pass)."""
        if not self.active:
            yield from items
            return
        skipped = 0
        for item in items:
            if self._ours(item):
                yield item
            else:
                skipped += 1
        self.out_of_scope = skipped

    def note(self, drill: Drill, table: str) -> dict[str, Any]:
        """Evidence of what the comparison left out (empty unless the stack is deployed)."""
        if not self.active:
            return {}
        drill.record.add_evidence(
            "notes",
            f"equivalence of {table} covers the drill's items (hash key {self.prefix}*); "
            f"{self.out_of_scope} item(s) not written by drdrill were out of scope and not compared",
        )
        return {"scope": f"hash key {self.prefix}*", "out_of_scope_items": self.out_of_scope}
