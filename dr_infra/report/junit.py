"""junit.xml: one testcase per scenario, for CI dashboards (Jenkins, GitLab, GitHub test reporters).

Layout: ``<testsuites>`` with one ``<testsuite>`` per guarantee; each scenario is a ``<testcase>``
(classname = guarantee, name = scenario name) whose ``<properties>`` carry the RTO and RPO target and
measurement, the strategy and the target, so a dashboard can chart them. A violated scenario is a
``<failure>``, a broken or interrupted one an ``<error>``, a skipped one ``<skipped>`` with its reason.

Why extra "run" testcases for usage errors and leaks: both make the run's verdict fail, and a dashboard
that only saw green scenario testcases would hide that. They appear only when there is something to say.

Built with ElementTree so every journal string is escaped as XML requires.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dr_infra.report.files import write_atomically
from dr_infra.report.model import ScenarioView, build

FILENAME = "junit.xml"
RUN_CLASSNAME = "drdrill.run"

#: XML 1.0 forbids most control characters even escaped; AWS messages rarely hold them, but may.
_XML_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)], "\ufffd")


def _text(value: Any) -> str:
    return "" if value is None else str(value).translate(_XML_ILLEGAL)


def _number(value: float | None) -> str:
    """Seconds to millisecond precision without trailing zeros (``%g`` would round 123456.7 to 123457)."""
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def _properties(parent: ET.Element, values: Mapping[str, Any]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=_text(value))


def _testcase(suite: ET.Element, s: ScenarioView, target: str) -> str:
    """Append the scenario's testcase; return its outcome (passed, failure, error, skipped)."""
    case = ET.SubElement(suite, "testcase", classname=_text(s.guarantee), name=_text(s.name))
    case.set("time", _number(s.duration_s) or "0")
    if s.feature_file:
        case.set("file", _text(s.feature_file))  # relative to the run's root folder: the repository's path
    if s.line:
        case.set("line", str(s.line))
    _properties(
        case,
        {
            "rto_target_s": _number(s.rto.target_s),
            "rto_measured_s": _number(s.rto.measured_s),
            "rto_met": "" if s.rto.met is None else str(s.rto.met).lower(),
            "rpo_target_s": _number(s.rpo.target_s),
            "rpo_measured_s": _number(s.rpo.measured_s),
            "rpo_met": "" if s.rpo.met is None else str(s.rpo.met).lower(),
            "strategy": "" if s.strategy == "-" else s.strategy,
            "target": target,
            "scenario_id": s.id,
            # a chaos scenario's injected fault broke this measure on purpose and drdrill detected it: not a failure
            "expected_violation": ",".join(sorted(s.expected_measures)) if s.expected_violation else "",
        },
    )
    message = s.failure or f"scenario {s.status}"
    if s.status == "failed":
        element = ET.SubElement(case, "failure", message=_text(message), type="DRGuaranteeViolated")
        element.text = _text(_details(s))
        outcome = "failure"
    elif s.status in {"error", "interrupted"}:
        element = ET.SubElement(case, "error", message=_text(message), type=s.status)
        element.text = _text(_details(s))
        outcome = "error"
    elif s.status == "skipped":
        ET.SubElement(case, "skipped", message=_text(s.skip_reason or "skipped"))
        outcome = "skipped"
    else:
        outcome = "passed"
    if s.steps:
        out = ET.SubElement(case, "system-out")
        out.text = _text(
            "\n".join(
                f"{st.get('keyword', '')} {st.get('text', '')} [{st.get('status', '')}]"
                + (f": {st['error']}" if st.get("error") else "")
                for st in s.steps
            )
        )
    return outcome


def _details(s: ScenarioView) -> str:
    return "\n".join(
        line
        for line in (
            s.failure,
            f"RTO: measured {s.rto.measured}, target {s.rto.target} ({s.rto.verdict})",
            f"RPO: measured {s.rpo.measured}, target {s.rpo.target} ({s.rpo.verdict})",
            f"feature: {s.feature_file}" if s.feature_file else "",
        )
        if line
    )


def build_junit(data: Mapping[str, Any]) -> ET.Element:
    """The JUnit XML ``<testsuites>`` element for a journal dict."""
    view = build(data)
    root = ET.Element("testsuites", name=f"drdrill {view.run_id}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites: list[tuple[ET.Element, list[str]]] = []
    for guarantee in view.guarantees:
        suite = ET.SubElement(root, "testsuite", name=_text(guarantee.name))
        if view.started_at != "-":
            suite.set("timestamp", view.started_at)
        _properties(suite, {"run_id": view.run_id, "target": view.target_label, "run_status": view.status})
        outcomes = [_testcase(suite, s, view.target_label) for s in guarantee.scenarios]
        suites.append((suite, outcomes))
    problems = [("usage errors", "error", e) for e in view.usage_errors] + [
        ("no leaked resources", "failure", e) for e in view.leaks
    ]
    if problems:
        suite = ET.SubElement(root, "testsuite", name=RUN_CLASSNAME)
        outcomes = []
        for name in dict.fromkeys(n for n, _, _ in problems):
            kind = next(k for n, k, _ in problems if n == name)
            case = ET.SubElement(suite, "testcase", classname=RUN_CLASSNAME, name=name, time="0")
            lines = [m for n, _, m in problems if n == name]
            element = ET.SubElement(case, kind, message=_text(lines[0]), type=name.replace(" ", "-"))
            element.text = _text("\n".join(lines))
            outcomes.append(kind)
        suites.append((suite, outcomes))
    for suite, outcomes in suites:
        counts = {
            "tests": len(outcomes),
            "failures": outcomes.count("failure"),
            "errors": outcomes.count("error"),
            "skipped": outcomes.count("skipped"),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", _number(sum(float(c.get("time") or 0) for c in suite.iter("testcase"))) or "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _number(_float(data.get("duration_s"))) or "0")
    ET.indent(root)
    return root


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def write_junit(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``junit.xml`` into ``out_dir``."""
    path = out_dir / FILENAME
    buffer = io.BytesIO()
    ET.ElementTree(build_junit(data)).write(buffer, encoding="utf-8", xml_declaration=True)
    write_atomically(path, buffer.getvalue())
    return path
