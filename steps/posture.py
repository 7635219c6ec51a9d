"""Posture steps: the stack is protected, proven from what boto3 reads back."""

from __future__ import annotations

from pytest_bdd import parsers, then

from dr_infra.drill.state import Drill
from dr_infra.stack.deployed_stack import is_deployed
from dr_infra.verify import deployed_posture
from dr_infra.verify.posture import PostureCheck, PostureInspector


def _check(drill: Drill, check: PostureCheck) -> None:
    drill.record.posture.append(check.to_dict())
    assert check.ok, f"posture check failed: {check.check}: expected {check.expected}, found {check.actual}"


def _inspector(drill: Drill) -> PostureInspector:
    return PostureInspector(drill.target, drill.require_stack())


@then("point-in-time recovery is enabled on the table")
def _(drill: Drill) -> None:
    drill.require("pitr", why="point-in-time recovery settings cannot be read")
    _check(drill, _inspector(drill).pitr_enabled())


@then("the table's stream carries new and old images")
def _(drill: Drill) -> None:
    drill.ensure_monitor_attached()  # the stream is enabled when the table is protected, after its data
    _check(drill, _inspector(drill).stream_view_type())


@then(parsers.re(r"the backup plan runs every (?P<hours>\d+) hours? and keeps recovery points for (?P<days>\d+) days?"))
def _(drill: Drill, hours: str, days: str) -> None:
    drill.require("backup", why="AWS Backup plans cannot be read")
    inspector = _inspector(drill)
    _check(drill, inspector.backup_frequency(float(hours)))
    _check(drill, inspector.backup_retention(int(days)))


@then("the backup plan meets the DR policy")
def _(drill: Drill) -> None:
    drill.require("backup", why="AWS Backup plans cannot be read")
    inspector = _inspector(drill)
    _check(drill, inspector.backup_frequency(drill.policy.frequency_hours))
    _check(drill, inspector.backup_retention(drill.policy.retention_days))


@then("the backup selection covers the table")
def _(drill: Drill) -> None:
    drill.require("backup_selections", why="AWS Backup selections cannot be created or read")
    _check(drill, _inspector(drill).selection_covers_table())


@then("the change monitor can start restore jobs and pass only the backup restore role")
def _(drill: Drill) -> None:
    drill.require("iam", why="IAM policies cannot be read")
    if is_deployed(drill.stack):  # the user's role, scoped as the user likes: what its recovery needs
        _check(drill, deployed_posture.monitor_can_restore(drill.target, drill.require_stack()))
        return
    _check(drill, _inspector(drill).monitor_can_restore())


@then("the event source mapping is enabled at LATEST with ReportBatchItemFailures")
def _(drill: Drill) -> None:
    drill.require("lambda", why="event source mappings cannot be read")
    drill.ensure_monitor_attached()
    if is_deployed(drill.stack):  # the user's mapping, at the position the user chose
        _check(drill, deployed_posture.mapping_enabled(drill.target, drill.require_stack()))
        return
    _check(drill, _inspector(drill).mapping_enabled())
