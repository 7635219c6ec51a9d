"""The verdict: the one function that decides whether a scenario and a run met their DR guarantees.

Why one place: a report that says "met" while its own table records a violation is the worst defect drdrill can
have. The verdict is the measurements, not the steps a scenario happens to contain: a guarantee recorded as not
met (``rto``/``rpo`` ``met: false``, or a measure above its target) fails its scenario and the run unless the
scenario's own injected fault explains it (evidence ``expected_violation`` naming that measure). The plugin
stamps the journal's ``status`` with :func:`run_verdict`; the exit code, the HTML and Markdown banners, the
per-guarantee tables and junit.xml all read :func:`scenario_status` and :func:`run_verdict` on the journal
dict, so they cannot disagree, also when an older journal is re-rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

MEASURES = ("rto", "rpo")


class Verdict(StrEnum):
    """A run's verdict (the journal's top-level ``status``)."""

    MET = "met"
    VIOLATED = "violated"
    USAGE_ERROR = "usage-error"
    INTERRUPTED = "interrupted"
    NOT_MEASURED = "not-measured"
    RUNNING = "running"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def expected_measures(scenario: Mapping[str, Any]) -> set[str]:
    """The measures (``rto``/``rpo``) the scenario's injected fault was meant to violate."""
    evidence = scenario.get("evidence")
    entries = evidence.get("expected_violation") if isinstance(evidence, Mapping) else None
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        return set()
    return {str(e.get("measure")) for e in entries if isinstance(e, Mapping) and e.get("measure") in MEASURES}


def violated_measures(scenario: Mapping[str, Any]) -> dict[str, str]:
    """Every guarantee the scenario recorded as not met: ``{measure: one-line reason}``.

    A measure is violated when the journal says ``met: false``, or when a measured figure exceeds its target
    whatever ``met`` says (a hand-edited or older journal must not turn a violation into a pass).
    """
    found: dict[str, str] = {}
    for key in MEASURES:
        raw = scenario.get(key)
        measure = raw if isinstance(raw, Mapping) else {}
        target, measured = _number(measure.get("target_s")), _figure(measure)
        over = target is not None and measured is not None and measured > target
        if measure.get("met") is False or over:
            found[key] = describe_violation(key, measure)
    return found


def _figure(measure: Mapping[str, Any]) -> float | None:
    """The figure judged against the target: ``aws_equivalent_s`` (aws-scaled runs) when present, else measured."""
    aws = _number(measure.get("aws_equivalent_s"))
    return aws if aws is not None else _number(measure.get("measured_s"))


def describe_violation(key: str, measure: Mapping[str, Any]) -> str:
    """``RTO 5.300 s exceeds the target 2 s`` (or the recorded note when nothing was measured)."""
    target, measured = _number(measure.get("target_s")), _figure(measure)
    note = str(measure.get("note") or "").strip()
    if target is not None and measured is not None and measured > target:
        text = f"{key.upper()} {measured:.3f} s exceeds the target {target:g} s"
        wall = _number(measure.get("measured_s"))
        if _number(measure.get("aws_equivalent_s")) is not None and wall is not None:
            text = (
                f"{key.upper()} {measured:.0f} s AWS-equivalent ({wall:.3f} s measured under aws-scaled)"
                f" exceeds the target {target:g} s"
            )
        return f"{text} ({note})" if note else text
    return f"{key.upper()} not met: {note}" if note else f"{key.upper()} not met"


def unexpected_violations(scenario: Mapping[str, Any]) -> dict[str, str]:
    """Violations no injected fault of the scenario explains: these fail the scenario and the run."""
    expected = expected_measures(scenario)
    return {k: v for k, v in violated_measures(scenario).items() if k not in expected}


def scenario_status(scenario: Mapping[str, Any]) -> str:
    """The scenario's status as every report shows it: ``failed`` when it passed its steps but recorded a
    violation nobody expected, else the journal's own status (``passed``, ``failed``, ``error``, ...)."""
    status = str(scenario.get("status") or "error")
    if status == "passed" and unexpected_violations(scenario):
        return "failed"
    return status


def run_verdict(journal: Mapping[str, Any], *, interrupted: bool = False) -> Verdict:
    """The run's verdict from its journal dict (``Journal.to_dict()`` or a re-read ``report.json``).

    Order matters: a usage error means nothing was proven; an interrupted run is incomplete; then any
    violated, failed or errored scenario, or a leaked resource, makes the run violated; it is met only when
    at least one scenario passed; otherwise (all skipped) nothing was measured.
    """
    scenarios = [s for s in journal.get("scenarios") or [] if isinstance(s, Mapping)]
    statuses = [scenario_status(s) for s in scenarios]
    if journal.get("usage_errors"):
        return Verdict.USAGE_ERROR
    if interrupted or journal.get("status") == Verdict.INTERRUPTED or "interrupted" in statuses:
        return Verdict.INTERRUPTED
    if journal.get("status") == Verdict.RUNNING and journal.get("finished_at") is None:
        return Verdict.RUNNING
    if any(s in {"failed", "error"} for s in statuses) or journal.get("leaks"):
        return Verdict.VIOLATED
    if "passed" in statuses:
        return Verdict.MET
    return Verdict.NOT_MEASURED
