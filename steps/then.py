"""Then steps: the guarantees, measured (RTO phase by phase, RPO from canaries) and proven (equivalence)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pytest_bdd import parsers, then

from dr_infra.bdd.step_checks import checks
from dr_infra.drill import recovery
from dr_infra.drill.oracle import CANARY_KIND
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso, utcnow
from dr_infra.verify.equivalence import compare_streams
from dr_infra.verify.table_reader import read_items
from dr_infra.verify.table_shape_check import check_restored_shape

SECONDS = r"(?P<seconds>-?\d+)"
MAX_SECONDS = 86_400
"""Longest time limit a step accepts (24 hours): AWS restores of the largest tables finish well within it, and a
bigger number is almost always a typo that would make a drill wait forever."""


def _seconds(value: str) -> float:
    number = int(value)
    if number < 0:
        raise ConfigError(f"{number} seconds: a time limit cannot be negative")
    if number > MAX_SECONDS:
        raise ConfigError(f"{number} seconds is beyond drdrill's cap of {MAX_SECONDS:,} seconds (24 hours) per step")
    return float(number)


@then(parsers.re(rf"a restore job completes within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    if drill.strategy == "item":
        raise ConfigError("the item strategy repairs in place: use 'the table is repaired in place within N seconds'")
    recovery.recover_within(drill, _seconds(seconds))


@then(parsers.re(rf"the table is repaired in place within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    if drill.strategy != "item":
        raise ConfigError('in-place repair needs the "item" strategy')
    recovery.repair_within(drill, _seconds(seconds))


def _policy_rto(drill: Drill) -> float:
    if drill.rto_target is None:
        raise ConfigError("no RTO target: add 'Given the DR policy requires ...' or rto_seconds to the --policy file")
    if drill.rto_target > MAX_SECONDS:
        raise ConfigError(f"the policy's RTO of {drill.rto_target:g} s is beyond drdrill's cap of {MAX_SECONDS:,} s")
    return float(drill.rto_target)


@then("a restore job completes within the DR policy's RTO")
def _(drill: Drill) -> None:
    """The time limit comes from the policy, so one feature file suits the embedded target and real AWS alike."""
    if drill.strategy == "item":
        raise ConfigError("the item strategy repairs in place: use 'the table is repaired in place within ...'")
    recovery.recover_within(drill, _policy_rto(drill))


@then("the table is repaired in place within the DR policy's RTO")
def _(drill: Drill) -> None:
    if drill.strategy != "item":
        raise ConfigError('in-place repair needs the "item" strategy')
    recovery.repair_within(drill, _policy_rto(drill))


def _expected_moment(drill: Drill) -> datetime:
    """The state a correct recovery reproduces: the recovery point, the restore time, or just before the change.

    A lost table is restored from a recovery point (backup) or to a point in time by its ARN (pitr)."""
    inc = drill.incident
    if drill.strategy == "backup" or (inc.table_lost and drill.strategy != "pitr"):
        if inc.recovery_point_at is None:
            raise AssertionError("no recovery point was used, so there is no state to compare with")
        moment = inc.recovery_point_at
    elif drill.strategy == "pitr":
        if inc.restore_time is None:
            raise AssertionError("the restored table has no RestoreDateTime, so there is no state to compare with")
        moment = inc.restore_time
    else:
        moment = drill.just_before_change()
    return moment


def _compared_table(drill: Drill) -> str:
    if drill.strategy == "item" and not drill.incident.table_lost:
        return drill.table
    if not drill.incident.restored_table:
        raise AssertionError("no restored table: wait for the restore first ('a restore job completes within ...')")
    return drill.incident.restored_table


def _not_canary(items: Any) -> Any:
    return (i for i in items if i.get("kind") != {"S": CANARY_KIND})


@then("the restored table matches the table as it was before the change")
def _(drill: Drill) -> None:
    from dr_infra.drill.deployed_items import Scope

    oracle = drill.require_oracle()
    moment = _expected_moment(drill)
    table = _compared_table(drill)
    scope = Scope(drill)  # a deployed table: only drdrill's items are compared, the rest reported out of scope
    diff = compare_streams(
        expected=oracle.state_at(moment),
        actual=lambda: _not_canary(scope.filter(read_items(drill.target, table))),
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


@then(parsers.re(r"exactly (?P<count>-?\d+) restore jobs? started"))
def _(drill: Drill, count: str) -> None:
    expected = int(count)
    if expected < 0:
        raise ConfigError("a number of restore jobs cannot be negative")
    # Count what AWS reports (restore jobs, restored tables), not the monitor's log lines: a line is written
    # when its invocation returns, the restore exists as soon as the call does. Let redelivered, retried or
    # bisected batches land first: read until the count is stable (the interval follows the target's pace).
    settle = max(0.5, 5 * drill.target.max_poll_interval)
    started = recovery.settled_restores(lambda: recovery.started_restores(drill), settle, limit=30)
    from dr_infra.drill import user_monitor

    if user_monitor.is_user_monitor(drill):
        said = user_monitor.logged_jobs(drill)  # None: the user's log names no job (log_pattern without (?P<job>))
        logged = set(started) if said is None else said
    else:
        logged = {
            str(line.get("restoreJobId") or line.get("restoredTable"))
            for line in recovery.decisions(drill)
            if line.get("decision") == "restore_started"
        }
    actual = len(started)
    drill.record.evidence["restore_job_count"] = [
        {"expected": expected, "started": actual, "restores": started, "monitor_logged": sorted(logged)}
    ]
    if logged != set(started):
        drill.record.add_evidence(
            "notes",
            f"the change monitor's log disagrees with AWS: it logged restore_started for {sorted(logged) or 'none'}, "
            f"AWS reports {sorted(started) or 'none'} (counted: AWS)",
        )
    assert actual == expected, (
        f"expected exactly {expected} restore job(s), {actual} were started since the change: "
        + ", ".join(f"{key} ({info['kind']}, {info['status']})" for key, info in started.items())
    )


@then(parsers.re(r"the change monitor logged the (?P<event>INSERT|MODIFY|REMOVE) event"))
def _(drill: Drill, event: str) -> None:
    from dr_infra.drill import user_monitor
    from dr_infra.drill.waits import Probe, WaitPolicy

    if user_monitor.is_user_monitor(drill):
        user_monitor.logged_event(drill, event)
        return
    injection = drill.incident.injection
    keys = injection.keys if injection is not None else []

    def probe() -> Probe:
        # Only decisions about the injected harmful change count: not the item strategy's own repair writes,
        # TTL deletions or other events the monitor logs as ignored.
        lines = recovery.harmful_decisions(recovery.decisions(drill), keys)
        seen = sorted({f"{line.get('eventName')} ({line.get('decision')})" for line in lines})
        return Probe(
            any(line.get("eventName") == event for line in lines),
            f"decisions about the harmful change: {seen or 'none'}",
        )

    WaitPolicy(f"change monitor logs a {event} event", 30).run(probe)


@then("no data written before the change was lost")
def _(drill: Drill) -> None:
    oracle = drill.require_oracle()
    table = _compared_table(drill)
    moment = drill.just_before_change()
    diff = compare_streams(
        expected=oracle.state_at(moment),
        actual=lambda: _not_canary(read_items(drill.target, table)),
        key_attributes=list(oracle.key_attributes),
    )
    drill.record.evidence.setdefault("diff", []).append({**diff.to_dict(), "table": table, "expected_at": iso(moment)})
    survived = _surviving_change(drill, table)
    if survived:
        drill.violate("rpo", _survived_message(table, survived))
    assert diff.missing == 0 and diff.changed == 0, (
        f"data written before the change was lost in {table}: {diff.summary()}"
    )
    assert not survived, _survived_message(table, survived)


def _surviving_change(drill: Drill, table: str) -> list[str]:
    """Injected keys still in their post-change state in ``table`` (inserted present, deleted missing, modified
    as tampered): the harmful change itself survived. Kept as evidence ``harmful_change``."""
    from dr_infra.verify.equivalence import canonical

    def form(item: Any) -> bytes | None:
        return None if item is None else canonical(item)

    oracle = drill.require_oracle()
    inc = drill.incident
    if inc.injection is None or not inc.injection.keys:
        return []
    injected = {oracle.key(k) for k in inc.injection.keys}
    pre = {oracle.key(i): i for i in oracle.state_at(drill.just_before_change())() if oracle.key(i) in injected}
    post = {w.key: w.new for w in oracle.writes_until(utcnow()) if w.harmful and w.key in injected}  # last wins
    found = {oracle.key(i): i for i in read_items(drill.target, table) if oracle.key(i) in injected}
    survived = []
    for key, after in post.items():
        if form(pre.get(key)) == form(after):
            continue  # this key's change is invisible: nothing to tell apart
        if form(found.get(key)) == form(after):
            what = "deleted, still missing" if after is None else "inserted, present" if key not in pre else "modified"
            survived.append(f"{', '.join(f'{name}={value}' for name, value in key)} ({what})")
    drill.record.evidence["harmful_change"] = {
        "table": table,
        "kind": inc.injection.kind,
        "keys": len(post),
        "survived": len(survived),
        "examples": survived[:10],
    }
    return survived


def _survived_message(table: str, survived: list[str]) -> str:
    return (
        f"the harmful change survived in {table}: {len(survived)} injected item(s) still in their post-change "
        f"state, e.g. {', '.join(survived[:3])}"
    )


def _measure_rpo(drill: Drill) -> float:
    """Seconds of writes lost: change time minus the newest canary (written before it) that survived."""
    inc = drill.incident
    assert inc.change_at is not None
    table = _compared_table(drill)
    harm = _surviving_change(drill, table)
    if harm:
        # Whatever canaries survived, a restore that kept the harmful change did not recover anything.
        drill.violate("rpo", _survived_message(table, harm))
        raise AssertionError(_survived_message(table, harm))
    writers = [w for w in drill.background if hasattr(w, "written")]
    if not writers:
        age = drill.restored_state_age()
        if age is None:
            raise AssertionError("the RPO cannot be measured: no recovery was observed (wait for it first)")
        lost = age
        drill.record.rpo.note = "no canaries: RPO is the age of the restored state at the change"
    else:
        before = [w for writer in writers for w in writer.written if w.finished_at <= inc.change_at]
        present = {i["sequence"]["N"] for i in read_items(drill.target, table) if i.get("kind") == {"S": CANARY_KIND}}
        survived = [w for w in before if w.new is not None and w.new["sequence"]["N"] in present]
        if survived:
            newest = max(w.finished_at for w in survived)
            lost = max(0.0, (inc.change_at - newest).total_seconds())
        else:
            # No canary survived: at least everything since the first canary, and the restored state's age.
            first = min((w.started_at for w in before), default=inc.change_at)
            lost = max((inc.change_at - first).total_seconds(), drill.restored_state_age() or 0.0)
        drill.record.rpo.note = f"{len(survived)} of {len(before)} canaries written before the change survived"
        drill.record.evidence["canaries"] = [{"written_before_change": len(before), "survived": len(survived)}]
    drill.record.rpo.measured_s = round(lost, 3)
    return lost


@then(parsers.re(rf"at most {SECONDS} seconds? of writes (?:was|were) lost"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    limit = _seconds(seconds)
    lost = _measure_rpo(drill)
    assert drill.aws_seconds(lost) <= limit, f"{_lost_text(drill, lost)} of writes were lost, more than {limit:g} s"


@then(parsers.re(r"at most the DR policy's RPO of writes (?:was|were) lost"))
def _(drill: Drill) -> None:
    if drill.rpo_target is None:
        raise ConfigError("no RPO target: add 'Given the DR policy requires ...' or rpo_seconds to the --policy file")
    lost = _measure_rpo(drill)
    assert drill.aws_seconds(lost) <= drill.rpo_target, (
        f"{_lost_text(drill, lost)} of writes were lost, more than the policy's {drill.rpo_target:g} s"
    )


def _lost_text(drill: Drill, lost: float) -> str:
    figure = drill.aws_seconds(lost)
    return f"{lost:.3f} s" + (f" ({figure:.0f} s AWS-equivalent)" if figure != lost else "")


@then("the restored table is protected again")
def _(drill: Drill) -> None:
    from dr_infra.drill import reprotection, user_monitor

    if user_monitor.is_user_monitor(drill):
        reason = "re-protection is drdrill's own monitor's (on_restore_completed); this definition's monitor has none"
        user_monitor.not_applicable(drill, "the restored table is protected again", reason)
        return

    reprotection.verify(drill)


@then("the RTO and RPO meet the DR policy")
def _(drill: Drill) -> None:
    if drill.record.rpo.measured_s is None and drill.incident.change_at is not None:
        _measure_rpo(drill)
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


def _figure(measure: Any) -> str:
    """``5.300 s`` or, under aws-scaled, ``5.300 s (530 s AWS-equivalent)``."""
    text = f"{measure.measured_s:.3f} s"
    return text + (
        f" ({measure.aws_equivalent_s:.0f} s AWS-equivalent)" if measure.aws_equivalent_s is not None else ""
    )


@then("the restore started from the right point")
def _(drill: Drill) -> None:
    """Backup: the newest COMPLETED recovery point created before the change. PITR: the change's second."""
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
