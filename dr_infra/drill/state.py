"""One scenario's drill: its state (stack, oracle, incident, journal record) and the set-up of its stack.

Steps are thin: they parse Gherkin and call a method here (the measuring ones are :class:`~dr_infra.drill.measures.
Measures`', which :class:`Drill` inherits). Data flows one way: target -> stack -> inject
-> wait -> verify -> journal. Everything a drill creates is registered in its :class:`Cleanups` at the
moment it is created, and the plugin tears the drill down whatever the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dr_infra.drill.incident import Incident
from dr_infra.drill.items import item_maker
from dr_infra.drill.measures import Measures
from dr_infra.drill.oracle import Oracle
from dr_infra.drill.policy import Policy
from dr_infra.errors import ConfigError
from dr_infra.report.journal import ScenarioRecord, iso, utcnow
from dr_infra.stack import function_ready, protect
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.names import StackNames, check_logical_table_name
from dr_infra.stack.provision import Stack, attach_monitor, provision
from dr_infra.stack.spec import StackSpec, monitor_timeout_for
from dr_infra.targets.base import Target
from dr_infra.targets.client_types import ClientSource


@dataclass
class Drill(Measures):
    """State of one scenario (function-scoped); its measuring methods are :class:`Measures`'."""

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
