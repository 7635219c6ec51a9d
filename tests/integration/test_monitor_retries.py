"""A record the real change monitor cannot process is retried as the event source mapping says, then dropped.

On AWS, a stream mapping with ``ReportBatchItemFailures`` retries from the first failed record until
``MaximumRetryAttempts`` is used up, then discards the batch (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
"Configuring partial batch response"). The monitor fails a harmful record it cannot act on, here a deletion
with no recovery point before it, so the drill's evidence is the monitor's own log: one decision line per
attempt, and no more after the retries are used up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify import monitor_log as evidence

RETRIES = 2


@pytest.fixture
def stack(embedded: EmbeddedTarget) -> Iterator[Stack]:
    names = StackNames(new_run_id(), 1, "orders")
    spec = StackSpec(strategy="backup", trigger_events=("REMOVE",), esm_max_retry_attempts=RETRIES)
    built = provision(embedded, names, spec)
    try:
        attach_monitor(embedded, built)
        yield built
    finally:
        assert teardown(built) == []


def _no_recovery_point_lines(embedded: EmbeddedTarget, stack: Stack, since: datetime) -> list[dict[str, object]]:
    lines = evidence.monitor_decisions(
        embedded.client("logs"), stack.names.log_group(stack.names.monitor_function), since
    )
    return [line for line in lines if line.get("decision") == "no_recovery_point"]


def test_an_unprocessable_record_is_retried_then_dropped(embedded: EmbeddedTarget, stack: Stack) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ddb = embedded.client("dynamodb")
    ddb.put_item(TableName=stack.names.table, Item={"LockId": {"S": "young"}})
    ddb.delete_item(TableName=stack.names.table, Key={"LockId": {"S": "young"}})

    expected = 1 + RETRIES  # the first attempt, then MaximumRetryAttempts retries
    deadline = time.monotonic() + 30
    lines = _no_recovery_point_lines(embedded, stack, since)
    while len(lines) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = _no_recovery_point_lines(embedded, stack, since)
    assert len(lines) == expected, lines
    time.sleep(1.5)  # several poller rounds: the batch is gone, nothing retries it again
    lines = _no_recovery_point_lines(embedded, stack, since)
    assert len(lines) == expected, lines
    assert {line["eventName"] for line in lines} == {"REMOVE"}
    assert len({line["sequenceNumber"] for line in lines}) == 1
    # the insert before it was never harmful (DR_TRIGGER_EVENTS=REMOVE) and was not retried into a decision
    assert all(line.get("keys") for line in lines)
