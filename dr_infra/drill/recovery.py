"""Follow a recovery from the outside: find the restore the monitor started, wait for it, verify it.

The framework never asks the monitor how it did; it reads what the monitor logged (CloudWatch Logs), what
AWS Backup and DynamoDB report (DescribeRestoreJob, DescribeTable), and compares data with the oracle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dr_infra.drill import user_monitor
from dr_infra.drill.monitor_decisions import HARMFUL_DECISIONS as HARMFUL_DECISIONS
from dr_infra.drill.monitor_decisions import STARTED as STARTED
from dr_infra.drill.monitor_decisions import decisions as decisions
from dr_infra.drill.monitor_decisions import from_ms
from dr_infra.drill.monitor_decisions import harmful_decisions as harmful_decisions
from dr_infra.drill.monitor_decisions import key_text as key_text
from dr_infra.drill.monitor_decisions import note_invocation as note_invocation
from dr_infra.drill.monitor_decisions import note_stream_record as note_stream_record
from dr_infra.drill.restore_count import restored_tables, settled_restores, started_restores
from dr_infra.drill.restore_follow import follow_backup_restore as follow_backup_restore
from dr_infra.drill.restore_follow import poll_cap
from dr_infra.drill.restore_follow import recovery_point_origin as recovery_point_origin
from dr_infra.drill.restore_follow import remaining as remaining
from dr_infra.drill.restore_follow import wait_table_active as wait_table_active
from dr_infra.drill.state import Drill
from dr_infra.drill.waits import (
    PHASE_ITEM_REPAIRED,
    PHASE_RESTORE_STARTED,
    Probe,
    WaitPolicy,
)
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import utcnow
from dr_infra.verify import monitor_log as evidence


def _summary(line: dict[str, Any]) -> str:
    parts = [str(line.get("decision"))]
    parts.extend(str(line[key]) for key in ("reason", "error") if line.get(key))
    return ": ".join(parts)


def wait_restore_started(drill: Drill, deadline: float, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Wait for the monitor's restore_started decision; a timeout quotes the monitor's last word."""

    def probe() -> Probe:
        lines = decisions(drill)
        started = [line for line in lines if line.get("decision") in STARTED]
        if started:
            return Probe(True, "started", started[0])
        if not lines:
            invoked = evidence.invocation_starts(
                drill.client("logs"),
                drill.require_stack().names.log_group(drill.require_stack().names.monitor_function),
                drill.incident.change_at,
            )
            return Probe(False, "monitor never invoked" if not invoked else "monitor invoked, no decision logged")
        last = lines[-1]
        state = _summary(last)
        if last.get("decision") == "failed":
            state = f"restore could not be started: {last.get('error') or last.get('reason')}"
        return Probe(False, state)

    result = WaitPolicy(PHASE_RESTORE_STARTED, remaining(deadline), max_interval=poll_cap(drill, 1.0)).run(
        probe, sleep=sleep
    )
    line: dict[str, Any] = result.value
    return line


