"""A drill's RTO and RPO from what it observed: the phases, the restored state's age, the verdict against the targets.

:class:`Measures` is the measuring half of :class:`dr_infra.drill.state.Drill` (which inherits it), apart so that
the scenario's state and stack set-up and the arithmetic of its guarantees are read, and changed, one at a time.
RTO is the sum of the phases from the harmful write to verified (or repaired) data; RPO is the age of the state
recovery brought back, unless the canaries measured it. Under the embedded target's aws-scaled profile each
figure also gets its AWS equivalent (:mod:`dr_infra.drill.aws_time`).
"""

from __future__ import annotations

from datetime import datetime

from dr_infra.drill import aws_time
from dr_infra.drill.incident import Incident
from dr_infra.drill.inject import Injection
from dr_infra.report.journal import Phase, ScenarioRecord, iso
from dr_infra.targets.base import Target


class Measures:
    """RTO and RPO of one scenario, from its :class:`Incident` into its journal record.

    The attributes are :class:`~dr_infra.drill.state.Drill`'s fields, declared here for the type checker only.
    """

    target: Target
    record: ScenarioRecord
    incident: Incident
    strategy: str
    violations: dict[str, str]
    rto_target: float | None
    rpo_target: float | None

    def mark_change(self, injection: Injection) -> None:
        self.incident.injection = injection
        self.incident.change_at = injection.started_at
        self.record.evidence["change"] = {
            "kind": injection.kind,
            "count": injection.count,
            "started_at": iso(injection.started_at),
            "finished_at": iso(injection.finished_at),
            "keys": injection.keys[:5],
        }

    def violate(self, measure: str, note: str, *, expected: bool = False) -> None:
        """Record that ``measure`` (``rto`` or ``rpo``) is violated, whatever the numbers say: ``met`` False, ``note``.

        ``expected``: the scenario's injected fault causes the violation and the scenario proved drdrill detects
        it; the scenario passes while the journal keeps the guarantee as violated (evidence ``expected_violation``).
        :meth:`finish_measures` never overwrites a recorded violation.
        """
        if measure not in {"rto", "rpo"}:
            raise ValueError(f"unknown measure {measure!r}")
        self.violations[measure] = note
        target = self.record.rto if measure == "rto" else self.record.rpo
        target.met, target.note = False, note
        if expected:
            self.record.add_evidence("expected_violation", {"measure": measure, "note": note})
            self.record.add_evidence("notes", f"{measure.upper()} violated, as the scenario's fault intends: {note}")

    def phases(self) -> list[Phase]:
        """RTO phases from the harmful write to verified data, from what was observed."""
        inc = self.incident
        points = [
            ("harmful write -> monitor invoked", inc.change_at, inc.monitor_invoked_at),
            ("monitor invoked -> restore started", inc.monitor_invoked_at, inc.restore_started_at),
            ("restore started -> restore completed", inc.restore_started_at, inc.restore_completed_at),
            ("restore completed -> table active", inc.restore_completed_at, inc.table_active_at),
            ("table active -> data verified", inc.table_active_at, inc.verified_at),
        ]
        # In-place repair has no restore: the phases run harmful write -> monitor invoked -> item repaired, one
        # after the other, so their durations add up to the RTO like a restore's do.
        if inc.monitor_invoked_at is not None:
            points.append(("monitor invoked -> item repaired", inc.monitor_invoked_at, inc.repaired_at))
        else:
            points.append(("harmful write -> item repaired", inc.change_at, inc.repaired_at))
        phases = []
        for name, start, end in points:
            if start is None or end is None:
                continue
            duration = max(0.0, (end - start).total_seconds())
            phases.append(Phase(name, iso(start), iso(end), round(duration, 3)))
        if phases and phases[0].name.startswith("harmful write") and inc.change_stream_at is not None:
            phases[0].stream_record_at = iso(inc.change_stream_at)
        return phases

    def restored_state_age(self) -> float | None:
        """Seconds between the change and the state recovery brought back (no canaries needed).

        Backup: the recovery point's creation time; pitr: the restore time; item: the state just before
        the change, once the repair was verified. ``None`` when no recovery was observed.
        """
        inc = self.incident
        if inc.change_at is None:
            return None
        if self.strategy == "item" and not inc.table_lost:
            return 0.0 if inc.repaired_at is not None else None
        if inc.table_active_at is None:
            return None
        moment = inc.restore_time if self.strategy == "pitr" else inc.recovery_point_at
        if moment is None:
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=inc.change_at.tzinfo)
        return max(0.0, (inc.change_at - moment).total_seconds())

    def finish_measures(self) -> None:
        """Fill RTO (sum of phases: change -> verified or repaired) and judge against the targets."""
        inc = self.incident
        self.record.rto.phases = self.phases()
        end = inc.repaired_at or inc.verified_at or inc.table_active_at
        if inc.change_at is not None and end is not None:
            self.record.rto.measured_s = round((end - inc.change_at).total_seconds(), 3)
            if end is inc.table_active_at and inc.verified_at is None and "rto" not in self.violations:
                self.record.rto.note = "measured to the restored table becoming ACTIVE: the data was not verified"
        if self.record.rpo.measured_s is None:
            age = self.restored_state_age()
            if age is not None:
                self.record.rpo.measured_s = round(age, 3)
                self.record.rpo.note = self.record.rpo.note or "age of the restored state at the change (no canaries)"
        if self.time_scale != 1:
            self._fill_aws_equivalents(self.time_scale)
        if inc.change_at is None:
            # No harmful change, no recovery: RTO and RPO targets do not apply (posture-only scenarios).
            return
        self.record.rto.target_s = self.rto_target
        self.record.rpo.target_s = self.rpo_target
        self.record.rto.judge()
        self.record.rpo.judge()
        for measure, note in self.violations.items():
            target = self.record.rto if measure == "rto" else self.record.rpo
            target.met, target.note = False, note

    def _fill_aws_equivalents(self, scale: float) -> None:
        """On a scaled target: each RTO phase's, the RTO's and the RPO's AWS-equivalent seconds."""
        for phase in self.record.rto.phases:
            equivalent = aws_time.phase_equivalent(phase, scale)
            phase.aws_equivalent_s = None if equivalent is None else round(equivalent, 3)
        if self.record.rto.measured_s is not None:
            self.record.rto.aws_equivalent_s = round(
                aws_time.rto_equivalent(
                    self.record.rto.phases, self.record.rto.measured_s, scale, self._cold_start_extra()
                ),
                3,
            )
        if self.record.rpo.measured_s is not None:
            self.record.rpo.aws_equivalent_s = round(self.record.rpo.measured_s / scale, 3)

    @property
    def time_scale(self) -> float:
        """Wall seconds per AWS second on this target (``Target.time_scale``; 1 unless aws-scaled)."""
        return float(getattr(self.target, "time_scale", 1.0))

    def aws_seconds(self, wall: float) -> float:
        """``wall`` seconds as AWS seconds: itself, or / scale under the embedded target's aws-scaled profile."""
        return wall / self.time_scale

    def aws_rto_seconds(self, end: datetime) -> float:
        """The harmful change to ``end`` in AWS seconds: as measured, or phase by phase under aws-scaled
        (:mod:`dr_infra.drill.aws_time`: modelled latencies / scale, the target's own work as measured)."""
        change_at = self.incident.change_at
        assert change_at is not None
        took = (end - change_at).total_seconds()
        if self.time_scale == 1:
            return took
        until = iso(end) or ""
        phases = [p for p in self.phases() if p.finished_at is not None and p.finished_at <= until]
        return aws_time.rto_equivalent(phases, took, self.time_scale, self._cold_start_extra())

    def _cold_start_extra(self) -> float:
        """AWS's cold start less its scaled length here, when the monitor's invocation is inside the RTO: the one
        modelled latency inside a work phase, added back so the AWS equivalent is never kinder than AWS."""
        if self.incident.monitor_invoked_at is None:
            return 0.0
        latencies = self.target.timing().get("latencies") or {}
        start = latencies.get("function_start") or {}
        return max(0.0, float(start.get("aws_s", 0.0)) - float(start.get("here_s", 0.0)))

    def wall_seconds(self, aws: float) -> float:
        """An AWS-time limit as wall seconds on this target (the inverse of :meth:`aws_seconds`)."""
        return aws * self.time_scale
