"""The scheduled workflow can drill the deployed stack: DEPLOYED_STACK (the deployed_stack input, else
vars.DRDRILL_DEPLOYED_STACK) becomes --stack FILE or --stack-from cloudformation:NAME in both the plan and the drill
job, and the plan job's script then prints what the drill would touch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "dr-drill.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_deployed_stack_comes_from_the_input_or_the_variable_through_env(workflow: dict[Any, Any]) -> None:
    assert workflow["env"]["DEPLOYED_STACK"] == (
        "${{ github.event.inputs.deployed_stack || vars.DRDRILL_DEPLOYED_STACK }}"
    )
    assert "deployed_stack" in workflow[True]["workflow_dispatch"]["inputs"]  # YAML reads the key `on` as True
    run = next(s for s in workflow["jobs"]["drill"]["steps"] if "drdrill run" in str(s.get("run", "")))
    assert '"${stack[@]}"' in run["run"] and "--stack-from" in run["run"] and "${{" not in run["run"]


def _plan(workflow: dict[Any, Any], tmp_path: Path, deployed: str) -> str:
    if shutil.which("bash") is None or shutil.which("jq") is None:
        pytest.skip("bash and jq are needed to run the plan step's script")
    script = str(next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan")["run"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "FEATURES": "features/deletion",
        "SHARDS": "1",
        "SELECT": "not scheduled_recovery_points",
        "MAX_DURATION": str(workflow["env"]["MAX_DURATION"]),
        "DEPLOYED_STACK": deployed,
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "RUNNER_TEMP": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_plan_job_lists_what_a_drill_of_the_deployed_stack_touches(
    workflow: dict[Any, Any], tmp_path: Path
) -> None:
    definition = tmp_path / "staging.toml"
    definition.write_text('[deployed]\ntable = "orders"\n', encoding="utf-8")
    out = _plan(workflow, tmp_path, str(definition))
    assert 'deployed stack: {"table":"orders"' in out and "whose hash key starts with drdrill-" in out
    assert "deployed stack: " in _plan(workflow, tmp_path, "cloudformation:orders-staging")
    assert "deployed stack" not in _plan(workflow, tmp_path, "")