def follow_pitr_restore(
    drill: Drill, line: dict[str, Any], deadline: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    inc = drill.incident
    inc.restored_table = line.get("restoredTable")
    inc.restore_started_at = from_ms(line.get("timestamp"))
    if line.get("restoreTime"):
        inc.restore_time = datetime.fromisoformat(str(line["restoreTime"]).replace("Z", "+00:00"))
    wait_table_active(drill, deadline, sleep)
    inc.restore_completed_at = inc.table_active_at


def await_recovery(drill: Drill, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """From the harmful change to an ACTIVE restored table, whatever the strategy (not item)."""
    deadline = time.monotonic() + timeout
    inc = drill.incident
    if drill.require_stack().spec.user_monitor and not inc.table_lost:
        user_monitor.await_recovery(drill, deadline, sleep)
        return
    if inc.restore_job_id is None and inc.restored_table is None:
        line = wait_restore_started(drill, deadline, sleep)
        note_invocation(drill)
        if drill.strategy == "pitr":
            follow_pitr_restore(drill, line, deadline, sleep)
            return
        job_id = line.get("restoreJobId")
        if not job_id:
            raise DrDrillError(f"the monitor logged {line.get('decision')} without a restoreJobId")
        follow_backup_restore(drill, str(job_id), deadline, sleep)
    elif inc.restore_job_id is not None and inc.table_active_at is None:
        follow_backup_restore(drill, inc.restore_job_id, deadline, sleep)
    elif inc.restored_table is not None and inc.table_active_at is None:
        # A restore the drill started itself (the table-loss runbook's point-in-time restore): wait for it.
        wait_table_active(drill, deadline, sleep)
        inc.restore_completed_at = inc.table_active_at


def _budget(drill: Drill, limit: float) -> float:
    """What is left of a time limit counted from the harmful change (the RTO's start), not from the step."""
    change_at = drill.incident.change_at
    if change_at is None:
        return limit
    return max(0.0, limit - (utcnow() - change_at).total_seconds())


def _judge_limit(drill: Drill, limit: float, end: datetime | None, what: str) -> None:
    """A time-limited step passes only when the figure the report shows is within the limit: the harmful
    change to ``end`` (the RTO's own clock), never the time the step happened to wait."""
    change_at = drill.incident.change_at
    if change_at is None or end is None:
        return
    took = (end - change_at).total_seconds()
    figure = drill.aws_rto_seconds(end)
    if figure > limit:
        aws = f" ({figure:.0f} s AWS-equivalent)" if figure != took else ""
        raise AssertionError(f"{what} {took:.3f} s after the harmful change{aws}, beyond the {limit:g} s limit")


def recover_within(drill: Drill, limit: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """``a restore job completes within N seconds``: the restored table is ACTIVE at most ``limit`` seconds after
    the harmful change, judged on the measured figure (its AWS equivalent under aws-scaled: ``limit`` is AWS time)."""
    await_recovery(drill, _budget(drill, drill.wall_seconds(limit)), sleep)
    _judge_limit(drill, limit, drill.incident.table_active_at, "the restored table became ACTIVE")


def repair_within(drill: Drill, limit: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """``the table is repaired in place within N seconds``, judged on the measured figure.

    The wait is ``limit`` wall seconds on every target: a repair is the monitor's own writes, no latency the
    aws-scaled profile shortens, so its AWS time is its wall time (:mod:`dr_infra.drill.aws_time`)."""
    await_item_repair(drill, _budget(drill, limit), sleep)
    _judge_limit(drill, limit, drill.incident.repaired_at, "the table was repaired")


#: BatchGetItem reads at most 100 items per call
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
BATCH_GET_LIMIT = 100


def await_item_repair(drill: Drill, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Poll the keys the change touched (strongly consistent reads) until every one is back to its state before
    the change, all seen so in one sweep.

    One poll is one BatchGetItem per 100 keys, not one GetItem per key, and it asks only for the keys not yet
    seen repaired: the drill's reads land on the same table (and, on the embedded target, the same CPU) as the
    monitor's repair writes, so re-reading 200 items every poll slowed the very repair it timed. Once every key
    has been seen repaired, one sweep reads them all again: the repair counts as done (``repaired_at``) only
    when that sweep finds every key as it was, so an item seen repaired and later changed again is not missed;
    a key the sweep finds wrong is asked for again in the next polls. A key BatchGetItem returns among
    ``UnprocessedKeys`` (throttling, its 16 MB cap) counts as not yet repaired in that poll."""
    oracle = drill.require_oracle()
    inc = drill.incident
    assert inc.injection is not None and inc.change_at is not None
    expected = {oracle.key(i): i for i in oracle.state_at(drill.just_before_change())()}
    ddb = drill.client("dynamodb")
    keys = list(inc.injection.keys)
    waiting = list(keys)  # not yet seen repaired, in the change's order

    def wrong_among(asked: list[Any]) -> list[Any]:
        found: dict[Any, dict[str, Any]] = {}
        unanswered: set[Any] = set()
        for start in range(0, len(asked), BATCH_GET_LIMIT):
            chunk = asked[start : start + BATCH_GET_LIMIT]
            reply: Any = ddb.batch_get_item(RequestItems={drill.table: {"Keys": chunk, "ConsistentRead": True}})
            unanswered |= {oracle.key(k) for k in reply.get("UnprocessedKeys", {}).get(drill.table, {}).get("Keys", [])}
            found |= {oracle.key(item): item for item in reply.get("Responses", {}).get(drill.table, [])}
        return [
            key for key in asked if (k := oracle.key(key)) in unanswered or not _same(found.get(k), expected.get(k))
        ]

    def probe() -> Probe:
        nonlocal waiting
        swept = len(waiting) == len(keys)
        waiting = wrong_among(waiting)
        if not waiting and not swept:  # every key seen repaired at some poll: one sweep must see them all at once
            waiting = wrong_among(keys)
        return Probe(not waiting, f"{len(waiting)} of {len(keys)} items not yet repaired")

    WaitPolicy(PHASE_ITEM_REPAIRED, timeout, first_interval=0.05, max_interval=poll_cap(drill, 0.5)).run(
        probe, sleep=sleep
    )
    inc.repaired_at = utcnow()
    note_invocation(drill)
    decisions(drill)


def _same(got: dict[str, Any] | None, want: dict[str, Any] | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    from dr_infra.verify.equivalence import canonical

    return canonical(got) == canonical(want)


__all__ = [
    "STARTED",
    "await_item_repair",
    "await_recovery",
    "decisions",
    "follow_backup_restore",
    "harmful_decisions",
    "key_text",
    "note_invocation",
    "note_stream_record",
    "restored_tables",
    "settled_restores",
    "started_restores",
    "wait_restore_started",
    "wait_table_active",
]
