"""The DR policy: RTO and RPO targets per guarantee and strategy, expected backup frequency and retention.

A TOML file (``--dr-policy`` / ``DRDRILL_POLICY``) parameterises the scenarios and the posture checks::

    [backup]
    frequency_hours = 12
    retention_days = 35

    [defaults]
    rto_seconds = 120
    rpo_seconds = 60

    [guarantees.deletion.pitr]      # guarantee = the feature folder, then the strategy
    rto_seconds = 60
    rpo_seconds = 2

Lookup order for a scenario: ``guarantees.<guarantee>.<strategy>``, ``guarantees.<guarantee>``,
``defaults``. A scenario's own "Given the DR policy requires ..." step overrides all of them.
A malformed file gives one line naming the file and the key.

Without a file, the target picks the policy: ``policies/aws.toml`` (what real AWS can meet: restores take
20 minutes or more) on the aws target, ``policies/embedded.toml`` elsewhere. Scenarios that take their time
limits from the policy ("within the DR policy's RTO") therefore run unchanged on every target.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError

NUMBER_KEYS = ("rto_seconds", "rpo_seconds")


@dataclass(frozen=True)
class Targets:
    rto_seconds: float | None = None
    rpo_seconds: float | None = None


@dataclass(frozen=True)
class Policy:
    """A parsed, validated policy."""

    source: str | None = None
    frequency_hours: float = 12
    retention_days: int = 35
    backup_job_timeout_seconds: float = 300
    defaults: Targets = field(default_factory=Targets)
    guarantees: dict[str, dict[str, Targets]] = field(default_factory=dict)

    def targets_for(self, guarantee: str, strategy: str | None) -> Targets:
        per_guarantee = self.guarantees.get(guarantee, {})
        for key in (strategy or "", ""):
            if key in per_guarantee:
                found = per_guarantee[key]
                return Targets(
                    found.rto_seconds if found.rto_seconds is not None else self.defaults.rto_seconds,
                    found.rpo_seconds if found.rpo_seconds is not None else self.defaults.rpo_seconds,
                )
        return self.defaults

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "backup": {
                "frequency_hours": self.frequency_hours,
                "retention_days": self.retention_days,
                "job_timeout_seconds": self.backup_job_timeout_seconds,
            },
            "defaults": vars(self.defaults),
            "guarantees": {g: {s: vars(t) for s, t in per.items()} for g, per in self.guarantees.items()},
        }


MAX_POLICY_SECONDS = 31_536_000
"""Largest target a policy may declare (a year): beyond it a number is a typo, and NaN or infinity (TOML's
``nan``/``inf``, or 1e400) would pass every comparison and break every formatter downstream."""


def _finite(value: Any, limit: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value <= limit


def _number(where: str, key: str, value: Any, source: str) -> float:
    if not _finite(value, MAX_POLICY_SECONDS) or value < 0:
        raise ConfigError(
            f"{source}: {where}{key} must be a non-negative number of seconds up to {MAX_POLICY_SECONDS:,} "
            f"(a year), got {value!r}"
        )
    return float(value)


def _targets(table: Any, where: str, source: str) -> Targets:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{where.rstrip('.')}] must be a table")
    unknown = [k for k in table if k not in NUMBER_KEYS and not isinstance(table[k], dict)]
    if unknown:
        raise ConfigError(f"{source}: unknown key {where}{unknown[0]} (allowed: {', '.join(NUMBER_KEYS)})")
    values = {k: _number(where, k, table[k], source) for k in NUMBER_KEYS if k in table}
    return Targets(**values)


def parse_policy(data: dict[str, Any], source: str = "<policy>") -> Policy:
    """Validate a policy document (already parsed from TOML)."""
    allowed = {"backup", "defaults", "guarantees"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}] (allowed: {', '.join(sorted(allowed))})")
    frequency, retention, job_timeout = _backup_section(data.get("backup", {}), source)
    guarantees = _guarantees_section(data.get("guarantees", {}), source)  # its errors come before [defaults]'s
    return Policy(
        source=source,
        frequency_hours=float(frequency),
        retention_days=retention,
        backup_job_timeout_seconds=float(job_timeout),
        defaults=_targets(data.get("defaults", {}), "defaults.", source),
        guarantees=guarantees,
    )


def _backup_section(backup: Any, source: str) -> tuple[Any, int, Any]:
    """``[backup]``: (frequency_hours, retention_days, job_timeout_seconds), each checked, defaults filled in."""
    if not isinstance(backup, dict):
        raise ConfigError(f"{source}: [backup] must be a table")
    unknown_backup = sorted(set(backup) - {"frequency_hours", "retention_days", "job_timeout_seconds"})
    if unknown_backup:
        raise ConfigError(
            f"{source}: unknown key backup.{unknown_backup[0]} "
            "(allowed: frequency_hours, retention_days, job_timeout_seconds)"
        )
    frequency = backup.get("frequency_hours", 12)
    retention = backup.get("retention_days", 35)
    job_timeout = backup.get("job_timeout_seconds", 300)
    if not _finite(job_timeout, MAX_POLICY_SECONDS) or job_timeout <= 0:
        raise ConfigError(f"{source}: backup.job_timeout_seconds must be a positive number, got {job_timeout!r}")
    if not _finite(frequency, 24 * 365) or frequency <= 0:
        raise ConfigError(f"{source}: backup.frequency_hours must be a positive number, got {frequency!r}")
    if isinstance(retention, bool) or not isinstance(retention, int) or not 0 < retention <= 36_500:
        raise ConfigError(f"{source}: backup.retention_days must be a positive whole number, got {retention!r}")
    return frequency, retention, job_timeout


def _guarantees_section(raw_guarantees: Any, source: str) -> dict[str, dict[str, Targets]]:
    """``[guarantees.NAME]`` and ``[guarantees.NAME.STRATEGY]``: each guarantee's targets ("" for any strategy)."""
    if not isinstance(raw_guarantees, dict):
        raise ConfigError(f"{source}: [guarantees] must be a table")
    guarantees: dict[str, dict[str, Targets]] = {}
    for name, table in raw_guarantees.items():
        per: dict[str, Targets] = {"": _targets(table, f"guarantees.{name}.", source)}
        for strategy, sub in table.items():
            if isinstance(sub, dict):
                if strategy not in {"backup", "pitr", "item"}:
                    raise ConfigError(
                        f"{source}: guarantees.{name}.{strategy}: unknown strategy (use backup, pitr or item)"
                    )
                per[strategy] = _targets(sub, f"guarantees.{name}.{strategy}.", source)
        guarantees[name] = per
    return guarantees


def policies_dir() -> Path:
    """The policies shipped with drdrill (the source checkout's, or the wheel's bundled copy)."""
    here = Path(__file__).resolve().parents[1]  # dr_infra/
    for candidate in (here.parent / "policies", here / "_bundled" / "policies"):
        if (candidate / "embedded.toml").is_file():
            return candidate
    raise ConfigError("cannot find drdrill's shipped policies; pass one with --policy")


def default_policy_path(target: str | None = None) -> Path:
    """The shipped policy a target uses when none is given: real-AWS timings for aws, embedded ones elsewhere."""
    return policies_dir() / ("aws.toml" if target == "aws" else "embedded.toml")


def load_policy(path: str | Path | None, target: str | None = None) -> Policy:
    """Read and validate a policy file; ``None`` gives the shipped default policy for ``target``."""
    if path is None:
        return _read(default_policy_path(target), source=None)
    return _read(Path(path), source=str(path))


def _read(file: Path, source: str | None) -> Policy:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {file}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    policy = parse_policy(data, str(file))
    if source is None:  # a shipped default: say which one in the journal
        return replace(policy, source=f"(default) {file.name}")
    return policy
