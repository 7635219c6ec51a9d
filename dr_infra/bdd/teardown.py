"""Tearing a drill down: background writers, its own fault switches, the measures, the stack's cleanups."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from dr_infra import interrupts
from dr_infra.bdd.session import DrillSession
from dr_infra.drill.state import Drill
from dr_infra.targets import Target
from dr_infra.targets.control_client import ControlClient, SwitchesScope


def open_switches(target: Target, noted: tuple[str | None, ...] = ()) -> SwitchesScope | None:
    """A scenario's switches scope on ``target``'s control routes (``None``: the target has none): what the
    scenario sets is undone at its teardown, and the settings go back to the run's own timing profile."""
    control = getattr(target, "control", None)
    if not isinstance(control, ControlClient):
        return None
    baseline: dict[str, Any] = getattr(target, "settings_baseline", dict)()
    return control.switches_scope(settings=baseline, noted=noted)


def close_scenario_switches(drill: Drill, switches: SwitchesScope | None = None) -> None:
    """Undo what this scenario set on the target's switches: its fault switches, and the settings back to the
    run's timing profile. Only this scenario's switches: those of the scopes it set and its stack's, so a parallel
    drill sharing the endpoint keeps its own; every switch when the scenario set an unscoped one (it steered every
    drill anyway).

    ``switches`` is the scope the scenario opened at set-up. A drill torn down without it (the run was
    interrupted) gets one over what the target's control client set since it last reset them: the scenario's,
    as a process runs one scenario at a time. A target without control routes has nothing to undo."""
    if switches is None:
        control = getattr(drill.target, "control", None)
        if control is None:
            return
        switches = open_switches(drill.target, noted=control.fault_scopes())
        if switches is None:
            return
    if drill.stack is not None:
        switches.include(drill.stack.names.prefix)
    switches.close()


def teardown_drill(drill: Drill, switches: SwitchesScope | None = None) -> None:
    """Stop writers, close this scenario's switches scope (its switches, the run's settings), judge, delete the
    stack: never cut short by a first Ctrl-C. Without ``switches`` (an interrupted run's drills), a scope covering
    what the target's control client set since its last reset (:func:`close_scenario_switches`)."""
    with interrupts.shielded("tearing down the stack"):
        for worker in drill.background:
            with contextlib.suppress(Exception):
                worker.stop()
        if getattr(drill.target, "control", None) is not None:
            with contextlib.suppress(Exception):
                drill.record_throttles()  # before the scope's close zeroes the counts
            with contextlib.suppress(Exception):
                close_scenario_switches(drill, switches)
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
