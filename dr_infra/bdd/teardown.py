"""Tearing a drill down: background writers, its own fault switches, the measures, the stack's cleanups."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from dr_infra import interrupts
from dr_infra.bdd.session import DrillSession
from dr_infra.drill.state import Drill


def reset_scenario_faults(control: Any, drill: Drill) -> None:
    """Turn off this scenario's fault switches only: its stack's scope (and any other scope it set), so a
    parallel drill sharing the endpoint keeps its own; everything when the scenario set an unscoped switch."""
    scopes = set(control.fault_scopes())
    if None in scopes:
        control.reset_faults()
        return
    if drill.stack is not None:
        scopes.add(drill.stack.names.prefix)
    for scope in sorted(s for s in scopes if s is not None):
        control.reset_faults(scope=scope)


def teardown_drill(drill: Drill) -> None:
    """Stop writers, reset this scenario's switches, judge, delete the stack: never cut short by a first Ctrl-C."""
    with interrupts.shielded("tearing down the stack"):
        for worker in drill.background:
            with contextlib.suppress(Exception):
                worker.stop()
        control = getattr(drill.target, "control", None)
        if control is not None:
            with contextlib.suppress(Exception):
                drill.record_throttles()  # before the reset zeroes the counts
            with contextlib.suppress(Exception):
                reset_scenario_faults(control, drill)
                getattr(drill.target, "reset_settings", control.reset_settings)()  # keeps the run's timing profile
        with contextlib.suppress(Exception):
            drill.finish_measures()
        failures = drill.cleanups.run()
        drill.record.cleanup = {"deleted": len(drill.cleanups.done), "failed": failures}


def report_abandoned(session: DrillSession) -> None:
    """The operator abandoned the teardown: say exactly what is left and how to remove it."""
    left = [f"{d.record.name}: {what}" for d in session.live for what in d.cleanups.pending()]
    session.journal.leaks.extend(f"teardown abandoned: {line}" for line in left)
    if session.target_name == "embedded":
        how = "the embedded target lives in this process, so they vanish with it"
    else:
        how = f"remove them with: drdrill janitor --target {session.target_name} --older-than 0s --yes"
    print(f"drdrill: teardown abandoned; left behind: {'; '.join(left) or 'nothing'}; {how}", file=sys.stderr)
