"""The report's view of a journal: plain words, grouped and counted, shared by the HTML and Markdown.

Why a separate view: the journal is a faithful record with stable field names, but a reader needs
verdicts in words, scenarios grouped by guarantee, numbers formatted and evidence normalised. Doing this
once here keeps the HTML and Markdown reports saying exactly the same thing. Everything is read with
``.get`` because journals come from older versions, interrupted runs and hand-edited files: a report must
render whatever it is given rather than fail when an auditor needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dr_infra.report.evidence_view import (
    KNOWN_EVIDENCE,
    _as_list,
    _dicts,
    _diffs,
    _number,
    _recovery_points,
    _throttles,
    evidence_lines,
    evidence_title,
    user_monitor,
)
from dr_infra.report.fmt import compact, fmt_seconds, fmt_time
from dr_infra.report.verdict import expected_measures, run_verdict, scenario_status, unexpected_violations
from dr_infra.report.words import EXPECTED_VIOLATION as EXPECTED_VIOLATION
from dr_infra.report.words import EXPECTED_VIOLATIONS_MET as EXPECTED_VIOLATIONS_MET
from dr_infra.report.words import GLOSSARY as GLOSSARY
from dr_infra.report.words import GUARANTEES as GUARANTEES
from dr_infra.report.words import SCENARIO_VERDICTS as SCENARIO_VERDICTS
from dr_infra.report.words import VERDICTS as VERDICTS
from dr_infra.report.words import guarantee_title as guarantee_title


@dataclass
class MeasureView:
    """An RTO or RPO in words."""

    target: str
    measured: str
    met: bool | None
    note: str
    phases: list[dict[str, Any]]
    target_s: float | None
    measured_s: float | None
    aws_equivalent_s: float | None = None
    """aws-scaled runs: AWS seconds (RPO measured / scale, RTO phase by phase), the figure judged against the
    target (shown beside the measurement)."""

    @property
    def verdict(self) -> str:
        """``within target`` / ``over target`` / ``not judged`` (no claim without both numbers)."""
        if self.met is None:
            return "not judged"
        return "within target" if self.met else "over target"


@dataclass
class ScenarioView:
    """One scenario as the reports show it."""

    anchor: str
    id: str
    name: str
    feature: str
    feature_file: str
    guarantee: str
    strategy: str
    status: str
    verdict: str
    tone: str
    failure: str
    skip_reason: str
    tags: list[str]
    duration: str
    duration_s: float | None
    rto: MeasureView
    rpo: MeasureView
    steps: list[dict[str, Any]]
    posture: list[dict[str, Any]]
    cleanup: dict[str, Any]
    restore_jobs: list[dict[str, Any]]
    recovery_points: list[dict[str, Any]]
    restore_times: list[str]
    monitor_log: list[dict[str, Any]]
    diffs: list[dict[str, Any]]
    throttles: dict[str, Any]
    notes: list[str]
    other_evidence: dict[str, Any]
    line: int | None = None
    """The ``Scenario:`` line in ``feature_file``."""
    expected_measures: set[str] = field(default_factory=set)
    """The measures (``rto``/``rpo``) the scenario's injected fault was meant to violate."""
    user_monitor: dict[str, Any] | None = None
    """A user's change monitor (its function, handler, its own log lines), ``None`` for drdrill's
    (:func:`~dr_infra.report.evidence_view.user_monitor`)."""

    @property
    def other_evidence_text(self) -> list[tuple[str, list[str]]]:
        """Evidence without a section of its own as (title, readable lines), e.g. the stack or the change."""
        return [(evidence_title(key), evidence_lines(value)) for key, value in self.other_evidence.items()]

    @property
    def expected_violation(self) -> bool:
        """The scenario injected a fault, and proved the RTO/RPO violation it causes is detected."""
        return (self.verdict, self.tone) == EXPECTED_VIOLATION

    @property
    def has_evidence(self) -> bool:
        return any(
            (
                self.restore_jobs,
                self.recovery_points,
                self.restore_times,
                self.monitor_log,
                self.diffs,
                self.throttles,
                self.notes,
                self.other_evidence,
            )
        )


