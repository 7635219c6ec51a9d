"""The scheduled drill workflow lints clean and does what the README promises (issue 8)."""

from __future__ import annotations

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


def test_workflow_validates_against_the_github_workflow_schema() -> None:
    """check-jsonschema ships SchemaStore's GitHub workflow schema (no network needed)."""
    pytest.importorskip("check_jsonschema", reason="dev extra check-jsonschema is not installed")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_runs_every_12_hours_and_on_demand(workflow: dict[Any, Any]) -> None:
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert len(crons) == 1
    minute, hour, *rest = crons[0].split()
    assert minute.isdigit() and hour == "*/12" and rest == ["*", "*", "*"]
    assert "workflow_dispatch" in triggers


def test_assumes_a_role_through_oidc(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["drill"]["steps"]
    creds = [s for s in steps if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
    assert len(creds) == 1
    assert "role-to-assume" in creds[0]["with"]
    assert "aws-access-key-id" not in creds[0]["with"]  # no long-lived keys


def test_runs_the_drill_with_the_policy_and_allow_list_and_uploads_the_report(
    workflow: dict[Any, Any],
) -> None:
    steps = workflow["jobs"]["drill"]["steps"]
    run = next(s for s in steps if "drdrill run" in str(s.get("run", "")))
    command = run["run"]
    assert "--target aws" in command
    assert "--policy policies/aws.toml" in command
    assert "--allow-account ${{ vars.DRDRILL_ALLOWED_ACCOUNT }}" in command
    assert "continue-on-error" not in run  # a violation (exit 1) fails the job
    assert (REPO / "policies" / "aws.toml").is_file()
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"
    assert steps.index(upload) > steps.index(run)


def _job_timeout_s(workflow: dict[Any, Any]) -> int:
    return int(workflow["jobs"]["drill"]["timeout-minutes"]) * 60


def test_the_assumed_role_session_outlasts_the_drill(workflow: dict[Any, Any]) -> None:
    """Credentials expiring mid-drill would fail teardown and leak resources; IAM allows 900 s to 12 h."""
    steps = workflow["jobs"]["drill"]["steps"]
    creds = next(s for s in steps if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"))
    duration = int(creds["with"]["role-duration-seconds"])
    assert _job_timeout_s(workflow) <= duration <= 43_200
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f"MaxSessionDuration of at least {duration} seconds" in readme


def _actionlint() -> str | None:
    """The actionlint binary: next to this interpreter (a pip-installed wrapper), else on PATH."""
    beside = Path(sys.executable).with_name("actionlint")
    if beside.is_file():
        return str(beside)
    return shutil.which("actionlint")


def test_workflow_lints_clean_with_actionlint() -> None:
    """actionlint checks what the schema cannot: expressions, action inputs, shell in run: steps."""
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (no binary next to the interpreter or on PATH)")
    try:
        version = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        pytest.skip(f"actionlint cannot run here: {exc}")
    if version.returncode != 0:
        pytest.skip(f"actionlint cannot run here: {(version.stderr or version.stdout).strip()[:200]}")
    done = subprocess.run(
        [binary, "-no-color", "-oneline", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
