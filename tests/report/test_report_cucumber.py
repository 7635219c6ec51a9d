"""--cucumberjson: pytest-bdd's Cucumber JSON gets each scenario's RTO and RPO (matched by file and line)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from dr_infra.report.cucumber import MIME, annotate
from tests.report import journals


def test_each_scenario_element_gets_its_measures(tmp_path: Path) -> None:
    data = journals.as_dict(journals.violated_journal())
    first, second = data["scenarios"][0], data["scenarios"][1]
    first["line"], second["line"] = 5, 18
    step = {"keyword": "Then", "name": "x", "line": 9, "result": {"status": "failed"}}
    cucumber = [
        {
            "uri": first["feature_file"].split("/", 1)[1],  # pytest-bdd's uri is relative to its base folder
            "elements": [{"name": first["name"], "line": 5, "steps": [dict(step)]}],
        },
        {"uri": second["feature_file"], "elements": [{"name": "other", "line": 99, "steps": [dict(step)]}]},
    ]
    path = tmp_path / "cucumber.json"
    path.write_text(json.dumps(cucumber), encoding="utf-8")
    assert annotate(path, data) == 1
    written = json.loads(path.read_text(encoding="utf-8"))
    element = written[0]["elements"][0]
    assert element["drdrill"]["rto"] == {k: first["rto"][k] for k in ("target_s", "measured_s", "met", "note")}
    embedding = element["steps"][-1]["embeddings"][0]
    assert embedding["mime_type"] == MIME
    assert json.loads(base64.b64decode(embedding["data"]))["status"] == first["status"]
    assert "drdrill" not in written[1]["elements"][0]  # no journal scenario at that line: left as it was
