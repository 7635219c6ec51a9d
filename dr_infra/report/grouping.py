"""Evidence grouped and counted for reading: one row per kind of thing, not one row per occurrence.

Why: a bulk delete of 500 items logs 500 near-identical monitor decisions, every posture scenario repeats the same
checks, and a LocalStack run skips a dozen scenarios for the same reason. A reader needs "restore_already_started x
499" with one example, "OK in 3 scenarios" and one skip reason with its scenario names; the journal keeps every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr_infra.report.fmt import compact, fmt_seconds
from dr_infra.report.model import ScenarioView


@dataclass
class DecisionGroup:
    """Change-monitor log lines with the same decision and event."""

    decision: str
    event: str
    count: int
    example: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.decision == "failed"


def decision_groups(lines: Sequence[Mapping[str, Any]]) -> list[DecisionGroup]:
    """Monitor log lines grouped by (decision, event), in first-seen order; distinct errors kept (up to 5)."""
    groups: dict[tuple[str, str], DecisionGroup] = {}
    for line in lines:
        key = (str(line.get("decision") or "-"), str(line.get("eventName") or "-"))
        group = groups.get(key)
        if group is None:
            group = groups[key] = DecisionGroup(key[0], key[1], 0, dict(line))
        group.count += 1
        error = line.get("error")
        if error and str(error) not in group.errors and len(group.errors) < 5:
            group.errors.append(str(error))
    return list(groups.values())


def word(value: Any) -> str:
    """``True``/``False`` as a reader says them."""
    text = compact(value)
    return {"True": "yes", "False": "no", "true": "yes", "false": "no"}.get(text, text)


@dataclass
class PostureGroup:
    """One posture check across every scenario that made it."""

    check: str
    expected: str
    ok: bool
    actuals: list[str]
    passed: list[tuple[str, str]]
    failed: list[tuple[str, str]]
    """(scenario name, anchor) of the scenarios where the check held / did not hold."""


def posture_groups(scenarios: Sequence[ScenarioView]) -> list[PostureGroup]:
    """Posture checks grouped by check and expectation; values in words (``yes`` for ``True``)."""
    groups: dict[tuple[str, str], PostureGroup] = {}
    for s in scenarios:
        for check in s.posture:
            key = (str(check.get("check") or "-"), word(check.get("expected")))
            group = groups.get(key)
            if group is None:
                group = groups[key] = PostureGroup(key[0], key[1], True, [], [], [])
            actual = word(check.get("actual"))
            if actual not in group.actuals:
                group.actuals.append(actual)
            if check.get("ok"):
                group.passed.append((s.name, s.anchor))
            else:
                group.ok = False
                group.failed.append((s.name, s.anchor))
    return sorted(groups.values(), key=lambda g: g.ok)


@dataclass
class SkipGroup:
    reason: str
    scenarios: list[tuple[str, str]]


def skip_groups(scenarios: Sequence[ScenarioView]) -> list[SkipGroup]:
    """Skipped scenarios grouped by their reason."""
    groups: dict[str, SkipGroup] = {}
    for s in scenarios:
        if s.status == "skipped":
            reason = s.skip_reason or "no reason recorded"
            groups.setdefault(reason, SkipGroup(reason, [])).scenarios.append((s.name, s.anchor))
    return list(groups.values())


_KEYS = ("rto_seconds", "rpo_seconds")


@dataclass(frozen=True)
class PolicyRow:
    guarantee: str
    strategy: str
    rto: str
    rpo: str


def _target(values: Mapping[str, Any], key: str, default: Any) -> str:
    value = values.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return fmt_seconds(value)
    if isinstance(default, int | float) and not isinstance(default, bool):
        return f"{fmt_seconds(default)} (default)"
    return "-"


def policy_rows(policy: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[PolicyRow]]:
    """The policy as (setting, value) facts and one targets row per guarantee and strategy.

    A guarantee's table without a strategy (``[guarantees.deletion]``) is "any strategy"; a target the file leaves
    out falls back to ``[defaults]`` and says so, instead of the dotted ``guarantees.deletion..rto_seconds``.
    """
    names = {"path": "File", "sha256": "SHA-256", "source": "Given as"}
    facts = [(label, str(policy[key])) for key, label in names.items() if policy.get(key)]
    backup = policy.get("backup") if isinstance(policy.get("backup"), Mapping) else {}
    assert isinstance(backup, Mapping)
    if backup.get("frequency_hours") is not None:
        facts.append(("Backups at least every", f"{backup['frequency_hours']:g} h"))
    if backup.get("retention_days") is not None:
        facts.append(("Recovery points kept", f"{backup['retention_days']} days"))
    if backup.get("job_timeout_seconds") is not None:
        facts.append(("Backup job may take", fmt_seconds(backup["job_timeout_seconds"])))
    defaults = policy.get("defaults") if isinstance(policy.get("defaults"), Mapping) else {}
    assert isinstance(defaults, Mapping)
    rows = [
        PolicyRow(
            "every other guarantee",
            "any",
            _target(defaults, "rto_seconds", None),
            _target(defaults, "rpo_seconds", None),
        )
    ]
    guarantees = policy.get("guarantees") if isinstance(policy.get("guarantees"), Mapping) else {}
    assert isinstance(guarantees, Mapping)
    for name, per in guarantees.items():
        if not isinstance(per, Mapping):
            continue
        base = per.get("") if isinstance(per.get(""), Mapping) else {}
        assert isinstance(base, Mapping)
        for strategy, values in per.items():
            if not isinstance(values, Mapping):
                continue
            if strategy == "" and all(v is None for v in values.values()) and len(per) > 1:
                continue  # an empty "any strategy" table the loader adds: the strategies' rows say it all
            fallback = {k: base.get(k) if base.get(k) is not None and strategy else defaults.get(k) for k in _KEYS}
            rows.append(
                PolicyRow(
                    str(name),
                    str(strategy) or "any",
                    _target(values, "rto_seconds", fallback["rto_seconds"]),
                    _target(values, "rpo_seconds", fallback["rpo_seconds"]),
                )
            )
    return facts, rows