@dataclass
class GuaranteeView:
    """The scenarios of one guarantee and its combined verdict."""

    name: str
    title: str
    description: str
    scenarios: list[ScenarioView] = field(default_factory=list)

    @property
    def verdict(self) -> tuple[str, str]:
        """(label, tone): violated if any scenario failed, met if any passed, else skipped."""
        statuses = {s.status for s in self.scenarios}
        if "failed" in statuses:
            return "Violated", "bad"
        if "error" in statuses:
            return "Error", "bad"
        if "interrupted" in statuses:
            return "Interrupted", "warn"
        if "passed" in statuses:
            return "Met", "good"
        return "Not measured", "neutral"


@dataclass
class ReportView:
    """The whole report."""

    run_id: str
    status: str
    headline: str
    explanation: str
    tone: str
    counts: dict[str, int]
    target: dict[str, Any]
    target_label: str
    capabilities: list[str]
    policy: dict[str, Any]
    guarantees: list[GuaranteeView]
    scenarios: list[ScenarioView]
    skipped: list[ScenarioView]
    posture: list[dict[str, Any]]
    usage_errors: list[str]
    leaks: list[str]
    started_at: str
    finished_at: str
    started: str
    finished: str
    duration: str
    version: str
    schema: str
    argv: list[str]
    glossary: list[tuple[str, str]] = field(default_factory=lambda: list(GLOSSARY))

    @property
    def counts_line(self) -> str:
        """``3 met, 1 violated, 2 skipped of 6 scenarios``."""
        parts = [
            f"{self.counts[key]} {label}"
            for key, label in (
                ("passed", "met"),
                ("failed", "violated"),
                ("error", "errored"),
                ("interrupted", "interrupted"),
                ("skipped", "skipped"),
            )
            if self.counts.get(key)
        ]
        total = self.counts.get("total", 0)
        noun = "scenario" if total == 1 else "scenarios"
        return f"{', '.join(parts) or 'none run'} of {total} {noun}"


def _measure(raw: Any) -> MeasureView:
    data = raw if isinstance(raw, Mapping) else {}
    target_s = data.get("target_s")
    measured_s = data.get("measured_s")
    met = data.get("met")
    phases = [{**p, "duration": fmt_seconds(p.get("duration_s"))} for p in _dicts(data.get("phases")) if p]
    aws = _number(data.get("aws_equivalent_s"))
    measured = fmt_seconds(measured_s)
    if aws is not None:
        measured = f"{measured} (AWS-equivalent {fmt_seconds(aws)})"
    return MeasureView(
        aws_equivalent_s=aws,
        target=fmt_seconds(target_s),
        measured=measured,
        met=met if isinstance(met, bool) else None,
        note=str(data.get("note") or ""),
        phases=phases,
        target_s=_number(target_s),
        measured_s=_number(measured_s),
    )


def scenario_view(raw: Mapping[str, Any], index: int) -> ScenarioView:
    """One journal scenario as the reports show it."""
    status = scenario_status(raw)
    verdict, tone = SCENARIO_VERDICTS.get(status, (status.capitalize(), "warn"))
    failure = str(raw.get("failure") or "") or "; ".join(unexpected_violations(raw).values())
    evidence = raw.get("evidence") if isinstance(raw.get("evidence"), Mapping) else {}
    assert isinstance(evidence, Mapping)
    if status == "passed" and evidence.get("expected_violation"):
        verdict, tone = EXPECTED_VIOLATION
    cleanup = raw.get("cleanup")
    return ScenarioView(
        anchor=f"scenario-{index + 1}",
        id=str(raw.get("id") or ""),
        name=str(raw.get("name") or raw.get("id") or f"scenario {index + 1}"),
        feature=str(raw.get("feature") or ""),
        feature_file=str(raw.get("feature_file") or ""),
        guarantee=str(raw.get("guarantee") or "other"),
        strategy=str(raw.get("strategy") or "-"),
        status=status,
        verdict=verdict,
        tone=tone,
        failure=failure,
        skip_reason=str(raw.get("skip_reason") or ""),
        tags=[str(t) for t in _as_list(raw.get("tags"))],
        duration=fmt_seconds(raw.get("duration_s")),
        duration_s=_number(raw.get("duration_s")),
        rto=_measure(raw.get("rto")),
        rpo=_measure(raw.get("rpo")),
        steps=_dicts(raw.get("steps")),
        posture=_dicts(raw.get("posture")),
        cleanup=dict(cleanup) if isinstance(cleanup, Mapping) else {},
        restore_jobs=[
            {**job, "duration": fmt_seconds(job.get("duration_s"))} for job in _dicts(evidence.get("restore_jobs"))
        ],
        recovery_points=_recovery_points(evidence.get("recovery_points")),
        restore_times=[compact(t) for t in _as_list(evidence.get("restore_times"))],
        monitor_log=[{**line, "keys_text": compact(line.get("keys"))} for line in _dicts(evidence.get("monitor_log"))],
        diffs=_diffs(evidence.get("diff")),
        throttles=_throttles(evidence.get("throttles")),
        notes=[compact(n) for n in _as_list(evidence.get("notes"))],
        other_evidence={k: v for k, v in evidence.items() if k not in KNOWN_EVIDENCE},
        expected_measures=expected_measures(raw),
        user_monitor=user_monitor(evidence),
        line=raw.get("line") if isinstance(raw.get("line"), int) and not isinstance(raw.get("line"), bool) else None,
    )


