"""``drdrill plan`` takes the environment defaults ``drdrill run`` takes (the option table's), so the plan of a CI job
that sets ``DRDRILL_EMBEDDED_PROFILE`` or ``DRDRILL_MAX_DURATION`` estimates the run that job would make (issue 13).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr_infra.app.cli import main
from dr_infra.bdd.options import OPTIONS
from tests.cli.conftest import run_drdrill

REPO = Path(__file__).resolve().parents[2]
DELETION = str(REPO / "features" / "deletion")


@pytest.fixture(autouse=True)
def _no_drill_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["plan", DELETION, "--target", "embedded", "--format", "json", *argv]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_the_profile_in_the_environment_is_the_one_estimated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    instant = _plan(capsys)
    flagged = _plan(capsys, "--embedded-profile", "aws-scaled")
    monkeypatch.setenv("DRDRILL_EMBEDDED_PROFILE", "aws-scaled")
    from_env = _plan(capsys)
    assert from_env["duration"]["timings"] == flagged["duration"]["timings"] != instant["duration"]["timings"]
    assert from_env["duration_estimate_s"] == flagged["duration_estimate_s"]
    assert from_env["duration_estimate_s"]["serial"] > 2 * instant["duration_estimate_s"]["serial"]


def test_the_budget_in_the_environment_is_the_one_fitted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _plan(capsys)["duration"]["budget_s"] is None
    monkeypatch.setenv("DRDRILL_MAX_DURATION", "90m")
    plan = _plan(capsys)
    assert plan["duration"]["budget_s"] == 5400
    assert plan["duration"]["workers_for_budget"] is not None and plan["duration"]["fits_budget"] is True


def test_a_flag_wins_over_the_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    instant = _plan(capsys)
    monkeypatch.setenv("DRDRILL_EMBEDDED_PROFILE", "aws-scaled")
    monkeypatch.setenv("DRDRILL_MAX_DURATION", "90m")
    plan = _plan(capsys, "--embedded-profile", "instant", "--max-duration", "2h")
    assert plan["duration"]["timings"] == instant["duration"]["timings"]
    assert plan["duration"]["budget_s"] == 7200


RESTORING = "A deleted item is restored from the latest recovery point"


def _estimates(plan: dict[str, Any]) -> dict[str, float]:
    return {s["name"]: float(s["estimate_s"]) for s in plan["run"]["scenario_list"]}


def test_the_scale_is_the_one_estimated(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """aws-scaled's restore wait is AWS's restore time times the scale: at 0.02 about twice that of 0.01 (the
    fixed costs, what the instant profile takes, aside)."""
    instant = _estimates(_plan(capsys))[RESTORING]
    default = _plan(capsys, "--embedded-profile", "aws-scaled")
    at_01 = _plan(capsys, "--embedded-profile", "aws-scaled", "--embedded-scale", "0.01")
    at_02 = _plan(capsys, "--embedded-profile", "aws-scaled", "--embedded-scale", "0.02")
    assert at_01["duration"]["timings"] == default["duration"]["timings"] == "embedded (aws-scaled x0.01)"
    assert at_02["duration"]["timings"] == "embedded (aws-scaled x0.02)"
    scaled_01 = _estimates(at_01)[RESTORING] - instant
    scaled_02 = _estimates(at_02)[RESTORING] - instant
    assert scaled_01 > 5  # a 20-minute restore is 12 s at 0.01
    assert scaled_02 == pytest.approx(2 * scaled_01, rel=0.15)
    assert at_02["duration_estimate_s"]["serial"] > at_01["duration_estimate_s"]["serial"]
    monkeypatch.setenv("DRDRILL_EMBEDDED_PROFILE", "aws-scaled")
    monkeypatch.setenv("DRDRILL_EMBEDDED_SCALE", "0.02")
    assert _plan(capsys)["duration_estimate_s"] == at_02["duration_estimate_s"]  # the environment's, as run takes it


def test_the_runs_own_estimate_takes_the_scale_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """``drdrill run --max-duration`` (and its default -n) estimates with the scale the run will use."""
    from dr_infra.app.parser import build_parser
    from dr_infra.app.plan import check_max_duration

    def estimate(scale: str) -> float | None:
        argv = ["run", DELETION, "--embedded-profile", "aws-scaled", "--embedded-scale", scale, "--max-duration", "10h"]
        return check_max_duration(build_parser().parse_args(argv))

    at_01, at_02 = estimate("0.01"), estimate("0.02")
    assert at_01 is not None and at_02 is not None and at_02 > at_01


@pytest.mark.parametrize(("value", "problem"), [("lots", "is not a number"), ("5", "is out of range")])
def test_a_bad_scale_flag_is_one_line_and_exit_2(tmp_path: Path, value: str, problem: str) -> None:
    argv = ["--embedded-profile", "aws-scaled", "--embedded-scale", value]
    result = run_drdrill("plan", DELETION, "--target", "embedded", *argv, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert len(result.error_lines) == 1, result.stderr
    assert result.error_lines[0].startswith("drdrill: --embedded-scale ") and problem in result.error_lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DRDRILL_EMBEDDED_PROFILE", "warp"), ("DRDRILL_MAX_DURATION", "soon"), ("DRDRILL_EMBEDDED_SCALE", "lots")],
)
def test_a_bad_value_in_the_environment_is_one_line_and_exit_2(tmp_path: Path, variable: str, value: str) -> None:
    result = run_drdrill("plan", DELETION, "--target", "embedded", cwd=tmp_path, env={variable: value})
    assert result.code == 2, result.stderr
    assert len(result.error_lines) == 1, result.stderr
    assert variable in result.error_lines[0] and repr(value) in result.error_lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_aws_scaled_off_the_embedded_target_is_refused_by_plan_as_by_run(
    tmp_path: Path, command: str, target: str
) -> None:
    """``drdrill plan`` refuses what ``drdrill run`` refuses, in the same words: a plan of a run that cannot start
    would estimate a rehearsal the real target never runs (aws runs at its own speed)."""
    result = run_drdrill(command, DELETION, "--target", target, "--embedded-profile", "aws-scaled", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert result.error_lines == [
        f"drdrill: --embedded-profile aws-scaled needs the embedded target, not {target} (which runs at its own speed)"
    ]
    assert result.stdout == ""


def test_aws_scaled_from_the_environment_is_refused_on_aws_too(tmp_path: Path) -> None:
    env = {"DRDRILL_EMBEDDED_PROFILE": "aws-scaled"}
    plan = run_drdrill("plan", DELETION, "--target", "aws", cwd=tmp_path, env=env)
    run = run_drdrill("run", DELETION, "--target", "aws", cwd=tmp_path, env=env)
    assert plan.code == run.code == 2
    assert len(plan.error_lines) == 1 and plan.error_lines == run.error_lines
    assert "needs the embedded target, not aws" in plan.error_lines[0]


def test_aws_scaled_on_the_embedded_target_is_planned(capsys: pytest.CaptureFixture[str]) -> None:
    assert _plan(capsys, "--embedded-profile", "aws-scaled")["duration"]["timings"] == "embedded (aws-scaled x0.01)"
    # and --target aws plans AWS's own timings when no profile is asked for
    assert main(["plan", DELETION, "--target", "aws", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["duration"]["timings"] != "embedded (aws-scaled x0.01)"
