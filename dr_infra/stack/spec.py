"""What a DR stack is made of, declared once (the seed's stack, with its defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dr_infra.errors import ConfigError
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.table_shape import DEFAULT_SHAPE, TableShape

STRATEGIES = ("backup", "pitr", "item")
DEFAULT_SCHEDULE = "cron(0 */12 * * ? *)"
DEFAULT_RETENTION_DAYS = 35
TRIGGER_EVENTS = ("INSERT", "MODIFY", "REMOVE")


def check_strategy(strategy: str) -> str:
    """Only the three documented strategies exist."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    return strategy


LAMBDA_MAX_TIMEOUT_S = 900


def monitor_timeout_for(pitr_lag_s: float, base: int = 60) -> int:
    """A Timeout long enough to wait out the PITR lag twice plus a minute, within Lambda's 15-minute cap.

    Failing the batch instead would rely on the mapping's retries outlasting the lag, which a bounded
    MaximumRetryAttempts does not guarantee.
    """
    return int(min(LAMBDA_MAX_TIMEOUT_S, max(base, 2 * pitr_lag_s + 60)))


@dataclass(frozen=True)
class StackSpec:
    """One protected table and everything that protects it."""

    logical_table: str = "orders"
    table: TableShape = DEFAULT_SHAPE
    """Keys, billing, TTL and indexes (default: the seed's ``LockId`` string key); from a definition's ``[table]``."""
    definition: StackDefinition | None = None
    """The user's stack definition file, when the scenario or the run names one (its monitor, plan, sample)."""
    strategy: str = "backup"
    trigger_events: tuple[str, ...] = TRIGGER_EVENTS
    schedule_expression: str = DEFAULT_SCHEDULE
    retention_days: int = DEFAULT_RETENTION_DAYS
    log_retention_days: int = 14
    function_timeout_s: int = 60
    """The monitor's Timeout. The pitr strategy waits inside one invocation until LatestRestorableDateTime
    reaches the change, so on a target where that lags by minutes the drill raises it (see
    :func:`monitor_timeout_for`)."""
    esm_batch_size: int = 100
    esm_max_retry_attempts: int = 3
    esm_max_record_age_s: int = 3600
    incident_window_s: int = 3600
    extra_environment: dict[str, str] = field(default_factory=dict)

    @property
    def user_monitor(self) -> bool:
        """Whether the change monitor is the user's own code (judged by what AWS shows, not by drdrill's log lines)."""
        definition = self.definition
        return definition is not None and (definition.monitor is not None or definition.deployed is not None)

    @property
    def deployed(self) -> bool:
        """Whether the stack exists already and is drilled in place (a ``[deployed]`` definition)."""
        return self.definition is not None and self.definition.deployed is not None

    def key_schema(self) -> list[dict[str, str]]:
        return self.table.key_schema()

    def attribute_definitions(self) -> list[dict[str, str]]:
        return self.table.attribute_definitions()

    @classmethod
    def from_definition(cls, definition: StackDefinition | None, **fields: object) -> StackSpec:
        """The spec of a stack built from ``definition`` (or the seed's, without one)."""
        if definition is None:
            return cls(**fields)  # type: ignore[arg-type]
        timeout = definition.monitor.timeout_seconds if definition.monitor else None
        extra: dict[str, object] = {"function_timeout_s": timeout} if timeout else {}
        return cls(**{"table": definition.table, "definition": definition, **extra, **fields})  # type: ignore[arg-type]
