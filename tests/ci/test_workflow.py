"""The scheduled drill workflow lints clean and does what the README promises (issue 8)."""

from __future__ import annotations

import os
import re
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
    env = workflow["jobs"]["drill"]["env"]
    assert env["DRDRILL_ALLOWED_ACCOUNTS"] == "${{ vars.DRDRILL_ALLOWED_ACCOUNT }}"  # the allow-list, via env:
    assert "--history-dir history" in command
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
    # every figure the README gives for the role's MaxSessionDuration is the workflow's (troubleshooting too)
    figures = {int(n) for n in re.findall(r"MaxSessionDuration (?:of |to )?at least (\d+) seconds", readme)}
    assert figures == {duration}, figures


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


# -- issue 19: the drill runs with the plan's concurrency and finishes inside its timeout ------------------------
def _seconds(text: str) -> float:
    from dr_infra.app.plan_time import parse_duration

    seconds = parse_duration(text)
    assert seconds is not None
    return seconds


def _plan_script(workflow: dict[Any, Any]) -> str:
    step = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    return str(step["run"])


def _run_plan_step(workflow: dict[Any, Any], tmp_path: Path, shards: str) -> dict[str, str]:
    """The plan job's script, run here as the runner would (bash, jq, the drdrill beside this interpreter)."""
    if shutil.which("bash") is None or shutil.which("jq") is None:
        pytest.skip("bash and jq are needed to run the plan step's script")
    output = tmp_path / f"github_output_{shards}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "FEATURES": "features",
        "SHARDS": shards,
        "SELECT": "not scheduled_recovery_points",
        "MAX_DURATION": str(workflow["env"]["MAX_DURATION"]),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _plan_script(workflow)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)


def test_the_drill_job_runs_each_shard_with_the_workers_the_plan_computed(workflow: dict[Any, Any]) -> None:
    assert "drdrill plan" in _plan_script(workflow) and "--max-duration" in _plan_script(workflow)
    drill = workflow["jobs"]["drill"]
    assert drill["needs"] == "plan"
    assert drill["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    run = next(s for s in drill["steps"] if "drdrill run" in str(s.get("run", "")))
    assert run["env"]["WORKERS"] == "${{ matrix.shard.workers }}" and '-n "$WORKERS"' in run["run"]
    assert run["env"]["PATHS"] == "${{ join(matrix.shard.paths, ' ') }}" and "$PATHS" in run["run"]
    assert '--max-duration "$MAX_DURATION"' in run["run"]  # refused before anything if the estimate grew


def test_the_budget_leaves_a_margin_inside_the_drill_jobs_timeout(workflow: dict[Any, Any]) -> None:
    budget = _seconds(str(workflow["env"]["MAX_DURATION"]))
    assert 1.5 * budget <= _job_timeout_s(workflow)


@pytest.mark.parametrize("shards", ["1", "3"])
def test_the_plan_step_gives_shards_that_cover_the_features_and_fit_the_budget(
    workflow: dict[Any, Any], tmp_path: Path, shards: str
) -> None:
    import json

    outputs = _run_plan_step(workflow, tmp_path, shards)
    planned = json.loads(outputs["shards"])
    assert int(outputs["shard_count"]) == len(planned) == int(shards)
    budget = _seconds(str(workflow["env"]["MAX_DURATION"]))
    assert all(shard["estimate_s"] <= budget and shard["workers"] >= 1 for shard in planned)
    covered = sorted(path for shard in planned for path in shard["paths"])
    shipped = sorted(
        str(p.relative_to(REPO)) for p in (REPO / "features").rglob("*.feature") if "scheduled" not in p.name
    )
    assert covered == shipped  # every feature once (the 36-hour plan-cadence one is left out by SELECT)


def test_the_report_job_merges_the_shards_with_drdrill_report_merge(workflow: dict[Any, Any]) -> None:
    report = workflow["jobs"]["report"]
    assert set(report["needs"]) == {"plan", "drill"} and report["if"].startswith("always()")
    merge = next(s for s in report["steps"] if "drdrill report --merge" in str(s.get("run", "")))
    assert "continue-on-error" not in merge  # a violated merged verdict (exit 1) fails the job
    download = next(s for s in report["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    upload = next(s for s in workflow["jobs"]["drill"]["steps"] if str(s.get("uses", "")).startswith("actions/upload"))
    prefix = str(upload["with"]["name"]).rsplit("-", 1)[0]  # dr-report-<run id>-<shard>
    assert download["with"]["pattern"] == prefix + "-*"


def test_values_reach_run_steps_through_env_only(workflow: dict[Any, Any]) -> None:
    """An expression inside run: is spliced into the shell script before it runs (script injection)."""
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            assert "${{" not in str(step.get("run", "")), (name, step.get("name"))


def test_journals_are_kept_for_trends(workflow: dict[Any, Any]) -> None:
    steps = workflow["jobs"]["drill"]["steps"]
    uses = [str(s.get("uses", "")) for s in steps]
    restore = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/restore@"))
    save = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save@"))
    run = next(i for i, s in enumerate(steps) if "drdrill run" in str(s.get("run", "")))
    keep = next(i for i, s in enumerate(steps) if "history/" in str(s.get("run", "")))
    assert restore < run < keep < save and steps[save]["if"] == steps[keep]["if"] == "always()"
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == "history/"
    assert str(steps[restore]["with"]["restore-keys"]) == "dr-journals-"


def test_a_failed_scheduled_drill_opens_an_issue(workflow: dict[Any, Any]) -> None:
    alert = workflow["jobs"]["alert"]
    assert set(alert["needs"]) == {"plan", "drill", "report"}
    assert "github.event_name == 'schedule'" in alert["if"] and "failure" in alert["if"]
    assert alert["permissions"] == {"issues": "write"}  # only this job may write issues
    assert "issues" not in workflow["permissions"]
    assert any("gh issue create" in str(s.get("run", "")) for s in alert["steps"])
