"""A measured RTO as AWS time under the aws-scaled profile: modelled AWS latencies / scale, the rest as measured.

Under ``--embedded-profile aws-scaled`` the embedded target runs each AWS latency it models (a restore's 20
minutes, a table becoming ACTIVE, ...: :data:`dr_infra.targets.embedded.settings.AWS_LATENCIES`) at ``scale``
times its AWS length. Everything else in an RTO is work the target and the function do at their own speed: the
stream handing the change to the monitor, the monitor's code and its API calls, the item strategy's conditional
writes, the drill's verification scan. Dividing that work by the scale as well would turn the 3 s the item
strategy takes to write 200 items back into 300 AWS seconds (600 s at a busy moment), a verdict AWS would not
give. So an RTO's AWS equivalent is built phase by phase (:meth:`dr_infra.drill.measures.Measures.phases`):

* a phase that is a modelled AWS latency (:data:`MODELLED_PHASES`: the restore running, the restored table
  becoming ACTIVE) counts ``duration / scale``;
* any other phase counts its measured duration (the target's work stands in for AWS's at the same speed; this
  machine is no faster than AWS at it);
* time the phases do not cover counts ``/ scale``, so what cannot be classified is never judged more kindly.

The one modelled latency that can fall inside a work phase is a function's cold start (about 1 s on AWS, 10 ms
at scale 0.01: :data:`~dr_infra.targets.embedded.settings.AWS_LATENCIES` ``function_start``); it is added back at
its AWS length when the monitor's first invocation of the drill is inside the RTO, so the figure is not kinder
than AWS by that second either. RPO keeps ``measured / scale``: its length is the plan's cadence or the restore
point's age, both modelled AWS time.
"""

from __future__ import annotations

from collections.abc import Iterable

from dr_infra.report.journal import Phase

RESTORE_RUNNING = "restore started -> restore completed"
RESTORED_TABLE_ACTIVE = "restore completed -> table active"
MODELLED_PHASES = frozenset({RESTORE_RUNNING, RESTORED_TABLE_ACTIVE})
"""RTO phases whose length is a latency the aws-scaled profile models (``restore`` in AWS_LATENCIES: a restore job
or a point-in-time restore RUNNING until its table is ACTIVE)."""


def phase_equivalent(phase: Phase, scale: float) -> float | None:
    """One phase's AWS seconds: ``/ scale`` when it is a modelled latency, else as measured."""
    if phase.duration_s is None:
        return None
    return phase.duration_s / scale if phase.name in MODELLED_PHASES else phase.duration_s


def rto_equivalent(phases: Iterable[Phase], measured_s: float, scale: float, cold_start_s: float = 0.0) -> float:
    """The AWS seconds of an RTO of ``measured_s`` wall seconds made of ``phases`` (see the module's rules).

    ``cold_start_s``: AWS's cold-start length to add when the drill's first invocation is inside the RTO, less
    what the target spent on it (its scaled length, already inside a measured phase).
    """
    if scale == 1:
        return measured_s
    covered = 0.0
    equivalent = 0.0
    for phase in phases:
        aws = phase_equivalent(phase, scale)
        if aws is None or phase.duration_s is None:
            continue
        covered += phase.duration_s
        equivalent += aws
    uncovered = max(0.0, measured_s - covered)
    return equivalent + uncovered / scale + cold_start_s
