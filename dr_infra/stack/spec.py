"""What a DR stack is made of, declared once (the seed's stack, with its defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dr_infra.errors import ConfigError

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
    hash_key: str = "LockId"
    hash_key_type: str = "S"
    range_key: str | None = None
    range_key_type: str = "S"
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

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return schema

    def attribute_definitions(self) -> list[dict[str, str]]:
        defs = [{"AttributeName": self.hash_key, "AttributeType": self.hash_key_type}]
        if self.range_key:
            defs.append({"AttributeName": self.range_key, "AttributeType": self.range_key_type})
        return defs
