"""What one drill costs on AWS: us-east-1 list prices, written down with their sources, and the arithmetic.

Kept apart from :mod:`dr_infra.app.plan` so a cost cap (issue 8) can call :func:`estimate_cost` without
printing anything. The prices are estimates: they are the public us-east-1 list prices as published on the
pages below (checked 2025), they exclude free tiers, taxes and data transfer, and AWS changes them; the
estimate says so wherever it is shown.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from dr_infra.errors import ConfigError
from dr_infra.stack.spec import DEFAULT_RETENTION_DAYS

DYNAMODB_PRICING_URL = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
BACKUP_PRICING_URL = "https://aws.amazon.com/backup/pricing/"
LAMBDA_PRICING_URL = "https://aws.amazon.com/lambda/pricing/"
PRICE_REGION = "us-east-1"
DAYS_PER_MONTH = 365 / 12
"""AWS bills GB-months; a month is taken as 365/12 days (730 hours) to prorate shorter periods."""
HOURS_PER_MONTH = DAYS_PER_MONTH * 24
KB_PER_GB = 1024 * 1024


@dataclass(frozen=True)
class UnitPrice:
    """One list price: what it is per, and the page that states it."""

    key: str
    list_usd: float
    """The price as the page states it: ``list_usd`` per ``per`` of ``unit``."""
    per: int
    unit: str
    source: str

    @property
    def usd(self) -> float:
        """The price of one ``unit``."""
        return self.list_usd / self.per

    def describe(self) -> str:
        """As the pricing page states it, e.g. ``$0.625 per 1,000,000 write request units``."""
        price = f"{self.list_usd:.10f}".rstrip("0").rstrip(".")
        return f"${price} per {self.per:,} {self.unit}" if self.per != 1 else f"${price} per {self.unit}"


PRICES: dict[str, UnitPrice] = {
    p.key: p
    for p in (
        UnitPrice("dynamodb_write_request", 0.625, 1_000_000, "write request units", DYNAMODB_PRICING_URL),
        UnitPrice("dynamodb_storage", 0.25, 1, "GB-month of table storage", DYNAMODB_PRICING_URL),
        UnitPrice("dynamodb_pitr", 0.20, 1, "GB-month of point-in-time recovery", DYNAMODB_PRICING_URL),
        UnitPrice("backup_storage", 0.10, 1, "GB-month of DynamoDB backup (warm)", BACKUP_PRICING_URL),
        UnitPrice("backup_restore", 0.15, 1, "GB restored (DynamoDB)", BACKUP_PRICING_URL),
        UnitPrice("lambda_request", 0.20, 1_000_000, "Lambda requests", LAMBDA_PRICING_URL),
        UnitPrice("lambda_gb_second", 0.0000166667, 1, "Lambda GB-second (x86)", LAMBDA_PRICING_URL),
    )
}


@dataclass(frozen=True)
class CostLine:
    """One line of the estimate: a quantity of a priced unit, and what it comes to."""

    item: str
    quantity: float
    unit: str
    unit_price_usd: float
    list_price: str
    usd: float
    source: str


def _line(item: str, price_key: str, quantity: float) -> CostLine:
    price = PRICES[price_key]
    return CostLine(item, quantity, price.unit, price.usd, price.describe(), quantity * price.usd, price.source)


def estimate_cost(
    table_gb: float,
    *,
    restores: int = 1,
    drill_hours: float = 1.0,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    item_kb: float = 1.0,
    lambda_invocations: int = 1_000,
    lambda_avg_ms: float = 200.0,
    lambda_memory_mb: int = 256,
) -> dict[str, Any]:
    """The estimated AWS cost of one drill on a table of ``table_gb`` GB, as a JSON-ready dict.

    Lines: seeding the table with on-demand writes (one write request unit per KB-rounded item), table
    storage for the source and each restored table during the drill, PITR for the drill's duration, the one
    recovery point kept ``retention_days`` days, the restores, and the change monitor's Lambda requests and
    duration. Returns ``{"total_usd", "lines", "assumptions", "region", "estimate", "note"}``.
    """
    if not (math.isfinite(table_gb) and table_gb > 0):
        raise ConfigError(f"--table-gb {table_gb!r} must be a positive number of gigabytes (e.g. 1 or 0.5)")
    if restores < 0 or drill_hours <= 0 or retention_days < 0 or item_kb <= 0:
        raise ConfigError("cost assumptions must be positive (restores, drill hours, retention days, item size)")
    write_units_per_item = max(1, int(-(-item_kb // 1)))  # DynamoDB rounds each write up to whole KB
    items = table_gb * KB_PER_GB / item_kb
    drill_months = drill_hours / HOURS_PER_MONTH
    lines = [
        _line("seed the table (on-demand writes)", "dynamodb_write_request", items * write_units_per_item),
        _line("table storage during the drill (source + restored)", "dynamodb_storage",
              table_gb * (1 + restores) * drill_months),
        _line("point-in-time recovery during the drill", "dynamodb_pitr", table_gb * drill_months),
        _line(f"recovery point kept {retention_days} days", "backup_storage",
              table_gb * retention_days / DAYS_PER_MONTH),
        _line("restores (per GB restored)", "backup_restore", table_gb * restores),
        _line("change monitor requests", "lambda_request", float(lambda_invocations)),
        _line("change monitor duration", "lambda_gb_second",
              lambda_invocations * lambda_avg_ms / 1000 * lambda_memory_mb / 1024),
    ]  # fmt: skip
    return {
        "estimate": True,
        "region": PRICE_REGION,
        "table_gb": table_gb,
        "total_usd": sum(line.usd for line in lines),
        "lines": [asdict(line) for line in lines],
        "assumptions": {
            "restores": restores,
            "drill_hours": drill_hours,
            "retention_days": retention_days,
            "item_kb": item_kb,
            "lambda_invocations": lambda_invocations,
            "lambda_avg_ms": lambda_avg_ms,
            "lambda_memory_mb": lambda_memory_mb,
            "days_per_month": round(DAYS_PER_MONTH, 4),
        },
        "sources": sorted({p.source for p in PRICES.values()}),
        "note": (
            f"estimate from {PRICE_REGION} list prices; excludes free tiers, taxes and data transfer; "
            "check the source pages for current prices"
        ),
    }


def estimate_run(scenarios: int, restoring: int, table_gb: float = 1.0) -> dict[str, Any]:
    """The estimated AWS cost of a whole run: one stack per scenario, a restore per restoring scenario.

    Every scenario pays :func:`estimate_cost` without a restore (its stack, seed, PITR, recovery point, monitor);
    each of the ``restoring`` scenarios adds one restore (the GB restored and the restored table's storage).
    ``drdrill plan`` prints this figure and the run's cost cap (:func:`dr_infra.stack.safety.check_cost`) compares
    against it, so the two always agree. Returns ``{"total_usd", "scenarios", "restoring", "per_drill_usd",
    "per_restore_usd", "table_gb", "estimate"}``.
    """
    if scenarios < 0 or not 0 <= restoring <= scenarios:
        raise ValueError(f"restoring scenarios ({restoring}) must be between 0 and the scenarios ({scenarios})")
    base = float(estimate_cost(table_gb, restores=0)["total_usd"])
    restore = float(estimate_cost(table_gb, restores=1)["total_usd"]) - base
    return {
        "estimate": True,
        "region": PRICE_REGION,
        "table_gb": table_gb,
        "scenarios": scenarios,
        "restoring": restoring,
        "per_drill_usd": base,
        "per_restore_usd": restore,
        "total_usd": scenarios * base + restoring * restore,
    }
