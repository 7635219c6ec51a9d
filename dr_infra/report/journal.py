"""The run journal: one JSON record of a run that every report renders from, and nothing else.

Like chaostoolkit's journal, it is a plain, versioned, serialisable document: the target and its
capabilities, the policy, and per scenario its steps, status, RTO and RPO (target vs measured, phase by
phase), evidence (restore job ids, recovery point ARNs, restore times, monitor log lines, diff summary),
posture checks, skips with their reasons, and cleanup results. Field names are a public contract
(documented in the README, schema ``drdrill-journal/1``): add fields, never rename them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dr_infra
from dr_infra.report.files import write_atomically
from dr_infra.report.verdict import run_verdict

SCHEMA = "drdrill-journal/1"
STATUSES = ("passed", "failed", "skipped", "error", "interrupted")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds, or ``None``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


@dataclass
class Phase:
    """One timed phase of a recovery (RTO is their sum from the harmful write to verified data)."""

    name: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None
    stream_record_at: str | None = None
    """First phase only: the harmful write's stream record ApproximateCreationDateTime (``started_at`` is the
    client clock)."""
    aws_equivalent_s: float | None = None
    """Under the embedded target's aws-scaled profile: the phase in AWS seconds (``duration_s`` / scale for a
    modelled AWS latency, as measured for the target's own work: :mod:`dr_infra.drill.aws_time`)."""


@dataclass
class Measure:
    """A target and what was measured against it."""

    target_s: float | None = None
    measured_s: float | None = None
    met: bool | None = None
    note: str | None = None
    phases: list[Phase] = field(default_factory=list)
    aws_equivalent_s: float | None = None
    """Under the embedded target's aws-scaled profile: the figure AWS would show (RPO ``measured_s`` / scale, RTO
    phase by phase, :mod:`dr_infra.drill.aws_time`); the
    target is judged against it (``None`` on every other run)."""

    @property
    def figure_s(self) -> float | None:
        """The figure judged against the target: the AWS equivalent when there is one, else the measurement."""
        return self.aws_equivalent_s if self.aws_equivalent_s is not None else self.measured_s

    def judge(self) -> None:
        """``met`` is only set when both a target and a measurement exist: no claim without a measure."""
        figure = self.figure_s
        if self.target_s is not None and figure is not None:
            self.met = figure <= self.target_s


@dataclass
class StepRecord:
    keyword: str
    text: str
    status: str
    duration_s: float | None = None
    error: str | None = None
    line: int | None = None
    """The step's line in its feature file."""


@dataclass
class ScenarioRecord:
    """Everything one scenario measured and saw."""

    id: str
    name: str
    feature: str
    feature_file: str
    guarantee: str
    tags: list[str] = field(default_factory=list)
    line: int | None = None
    """The ``Scenario:`` line in ``feature_file`` (which is relative to the run's root folder when inside it)."""
    strategy: str | None = None
    status: str = "passed"
    skip_reason: str | None = None
    failure: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    steps: list[StepRecord] = field(default_factory=list)
    rto: Measure = field(default_factory=Measure)
    rpo: Measure = field(default_factory=Measure)
    evidence: dict[str, Any] = field(default_factory=dict)
    posture: list[dict[str, Any]] = field(default_factory=list)
    cleanup: dict[str, Any] = field(default_factory=dict)

    def add_evidence(self, key: str, value: Any) -> None:
        """Append ``value`` to the evidence list ``key``."""
        self.evidence.setdefault(key, []).append(value)


@dataclass
class Journal:
    """The whole run."""

    run_id: str
    target: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    scenarios: list[ScenarioRecord] = field(default_factory=list)
    usage_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    schema: str = SCHEMA
    drdrill_version: str = dr_infra.__version__
    started_at: str | None = field(default_factory=lambda: iso(utcnow()))
    finished_at: str | None = None
    duration_s: float | None = None
    status: str = "running"
    argv: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    """Where the run came from: ``git`` (the features' repository commit) and ``ci`` (the CI run and actor)."""

    def finish(self, interrupted: bool = False) -> None:
        """Stamp the end and compute the run's status from its scenarios."""
        end = utcnow()
        self.finished_at = iso(end)
        if self.started_at:
            self.duration_s = round((end - datetime.fromisoformat(self.started_at)).total_seconds(), 3)
        self.status = self.verdict(interrupted)

    def verdict(self, interrupted: bool = False) -> str:
        """``met``, ``violated``, ``usage-error``, ``interrupted`` or ``not-measured``: decided by
        :func:`dr_infra.report.verdict.run_verdict` from the measurements, as every renderer decides it."""
        return str(run_verdict(self.to_dict(), interrupted=interrupted))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        order = ["schema", "run_id", "drdrill_version", "status", "started_at", "finished_at", "duration_s"]
        return {**{k: data[k] for k in order}, **{k: v for k, v in data.items() if k not in order}}

    def write(self, path: Path) -> Path:
        write_atomically(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        """Rebuild a journal (for ``drdrill report``); unknown fields are ignored, missing ones defaulted."""
        scenarios = []
        for raw in data.get("scenarios", []):
            record = dict(raw)
            record["steps"] = [StepRecord(**s) for s in record.get("steps", [])]
            for key in ("rto", "rpo"):
                measure = dict(record.get(key) or {})
                measure["phases"] = [Phase(**p) for p in measure.get("phases", [])]
                record[key] = Measure(**measure)
            known = ScenarioRecord.__dataclass_fields__
            scenarios.append(ScenarioRecord(**{k: v for k, v in record.items() if k in known}))
        top = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "scenarios"}
        return cls(scenarios=scenarios, **top)

    @classmethod
    def load(cls, path: Path) -> Journal:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
