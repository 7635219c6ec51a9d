"""How many drills ``drdrill run`` runs at once: ``-n`` as given, else the plan's choice on the embedded target.

Why a default at all: on the embedded target a drill spends most of its wall time waiting for modelled AWS
latencies (a table CREATING, a function Pending, a mapping Creating, a restore job RUNNING), so one drill after
another leaves the machine idle (the shipped features: 138 s serial for 49 CPU-s on 2 cores). Drills that wait
side by side cost almost nothing (BENCHMARKS.md, issue 19), so ``drdrill run`` asks the same estimate ``drdrill
plan`` prints (:func:`dr_infra.app.plan.estimate_for_run`) for the fewest workers that reach the run's floor.

When the default stays serial, and why:

* a target other than embedded: on AWS and LocalStack concurrency is the operator's decision (the account's
  quotas, the emulator's capacity, the bill while drills overlap): ``drdrill plan`` prints the ``-n`` to give;
* a stack definition (``--stack``, ``--stack-from``): a user's own stack may be drilled in place (one table for
  every scenario), which drills side by side would harm;
* a run the estimate says gains too little (at most :data:`MIN_SAVING` of the serial time, or under
  :data:`MIN_SAVED_S`): each worker process costs a few CPU-seconds to start, which a short run does not repay.

``-n 0`` (or ``DRDRILL_WORKERS=0``) asks for a serial run in this process, as pytest-xdist reads it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

#: The least share of the serial estimate concurrency must save to be the default.
MIN_SAVING = 0.25
#: The least seconds it must save.
MIN_SAVED_S = 15.0


@dataclass(frozen=True)
class WorkerChoice:
    """The ``-n`` a run uses and why (printed at the start of a run that chose it itself)."""

    workers: str | None  # what ``-n`` hands pytest-xdist; None: serial in this process, no xdist
    chosen: bool  # drdrill chose it (no -n given)
    reason: str


def choose_workers(args: argparse.Namespace) -> WorkerChoice:
    """The run's ``-n``: as given (``-n``, ``DRDRILL_WORKERS``), else the plan's on the embedded target."""
    given = getattr(args, "workers", None)
    if given is not None:
        serial = str(given).strip() == "0"
        return WorkerChoice(None if serial else str(given), False, "serial (-n 0)" if serial else f"-n {given}")
    if str(args.target) != "embedded":
        return WorkerChoice(None, True, f"serial: on {args.target} concurrency is yours to choose (drdrill plan)")
    if getattr(args, "stack", None) or getattr(args, "stack_from", None):
        return WorkerChoice(None, True, "serial: a stack definition may be drilled in place")
    from dr_infra.app.plan import estimate_for_run
    from dr_infra.errors import ConfigError

    try:
        found = estimate_for_run(args, None)
    except ConfigError:  # a bad feature or definition: the run itself says so, in its journal and one line
        return WorkerChoice(None, True, "serial: the plan could not estimate this run")
    workers, serial_s, concurrent_s = int(found["workers"]), float(found["serial"]), float(found["concurrent"])
    saved = serial_s - concurrent_s
    if workers <= 1 or saved < MIN_SAVED_S or saved < serial_s * MIN_SAVING:
        return WorkerChoice(None, True, "serial: the plan estimates concurrency would gain too little")
    return WorkerChoice(
        str(workers),
        True,
        f"{workers} drills at once (the plan's estimate: {concurrent_s:.0f} s against {serial_s:.0f} s serial; "
        "-n 0 runs them one after another)",
    )
