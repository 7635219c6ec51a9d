"""One scenario's drill: its stack, its oracle, its incident, and the journal record it fills in.

Steps are thin: they parse Gherkin and call a method here. Data flows one way: target -> stack -> inject
-> wait -> verify -> journal. Everything a drill creates is registered in its :class:`Cleanups` at the
moment it is created, and the plugin tears the drill down whatever the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dr_infra.drill import aws_time
from dr_infra.drill.inject import Injection
from dr_infra.drill.items import ItemMaker
from dr_infra.drill.oracle import Oracle
from dr_infra.drill.policy import Policy
from dr_infra.errors import ConfigError
from dr_infra.report.journal import Phase, ScenarioRecord, iso, utcnow
from dr_infra.stack import function_ready, protect
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.names import StackNames, check_logical_table_name
from dr_infra.stack.provision import Stack, attach_monitor, provision
from dr_infra.stack.spec import StackSpec, monitor_timeout_for
from dr_infra.targets.base import Target
from dr_infra.targets.client_types import ClientSource


def item_maker(spec: StackSpec) -> ItemMaker:
    """Items that fit ``spec``'s table: its keys, its indexes' keys, its TTL attribute, the definition's sample."""
    shape = spec.table
    keys = set(shape.key_attributes)
    return ItemMaker(
        hash_key=(shape.hash_key.name, shape.hash_key.type),
        range_key=(shape.range_key.name, shape.range_key.type) if shape.range_key else None,
        indexed=tuple((n, t) for n, t in shape.indexed_attributes().items() if n not in keys),
        ttl_attribute=shape.ttl_attribute,
        sample=spec.definition.sample if spec.definition is not None else (),
    )


@dataclass
class Incident:
    """The harmful change under test and what recovery it caused."""

    injection: Injection | None = None
    change_at: datetime | None = None
    change_stream_at: datetime | None = None
    """The harmful write's stream record ApproximateCreationDateTime (DynamoDB's clock, rounded down to the second
    on AWS); ``change_at`` is the client clock."""
    table_lost: bool = False
    restore_job_id: str | None = None
    restored_table: str | None = None
    recovery_point_arn: str | None = None
    recovery_point_at: datetime | None = None
    restore_time: datetime | None = None
    monitor_invoked_at: datetime | None = None
    restore_started_at: datetime | None = None
    restore_completed_at: datetime | None = None
    table_active_at: datetime | None = None
    verified_at: datetime | None = None
    repaired_at: datetime | None = None


