"""End to end: DynamoDB's own TTL deletions reach the real change monitor and are ignored; a user's deletion is not.

On AWS an expired item is deleted by the service and the REMOVE record carries ``userIdentity`` ``{"type":
"Service", "principalId": "dynamodb.amazonaws.com"}``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html); a change monitor
that restored on it would restore every time data expires as designed. The embedded target deletes expired items
after ``ttl_delete_delay_seconds`` (dr_infra/targets/embedded/ttl_sweeper.py); nothing here is faked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify import monitor_log as evidence


@pytest.fixture
def stack(embedded: EmbeddedTarget) -> Iterator[Stack]:
    names = StackNames(new_run_id(), 1, "orders")
    built = provision(embedded, names, StackSpec(strategy="backup", trigger_events=("REMOVE",)))
    try:
        embedded.client("dynamodb").update_time_to_live(
            TableName=names.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        attach_monitor(embedded, built)
        yield built
    finally:
        assert teardown(built) == []


def _decisions(embedded: EmbeddedTarget, stack: Stack, since: datetime) -> list[dict[str, Any]]:
    group = stack.names.log_group(stack.names.monitor_function)
    return list(evidence.monitor_decisions(embedded.client("logs"), group, since))


def _wait(embedded: EmbeddedTarget, stack: Stack, since: datetime, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    lines = _decisions(embedded, stack, since)
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        lines = _decisions(embedded, stack, since)
    return lines


def test_ttl_deletions_are_ignored_and_a_user_deletion_is_not(embedded: EmbeddedTarget, stack: Stack) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ddb = embedded.client("dynamodb")
    expired = str(int(time.time()) - 5)
    for key in ("session-1", "session-2"):
        ddb.put_item(TableName=stack.names.table, Item={"LockId": {"S": key}, "expiresAt": {"N": expired}})
    ddb.put_item(TableName=stack.names.table, Item={"LockId": {"S": "order-1"}})

    # Two INSERTs (not harmful: DR_TRIGGER_EVENTS=REMOVE) and two TTL REMOVEs, all ignored.
    lines = _wait(embedded, stack, since, 5)
    ttl = [line for line in lines if line.get("eventName") == "REMOVE"]
    assert len(ttl) == 2, lines
    assert {line["decision"] for line in ttl} == {"ignored"}
    assert {line["reason"] for line in ttl} == {"TTL deletion"}
    assert "Item" not in ddb.get_item(TableName=stack.names.table, Key={"LockId": {"S": "session-1"}})

    # The same kind of record from a caller is harmful: no recovery point exists, so the monitor says so.
    ddb.delete_item(TableName=stack.names.table, Key={"LockId": {"S": "order-1"}})
    lines = _wait(embedded, stack, since, len(lines) + 1)
    user = [line for line in lines if line.get("eventName") == "REMOVE" and line["decision"] != "ignored"]
    assert user and user[0]["decision"] == "no_recovery_point", lines
