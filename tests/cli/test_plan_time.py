"""``drdrill plan`` estimates the run's wall time and marks what a target skips; ``run --max-duration`` refuses
a run whose estimate exceeds the budget before anything is touched (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from dr_infra.app.cli import main
from dr_infra.app.plan_time import AWS_TIMINGS, makespan, scenario_seconds
from dr_infra.targets.embedded.server import EmbeddedServer

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"


@pytest.fixture(autouse=True)
def _no_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Touching nothing: building any boto3 client, or starting the embedded server, fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a client or server was started: {args} {kwargs}")

    monkeypatch.setattr(boto3.Session, "client", refuse)
    monkeypatch.setattr(boto3, "client", refuse)
    monkeypatch.setattr(EmbeddedServer, "start", refuse)


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["plan", "--target", "embedded", "--format", "json", *argv]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _rows(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in plan["run"]["scenario_list"]}


def test_json_carries_the_estimate_contract_and_a_skip_mark_on_every_scenario(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = _plan(capsys, "--target", "aws", "-n", "4")
    estimate = plan["duration_estimate_s"]
    assert set(estimate) >= {"serial", "concurrent", "workers"} and estimate["workers"] == 4
    assert 0 < estimate["concurrent"] < estimate["serial"]
    rows = plan["run"]["scenario_list"]
    assert rows and all("skipped_on_target" in row for row in rows)
    running = [row for row in rows if row["estimate_s"] > 0]  # a skip after provisioning still costs its stack
    overhead = AWS_TIMINGS.run_overhead_s  # the run's own start and report
    assert estimate["serial"] == pytest.approx(sum(row["estimate_s"] for row in running) + overhead, abs=0.2)
    assert plan["duration"]["slowest_drill_s"] == pytest.approx(max(row["estimate_s"] for row in running), abs=0.1)
    assert any("repost.aws/knowledge-center/dynamodb-restore-taking-long" in url for url in plan["duration"]["sources"])


def test_aws_skips_exactly_the_chaos_scenarios_with_the_reason_and_embedded_skips_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws = _rows(_plan(capsys, "--target", "aws"))
    fault_steps = ("restore jobs ", "starting a restore is denied", "operation is throttled", "invocation")
    chaos: set[str] = set()
    for path in sorted(FEATURES.rglob("*.feature")):
        for block in path.read_text(encoding="utf-8").split("Scenario: ")[1:]:
            name, _, body = block.partition("\n")
            givens = [line.strip() for line in body.splitlines() if line.strip().startswith(("Given", "And"))]
            if any(fault in line for line in givens for fault in fault_steps if "Then" not in line):
                chaos.add(name.strip())
    assert len(chaos) == 9  # 11 restore_faults scenarios; 2 need no fault switch (no backup yet, disabled mapping)
    for name, row in aws.items():
        if name in chaos:
            assert row["skipped_on_target"] is not None, name
            assert row["skipped_on_target"].startswith("target aws lacks ")
            assert "fault switches" in row["skipped_on_target"]
            assert row["estimate_s"] == 0.0
        elif "scheduled recovery point" not in name:  # that one skips after provisioning (its own test)
            assert row["skipped_on_target"] is None, (name, row["skipped_on_target"])
    throttled = aws["Throttled DescribeTable calls are retried and the drill passes"]["skipped_on_target"]
    assert throttled == "target aws lacks restore_faults: throttling needs the embedded target's fault switches"
    embedded = _plan(capsys, "--target", "embedded")
    assert all(row["skipped_on_target"] is None for row in embedded["run"]["scenario_list"])
    assert embedded["run"]["skipped"] == 0 and _plan(capsys, "--target", "aws")["run"]["skipped"] == 9 + 1


def test_the_estimate_follows_aws_documented_durations(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(_plan(capsys, "--target", "aws", str(FEATURES / "deletion")))
    backup = rows["A deleted item is restored from the latest recovery point"]["estimate_s"]
    pitr = rows["Deleted items are restored to the second before the deletion"]["estimate_s"]
    item = rows["Deleted items are repaired in place"]["estimate_s"]
    floor, lag, job = AWS_TIMINGS.restore_s, AWS_TIMINGS.pitr_lag_s, AWS_TIMINGS.backup_job_s
    assert (floor, lag) == (1200.0, 300.0)  # 20 minutes; LatestRestorableDateTime ~5 minutes behind
    assert backup >= floor + 2 * job  # two recovery points, then a restore
    assert pitr >= floor + lag  # the pitr strategy waits for the restorable window to pass the change
    assert item < floor / 2  # repaired in place: no restore
    steps = [("given", 'a DR-protected table "t" with 10 items'), ("when", "1 item is deleted"),
             ("then", "a restore job completes within the DR policy's RTO")]  # fmt: skip
    slower = [steps[0], ("given", "restore jobs take 600 seconds"), *steps[1:]]
    assert scenario_seconds(slower, AWS_TIMINGS) - scenario_seconds(steps, AWS_TIMINGS) == pytest.approx(600 - floor)


def test_concurrency_is_bounded_by_the_slowest_drill_and_the_aws_quota(capsys: pytest.CaptureFixture[str]) -> None:
    durations = [1800.0, 1500.0, 100.0, 100.0]
    overhead = AWS_TIMINGS.run_overhead_s
    assert makespan(durations, 1, AWS_TIMINGS) == pytest.approx(sum(durations) + overhead, abs=0.1)
    assert makespan(durations, 4, AWS_TIMINGS) >= 1800.0 + overhead  # never below the slowest drill
    assert makespan(durations, 2, AWS_TIMINGS) < makespan(durations, 1, AWS_TIMINGS)
    plan = _plan(capsys, "--target", "aws", "-n", "500")
    assert plan["duration"]["max_workers"] == 50  # 50 concurrent restores per account
    assert "50 concurrent restores" in plan["duration"]["max_workers_why"]


SELECT = ("-k", "not scheduled_recovery_points")
"""What the scheduled workflow runs on AWS: all but the scenario that waits for 3 real 12-hourly plan runs."""


def test_max_duration_prints_the_fewest_workers_that_fit(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(capsys, "--target", "aws", *SELECT, "--max-duration", "60m")
    fit = plan["duration"]["workers_for_budget"]
    assert plan["duration"]["fits_budget"] is True and plan["duration_estimate_s"]["workers"] == fit
    assert plan["duration_estimate_s"]["concurrent"] <= 3600
    fewer = _plan(capsys, "--target", "aws", *SELECT, "-n", str(fit - 1))
    assert fewer["duration_estimate_s"]["concurrent"] > 3600
    assert main(["plan", "--target", "aws", *SELECT, "--max-duration", "10m"]) == 0
    out = capsys.readouterr().out
    assert "does NOT fit --max-duration 10m 00s" in out  # a budget below the slowest drill


def test_waiting_for_the_backup_plans_own_runs_is_a_skip_on_aws_before_provisioning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On AWS 'the backup plan has run 3 times' waits for 3 real runs 12 hours apart, longer than the policy's
    backup.job_timeout_seconds, so the scenario is skipped before its first step (dr_infra.drill.plan_runs): no
    stack, no time."""
    plan = _plan(capsys, "--target", "aws", str(FEATURES / "plan_rpo"))
    (row,) = _rows(plan).values()
    assert row["skipped_on_target"].startswith("waiting for 3 more runs of the stack's new backup plan")
    assert "backup.job_timeout_seconds of 3600 s" in row["skipped_on_target"]
    assert row["estimate_s"] == 0 and plan["run"]["stacks"] == 0
    (embedded,) = _rows(_plan(capsys, "--target", "embedded", str(FEATURES / "plan_rpo"))).values()
    assert embedded["skipped_on_target"] is None and embedded["estimate_s"] < 60  # the plan clock is advanced