@dataclass
class Drill:
    """State of one scenario (function-scoped)."""

    target: Target
    run_id: str
    record: ScenarioRecord
    policy: Policy
    stack_counter: Callable[[], int]
    cleanups: Cleanups = field(default_factory=Cleanups)
    stack: Stack | None = None
    oracle: Oracle | None = None
    strategy: str = "backup"
    trigger_events: tuple[str, ...] = ("INSERT", "MODIFY", "REMOVE")
    monitor_attached: bool = False
    incident: Incident = field(default_factory=Incident)
    rto_target: float | None = None
    rpo_target: float | None = None
    started_monotonic: float = field(default_factory=time.monotonic)
    background: list[Any] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Restore-path faults this scenario injected, by fault name, with their parameters."""
    violations: dict[str, str] = field(default_factory=dict)
    """``{"rto"|"rpo": note}``: violations a step established (see :meth:`violate`); they stand at the end."""
    step_skip_reason: str | None = None
    """Set by a step that is not applicable here (a user's monitor without decision lines): the plugin records the
    step as skipped with this reason instead of passed."""
    definition: StackDefinition | None = None
    """The run's stack definition (``--stack`` / ``--dr-stack`` / ``DRDRILL_STACK``), if any: what "a DR-protected
    table" is when the step names no file of its own."""
    cleanup_restored: bool = False
    """``--cleanup-restored``: clean-up of a deployed stack also deletes the tables its recovery restored."""

    # -- setup ----------------------------------------------------------------------------------------------
    def require(self, *capabilities: str, why: str) -> None:
        """Skip the scenario (with the reason, shown in the report) when the target lacks a capability."""
        import pytest

        missing = self.target.missing(*capabilities)
        if missing:
            reason = f"target {self.target.name} lacks {', '.join(missing)}: {why}"
            self.record.skip_reason = reason
            pytest.skip(reason)

    def create_stack(
        self, logical_table: str, spec: StackSpec | None = None, definition: StackDefinition | None = None
    ) -> Stack:
        """Provision the full DR stack for ``logical_table`` (without attaching the monitor yet), from ``definition``
        (else the run's, else the seed's stack)."""
        check_logical_table_name(logical_table)
        if self.stack is not None:
            raise ConfigError("a scenario protects one table: 'a DR-protected table' appears twice")
        definition = definition or self.definition
        if definition is not None and definition.deployed is not None:
            # a deployed stack is used, never provisioned: dr_infra.drill.table_setup.protect chooses
            raise ConfigError(f"{definition.path}: a [deployed] stack is drilled in place, not created")
        names = StackNames(self.run_id, self.stack_counter(), logical_table)
        base = spec or StackSpec.from_definition(definition)
        # A user's monitor keeps the timeout it declares; drdrill's own waits out the target's PITR lag.
        timeout = (
            base.function_timeout_s
            if base.user_monitor
            else monitor_timeout_for(self.target.pitr_lag_s, base.function_timeout_s)
        )
        spec = StackSpec(
            **{**vars(base), "logical_table": logical_table, "strategy": self.strategy, "function_timeout_s": timeout}
        )
        self.stack = provision(self.target, names, spec, self.cleanups)
        self.oracle = Oracle.for_maker(item_maker(spec))
        self.record.evidence["stack"] = {
            "prefix": names.prefix,
            "table": names.table,
            "created": self.stack.created,
        }
        if spec.definition is not None:
            self.record.evidence["stack"]["definition"] = spec.definition.describe()
        self._note_function_interpreter()
        return self.stack

    def _note_function_interpreter(self) -> None:
        """Say so when the monitor's ``Runtime`` is not the interpreter the target really runs it under."""
        interpreter = self.target.function_interpreter
        if interpreter is None or self.stack is None:
            return
        function = self.stack.names.monitor_function
        runtime = self.client("lambda").get_function_configuration(FunctionName=function)["Runtime"]
        if runtime != interpreter:
            self.record.add_evidence(
                "notes",
                f"the change monitor's Runtime is {runtime}, but the {self.target.name} target runs functions under "
                f"{interpreter} (the interpreter running drdrill): code that depends on the Python version can "
                "behave differently on AWS",
            )

    @property
    def table(self) -> str:
        return self.require_stack().names.table

    def require_stack(self) -> Stack:
        if self.stack is None:
            raise ConfigError("this step needs a table: start the scenario with 'Given a DR-protected table ...'")
        return self.stack

    def require_oracle(self) -> Oracle:
        self.require_stack()
        assert self.oracle is not None
        return self.oracle

    @property
    def client(self) -> ClientSource:
        """``drill.client("dynamodb")``: the target's client for a service (typed per service)."""
        return self.target.client

    def configure_monitor(self) -> None:
        """Push the scenario's strategy and trigger events into the monitor's DR_* variables."""
        stack = self.require_stack()
        stack.spec = StackSpec(**{**vars(stack.spec), "strategy": self.strategy, "trigger_events": self.trigger_events})
        self.record.strategy = self.strategy
        if stack.spec.user_monitor:
            # The user's code decides how it restores and what it reacts to: nothing of it is changed; the step
            # says what the drill expects (and which restore it follows).
            self.record.add_evidence(
                "notes",
                f"the user's change monitor is not configured by drdrill: strategy {self.strategy!r} and trigger "
                f"events {','.join(self.trigger_events)} are what the drill expects of it",
            )
            return
        lam = self.client("lambda")
        functions = (stack.names.monitor_function, stack.names.reprotect_function)
        for function in functions:
            lam.update_function_configuration(
                FunctionName=function, Environment={"Variables": stack.monitor_environment()}
            )
        # AWS applies an update asynchronously (invocations run the old strategy until then): wait for it.
        function_ready.wait_updated(lam, *functions, max_interval=self.target.max_poll_interval)
        self.record.strategy = self.strategy

    def ensure_monitor_attached(self) -> None:
        """Protect the table once, after its data and just before the first harmful change or posture check.

        Enables the table's stream (so it holds no seed write) and attaches the monitor at TRIM_HORIZON, waiting
        until the mapping is Enabled (:func:`~dr_infra.stack.provision.attach_monitor`); on a target without
        Lambda only the stream is enabled.
        """
        if self.monitor_attached:
            return
        stack = self.require_stack()
        started, armed_at = time.monotonic(), utcnow()
        if "lambda" in self.target.capabilities:
            attach_monitor(self.target, stack)
        else:
            stack.stream_arn = protect.enable_stream(
                self.client("dynamodb"),
                self.client("dynamodbstreams"),
                stack.names.table,
                max_interval=self.target.max_poll_interval,
            )
        self.record.evidence["monitor_armed"] = {
            "at": iso(armed_at),
            "stream_arn": stack.stream_arn,
            "mapping_uuid": stack.mapping_uuid or None,
            "starting_position": protect.STARTING_POSITION if stack.mapping_uuid else None,
            "waited_s": round(time.monotonic() - started, 3),
        }
        self.monitor_attached = True

    # -- measurement ------------------------------------------------------------------------------------------
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

    def record_throttles(self) -> dict[str, int]:
        """Throttles the target served during this scenario (``{operation: n}``), kept as evidence.

        Read from the embedded target's ``GET /_drdrill/info`` (``throttled``); the counts are zeroed when
        the scenario's fault switches are reset, so this must run before that.
        """
        control = getattr(self.target, "control", None)
        info = control.info() if control is not None else None
        counts = {str(k): int(v) for k, v in ((info or {}).get("throttled") or {}).items()}
        if counts:
            self.record.evidence["throttles"] = counts
        return counts

    def just_before_change(self) -> datetime:
        assert self.incident.change_at is not None
        return self.incident.change_at - timedelta(microseconds=1)
