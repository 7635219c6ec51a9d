"""``drdrill run --cucumberjson FILE``: pytest-bdd's Cucumber JSON, with each scenario's RTO and RPO embedded.

Why: Cucumber dashboards (Jenkins' cucumber-reports, Allure, ReportPortal) read the Cucumber JSON format and show a
step's embeddings; drdrill's verdict is the measures, not the steps' pass/fail. After the run, every scenario
element gets its journal figures twice: as an ``application/json`` embedding on its last step (what the tools
display; Cucumber's format carries embeddings as ``{"mime_type", "data": base64}`` on steps) and as a ``drdrill``
key on the element (for scripts). Elements are matched to the journal by feature file name and scenario line.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MIME = "application/json"


def _measure(raw: Any) -> dict[str, Any]:
    data = raw if isinstance(raw, Mapping) else {}
    return {key: data.get(key) for key in ("target_s", "measured_s", "met", "note")}


def scenario_measures(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """What a dashboard shows of one scenario: status, RTO and RPO, and the violations it expected."""
    evidence = scenario.get("evidence") if isinstance(scenario.get("evidence"), Mapping) else {}
    assert isinstance(evidence, Mapping)
    expected = evidence.get("expected_violation") or []
    return {
        "status": scenario.get("status"),
        "rto": _measure(scenario.get("rto")),
        "rpo": _measure(scenario.get("rpo")),
        "expected_violation": [e.get("measure") for e in expected if isinstance(e, Mapping)],
        "guarantee": scenario.get("guarantee"),
        "strategy": scenario.get("strategy"),
    }


def annotate(path: Path, journal: Mapping[str, Any]) -> int:
    """Add each scenario's measures to the Cucumber JSON at ``path``; return how many elements were matched."""
    features = json.loads(path.read_text(encoding="utf-8"))
    by_key: dict[tuple[str, int | None], Mapping[str, Any]] = {}
    for scenario in journal.get("scenarios") or []:
        if isinstance(scenario, Mapping):
            by_key[(Path(str(scenario.get("feature_file") or "")).name, scenario.get("line"))] = scenario
    matched = 0
    for feature in features if isinstance(features, list) else []:
        name = Path(str(feature.get("uri") or "")).name
        for element in feature.get("elements") or []:
            scenario = by_key.get((name, element.get("line")))
            if scenario is None:
                continue
            measures = scenario_measures(scenario)
            element["drdrill"] = measures
            steps = element.get("steps") or []
            if steps:
                data = base64.b64encode(json.dumps(measures, sort_keys=True).encode("utf-8")).decode("ascii")
                steps[-1].setdefault("embeddings", []).append({"mime_type": MIME, "data": data})
            matched += 1
    path.write_text(json.dumps(features, indent=2) + "\n", encoding="utf-8")
    return matched
