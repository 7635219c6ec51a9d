"""Prove a recovery: the restored data equals the table before the change, in its shape, from the right point.

And judge the drill's RTO and RPO against the DR policy. The steps that say these things only call in here, so
what "recovered" means is written once, in the drill layer, beside the measurements it reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dr_infra.drill import recovery
from dr_infra.drill.deployed_items import Scope
from dr_infra.drill.rpo import compared_table, measure_rpo, not_canary
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso, utcnow
from dr_infra.verify.equivalence import compare_streams
from dr_infra.verify.table_reader import read_items
from dr_infra.verify.table_shape_check import check_restored_shape


def expected_moment(drill: Drill) -> datetime:
    """The state a correct recovery reproduces: the recovery point, the restore time, or just before the change.

    A lost table is restored from a recovery point (backup) or to a point in time by its ARN (pitr)."""
    inc = drill.incident
    if drill.strategy == "backup" or (inc.table_lost and drill.strategy != "pitr"):
        if inc.recovery_point_at is None:
            raise AssertionError("no recovery point was used, so there is no state to compare with")
        return inc.recovery_point_at
    if drill.strategy == "pitr":
        if inc.restore_time is None:
            raise AssertionError("the restored table has no RestoreDateTime, so there is no state to compare with")
        return inc.restore_time
    return drill.just_before_change()


def check_restored_data(drill: Drill) -> None:
    """``the restored table matches the table as it was before the change``: item for item (the oracle's state
    at :func:`expected_moment`), and a restored table in the source's shape (keys, indexes)."""
    oracle = drill.require_oracle()
    moment = expected_moment(drill)
    table = compared_table(drill)
    scope = Scope(drill)  # a deployed table: only drdrill's items are compared, the rest reported out of scope
    diff = compare_streams(
        expected=oracle.state_at(moment),
        actual=lambda: not_canary(scope.filter(read_items(drill.target, table))),
        key_attributes=list(oracle.key_attributes),
    )
    drill.incident.verified_at = drill.incident.verified_at or utcnow()
    scoped = scope.note(drill, table)
    drill.record.evidence["diff"] = [{**diff.to_dict(), "table": table, "expected_at": iso(moment), **scoped}]
    assert diff.equal, f"restored table {table} differs from the table at {iso(moment)}: {diff.summary()}"
    if table != drill.table:
        # Equal items under another key schema or without the indexes are not the table the application queries.
        shape = check_restored_shape(drill.client("dynamodb"), table, drill.require_stack().spec.table)
        drill.record.evidence["restored_shape"] = shape
        assert shape["matches"], f"restored table {table} has another shape: {'; '.join(shape['differences'])}"


def _figure(measure: Any) -> str:
    """``5.300 s`` or, under aws-scaled, ``5.300 s (530 s AWS-equivalent)``."""
    text = f"{measure.measured_s:.3f} s"
    return text + (
        f" ({measure.aws_equivalent_s:.0f} s AWS-equivalent)" if measure.aws_equivalent_s is not None else ""
    )


def check_policy_measures(drill: Drill) -> None:
    """``the RTO and RPO meet the DR policy``: both measured (the RPO now if no step measured it) and within
    the policy's targets; a miss names the slowest RTO phase."""
    if drill.record.rpo.measured_s is None and drill.incident.change_at is not None:
        measure_rpo(drill)
    drill.finish_measures()
    rto, rpo = drill.record.rto, drill.record.rpo
    problems = []
    if rto.target_s is None or rpo.target_s is None:
        raise ConfigError("no RTO/RPO target: add 'Given the DR policy requires ...' or a --dr-policy file")
    if rto.measured_s is None:
        problems.append("RTO was not measured (no restore or repair was observed)")
    elif not rto.met:
        slowest = max(rto.phases, key=lambda p: p.duration_s or 0, default=None)
        where = f"; slowest phase: {slowest.name} ({slowest.duration_s:.3f} s)" if slowest else ""
        problems.append(f"RTO {_figure(rto)} exceeds the target {rto.target_s:g} s{where}")
    if rpo.measured_s is not None and not rpo.met:
        problems.append(f"RPO {_figure(rpo)} exceeds the target {rpo.target_s:g} s")
    assert not problems, "; ".join(problems)


def check_restore_point(drill: Drill) -> None:
    """``the restore started from the right point``. Backup: the newest COMPLETED recovery point created before
    the change (ListRecoveryPointsByResource). PITR: the change's second."""
    inc = drill.incident
    assert inc.change_at is not None, "no change was made"
    # The change happened when DynamoDB applied it: its stream record's ApproximateCreationDateTime, which can
    # fall into the next second after the client's clock read (a write sent at .995 s), and which is all the
    # monitor sees. Never the monitor's own quote of it: that would make this check agree with whatever it did.
    recovery.note_stream_record(drill)
    change = drill.record.evidence.get("change")
    from_stream = isinstance(change, dict) and change.get("stream_record_source") == "stream"
    moment = inc.change_stream_at if from_stream and inc.change_stream_at else inc.change_at
    if drill.strategy == "pitr":
        expected = moment.replace(microsecond=0)
        assert inc.restore_time == expected, f"restored to {iso(inc.restore_time)}, expected {iso(expected)}"
        return
    if drill.strategy != "backup":
        raise ConfigError("'the restore started from the right point' applies to the backup and pitr strategies")
    stack = drill.require_stack()
    points = [
        p
        for page in drill.client("backup")
        .get_paginator("list_recovery_points_by_resource")
        .paginate(ResourceArn=stack.table_arn)
        for p in page.get("RecoveryPoints", [])
        # The monitor sees the change's second only (stream records are rounded down to the second), so
        # "before the change" means before that second, as it does for the monitor.
        if p.get("Status") == "COMPLETED" and p["CreationDate"] < moment.replace(microsecond=0)
    ]
    assert points, f"no COMPLETED recovery point before the change at {iso(inc.change_at)}"
    newest = max(points, key=lambda p: p["CreationDate"])
    assert inc.recovery_point_arn == newest["RecoveryPointArn"], (
        f"restored from {inc.recovery_point_arn}, but the newest recovery point before the change is "
        f"{newest['RecoveryPointArn']}"
    )