def target_label(target: Mapping[str, Any]) -> str:
    """``aws (eu-west-1)``: the target a run was measured on."""
    name = str(target.get("name") or "unknown target")
    region = target.get("region")
    return f"{name} ({region})" if region else name


def build(data: Mapping[str, Any]) -> ReportView:
    """The report view of a journal dict (as written by ``Journal.to_dict``, possibly redacted)."""
    raw_scenarios = [s for s in _as_list(data.get("scenarios")) if isinstance(s, Mapping)]
    scenarios = [scenario_view(s, i) for i, s in enumerate(raw_scenarios)]
    groups: dict[str, GuaranteeView] = {}
    for scenario in scenarios:
        name = scenario.guarantee
        if name not in groups:
            description = GUARANTEES.get(name, ("", ""))[1]
            groups[name] = GuaranteeView(name, guarantee_title(name), description)
        groups[name].scenarios.append(scenario)
    counts = {key: sum(1 for s in scenarios if s.status == key) for key in SCENARIO_VERDICTS}
    counts["total"] = len(scenarios)
    status = str(run_verdict(data))
    headline, explanation, tone = VERDICTS.get(
        status, (f"Run status: {status}", "This status is not one drdrill knows.", "warn")
    )
    expected = sum(1 for s in scenarios if s.expected_violation)
    if status == "met" and expected:
        explanation = EXPECTED_VIOLATIONS_MET.format(count=expected, s="" if expected == 1 else "s")
    target = data.get("target") if isinstance(data.get("target"), Mapping) else {}
    assert isinstance(target, Mapping)
    policy = data.get("policy") if isinstance(data.get("policy"), Mapping) else {}
    assert isinstance(policy, Mapping)
    posture = [{**check, "scenario": s.name, "anchor": s.anchor} for s in scenarios for check in s.posture]
    return ReportView(
        run_id=str(data.get("run_id") or "unknown run"),
        status=status,
        headline=headline,
        explanation=explanation,
        tone=tone,
        counts=counts,
        target=dict(target),
        target_label=target_label(target),
        capabilities=[str(c) for c in _as_list(target.get("capabilities"))],
        policy=dict(policy),
        guarantees=list(groups.values()),
        scenarios=scenarios,
        skipped=[s for s in scenarios if s.status == "skipped"],
        posture=posture,
        usage_errors=[compact(e) for e in _as_list(data.get("usage_errors"))],
        leaks=[compact(e) for e in _as_list(data.get("leaks"))],
        started_at=str(data.get("started_at") or "-"),
        finished_at=str(data.get("finished_at") or "-"),
        started=fmt_time(data.get("started_at")),
        finished=fmt_time(data.get("finished_at")),
        duration=fmt_seconds(data.get("duration_s")),
        version=str(data.get("drdrill_version") or "-"),
        schema=str(data.get("schema") or "-"),
        argv=[str(a) for a in _as_list(data.get("argv"))],
    )
