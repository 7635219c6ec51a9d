"""Measure a drill's RPO: the seconds of writes lost, from the canaries that survived the recovery.

Also the check every RPO rests on: the harmful change itself must not survive (an inserted item still present, a
deleted one still missing, a modified one still tampered). A restore that kept the change recovered nothing,
whatever canaries it kept, so the RPO is then violated outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dr_infra.drill.oracle import CANARY_KIND
from dr_infra.drill.state import Drill
from dr_infra.report.journal import iso, utcnow
from dr_infra.verify.canonical import Item, canonical
from dr_infra.verify.equivalence import compare_streams
from dr_infra.verify.table_reader import read_items


def compared_table(drill: Drill) -> str:
    """The table a recovery is judged on: the drill's own (repaired in place) or the restored one."""
    if drill.strategy == "item" and not drill.incident.table_lost:
        return drill.table
    if not drill.incident.restored_table:
        raise AssertionError("no restored table: wait for the restore first ('a restore job completes within ...')")
    return drill.incident.restored_table


def not_canary(items: Iterable[Item]) -> Iterator[Item]:
    """The items that are not drdrill's canaries (background writes that exist to measure the RPO)."""
    return (i for i in items if i.get("kind") != {"S": CANARY_KIND})


def surviving_change(drill: Drill, table: str) -> list[str]:
    """Injected keys still in their post-change state in ``table`` (inserted present, deleted missing, modified
    as tampered): the harmful change itself survived. Kept as evidence ``harmful_change``."""

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


def survived_message(table: str, survived: list[str]) -> str:
    return (
        f"the harmful change survived in {table}: {len(survived)} injected item(s) still in their post-change "
        f"state, e.g. {', '.join(survived[:3])}"
    )


def check_no_data_lost(drill: Drill) -> None:
    """``no data written before the change was lost``: nothing written before the change is missing or changed
    in the recovered table (extra items are the canaries' business), and the harmful change did not survive."""
    oracle = drill.require_oracle()
    table = compared_table(drill)
    moment = drill.just_before_change()
    diff = compare_streams(
        expected=oracle.state_at(moment),
        actual=lambda: not_canary(read_items(drill.target, table)),
        key_attributes=list(oracle.key_attributes),
    )
    drill.record.evidence.setdefault("diff", []).append({**diff.to_dict(), "table": table, "expected_at": iso(moment)})
    survived = surviving_change(drill, table)
    if survived:
        drill.violate("rpo", survived_message(table, survived))
    assert diff.missing == 0 and diff.changed == 0, (
        f"data written before the change was lost in {table}: {diff.summary()}"
    )
    assert not survived, survived_message(table, survived)


def measure_rpo(drill: Drill) -> float:
    """Seconds of writes lost: change time minus the newest canary (written before it) that survived."""
    inc = drill.incident
    assert inc.change_at is not None
    table = compared_table(drill)
    harm = surviving_change(drill, table)
    if harm:
        # Whatever canaries survived, a restore that kept the harmful change did not recover anything.
        drill.violate("rpo", survived_message(table, harm))
        raise AssertionError(survived_message(table, harm))
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


def lost_text(drill: Drill, lost: float) -> str:
    """``1.250 s`` or, under aws-scaled, ``1.250 s (125 s AWS-equivalent)``."""
    figure = drill.aws_seconds(lost)
    return f"{lost:.3f} s" + (f" ({figure:.0f} s AWS-equivalent)" if figure != lost else "")


def check_rpo_within(drill: Drill, limit: float, what: str = "") -> None:
    """``at most N seconds of writes were lost``: the measured RPO (its AWS equivalent under aws-scaled) is
    within ``limit``; ``what`` names where the limit comes from in the failure message."""
    lost = measure_rpo(drill)
    assert drill.aws_seconds(lost) <= limit, (
        f"{lost_text(drill, lost)} of writes were lost, more than {what}{limit:g} s"
    )