@pytest.mark.parametrize("bad", ["soon", "-5m", "0", "10x"])
def test_a_bad_budget_is_one_line(capsys: pytest.CaptureFixture[str], bad: str) -> None:
    assert main(["plan", "--target", "embedded", f"--max-duration={bad}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--max-duration" in err and "e.g. 60m" in err


def test_run_refuses_a_run_over_its_budget_before_any_aws_call(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--target", "aws", "--allow-account", "111111111111", *SELECT, "--max-duration", "60m", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "exceeds --max-duration 1h 00m" in err and "use -n " in err and "-n 1" in err


def test_run_refuses_on_the_embedded_target_too_and_names_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(FEATURES / "deletion"), "--max-duration", "1s", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "exceeds --max-duration 1 s" in err, err


def test_the_aws_scaled_rehearsal_skips_what_aws_skips_and_waits_scaled_floors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws = _rows(_plan(capsys, "--target", "aws"))
    scaled = _plan(capsys, "--target", "embedded", "--embedded-profile", "aws-scaled")
    rows = _rows(scaled)

    def lacking(found: dict[str, dict[str, Any]]) -> set[str]:
        """Skipped for a capability the target lacks (the rehearsal has no fault switches, as aws)."""
        return {n for n, r in found.items() if r["skipped_on_target"] and " lacks " in r["skipped_on_target"]}

    assert lacking(rows) == lacking(aws)
    # aws waits for the plan's own runs, hours apart, and skips; the rehearsal advances the plan clock and runs it
    plan_cadence = "Deleted items are restored from the plan's newest scheduled recovery point"
    assert aws[plan_cadence]["skipped_on_target"].startswith("waiting for 3 more runs")
    assert rows[plan_cadence]["skipped_on_target"] is None
    instant = _rows(_plan(capsys, "--target", "embedded"))
    name = "Deleted items are restored to the second before the deletion"
    # a 20-minute restore takes 12 s and the 5-minute PITR lag 3 s at the default scale of 0.01
    assert rows[name]["estimate_s"] - instant[name]["estimate_s"] >= (1200 + 300) * 0.01 - (0.2 + 1.0)
