"""The shipped feature files, unchanged, through the localstack target against loopback endpoints (issue 8).

(a) A plain moto server: what it serves is probed, provisioning works, and every scenario that needs what
    plain moto lacks (AWS Backup jobs and selections, running Lambda functions) is skipped with the reason.
    Nothing is then measured, so `drdrill run` exits 1 ("violated or nothing measured", README): the journal's
    verdict is "not-measured" (dr_infra/report/journal.py) and cli.py maps every verdict but "met" to 1.
(b) `drdrill serve`: every shipped feature passes over HTTP only (faults through its /_drdrill/ control
    routes, scoped to each drill's stack), all of them as two parallel workers sharing the endpoint.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from dr_infra.targets.control_client import ControlClient

from .conftest import DRDRILL, FEATURES, Run, clean_env, client, drdrill_run, leftovers


def test_plain_moto_posture_passes_what_it_serves_and_skips_the_selection(moto_endpoint: str, tmp_path: Path) -> None:
    run = drdrill_run(moto_endpoint, tmp_path, str(FEATURES / "posture"))
    journal = run.journal
    assert "Traceback" not in run.stderr
    capabilities = set(journal["target"]["capabilities"])
    assert {"dynamodb", "streams", "backup", "lambda", "iam", "logs", "pitr"} <= capabilities
    assert not {"backup_selections", "backup_jobs", "lambda_execution"} & capabilities
    by_name = {s["name"]: s for s in journal["scenarios"]}
    assert len(by_name) == 3
    # What plain moto serves is checked and passes: PITR, the stream, the monitor's policy and mapping.
    for name in (
        "The table has point-in-time recovery and a stream with both images",
        "The change monitor watches the stream with least privilege",
    ):
        assert by_name[name]["status"] == "passed", (name, by_name[name].get("failure"))
        assert by_name[name]["posture"] and all(c["ok"] for c in by_name[name]["posture"])
    # Plain moto 5.2.5 has no CreateBackupSelection: the plan scenario is skipped before its first step (no
    # stack, no cost) with the reason, instead of claiming coverage it could not read.
    plan = by_name["The backup plan backs the table up every 12 hours and keeps 35 days"]
    assert plan["status"] == "skipped", plan.get("failure")
    assert "lacks backup_selections" in plan["skip_reason"]
    assert plan["posture"] == [] and "stack" not in plan["evidence"]
    assert all(s["cleanup"]["failed"] == [] for s in journal["scenarios"])
    assert journal["status"] == "met"
    assert run.returncode == 0, run.output()
    assert leftovers(moto_endpoint, f"drdrill-{journal['run_id']}") == {}


def test_plain_moto_skips_every_deletion_scenario_with_its_reason(moto_endpoint: str, tmp_path: Path) -> None:
    run = drdrill_run(moto_endpoint, tmp_path, str(FEATURES / "deletion"))
    journal = run.journal
    assert "Traceback" not in run.stderr
    assert len(journal["scenarios"]) == 3
    for scenario in journal["scenarios"]:
        assert scenario["status"] == "skipped", (scenario["name"], scenario.get("failure"))
        assert scenario["skip_reason"].startswith("target localstack lacks ")
        assert scenario["cleanup"]["failed"] == []
    reasons = " ".join(s["skip_reason"] for s in journal["scenarios"])
    assert "backup_jobs" in reasons and "lambda_execution" in reasons
    assert journal["status"] == "not-measured"
    assert run.returncode == 1, run.output()
    assert leftovers(moto_endpoint, f"drdrill-{journal['run_id']}") == {}


def _all_passed(run: Run) -> dict[str, Any]:
    journal = run.journal
    assert journal["target"]["probe"]["kind"].startswith("drdrill embedded endpoint")
    assert [s["status"] for s in journal["scenarios"]] == ["passed"] * len(journal["scenarios"]), [
        (s["name"], s.get("failure") or s.get("skip_reason")) for s in journal["scenarios"] if s["status"] != "passed"
    ]
    assert journal["status"] == "met"
    assert run.returncode == 0, run.output()
    return journal


def test_drdrill_serve_passes_every_shipped_feature(serve_endpoint: str, tmp_path: Path) -> None:
    """Every shipped feature over HTTP only: nothing depends on in-process shortcuts.

    All of them in one run of two parallel workers sharing the one endpoint (as parallel drills share
    LocalStack or an AWS account: one run id, a name per stack), the restore_faults drills included: each
    chaos step scopes its fault switch to its own stack's name prefix, and a scenario's end resets only its
    own scope, so one drill's "restore jobs fail" or throttles never reach the other worker's drill.
    """
    folders = sorted(p.name for p in FEATURES.iterdir() if p.is_dir())
    assert "restore_faults" in folders and len(folders) >= 8
    journal = _all_passed(drdrill_run(serve_endpoint, tmp_path, *(str(FEATURES / name) for name in folders), "-n", "2"))
    assert journal["target"]["workers"] == 2
    assert {s["guarantee"] for s in journal["scenarios"]} == set(folders)
    # throttle counts are per scope: each scenario's evidence holds its own throttles and nobody else's
    throttled = re.compile(r'the "(?P<op>[A-Za-z]+)" operation is throttled (?P<n>\d+) times?')
    for scenario in journal["scenarios"]:
        own = {
            m["op"]: int(m["n"]) for step in scenario["steps"] if (m := throttled.fullmatch(step["text"])) is not None
        }
        assert scenario["evidence"].get("throttles", {}) == own, scenario["name"]
    assert sum(bool(s["evidence"].get("throttles")) for s in journal["scenarios"]) == 3
    assert leftovers(serve_endpoint, f"drdrill-{journal['run_id']}") == {}
    info = ControlClient(serve_endpoint).info()
    assert info is not None  # every scenario turned its own switches off
    assert [name for name in info["faults"] if journal["run_id"] in name] == []


def _alarm(endpoint: str, name: str, state: str) -> Any:
    cloudwatch = client(endpoint, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name, MetricName="Errors", Namespace="drdrill-test", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    return cloudwatch


def _stopped_before_provisioning(scenario: dict[str, Any], alarm: str) -> None:
    assert scenario["status"] == "failed", (scenario["name"], scenario.get("failure"))
    assert scenario["failure"] == f"stopped: alarm {alarm} is in ALARM"
    [step] = scenario["steps"]  # its first step, the Given that would provision the stack, never ran
    assert step["status"] == "failed" and step["text"].startswith("a DR-protected table")
    assert "stack" not in scenario["evidence"]
    assert scenario["cleanup"] == {"deleted": 0, "failed": []}


def test_stop_alarm_in_alarm_stops_injection_and_tears_down(serve_endpoint: str, tmp_path: Path) -> None:
    """An alarm already in ALARM: no scenario of the run provisions anything."""
    _alarm(serve_endpoint, "orders-errors", "ALARM")
    run = drdrill_run(
        serve_endpoint,
        tmp_path,
        str(FEATURES / "deletion"),
        "-k",
        "repaired or second",
        DRDRILL_STOP_ALARM="orders-errors",
    )
    journal = run.journal
    assert len(journal["scenarios"]) == 2, [s["name"] for s in journal["scenarios"]]
    for scenario in journal["scenarios"]:
        _stopped_before_provisioning(scenario, "orders-errors")
    assert run.returncode == 1, run.output()
    assert "Traceback" not in run.stderr
    assert leftovers(serve_endpoint, f"drdrill-{journal['run_id']}") == {}


def test_an_alarm_raised_mid_run_stops_the_scenario_and_every_later_one(serve_endpoint: str, tmp_path: Path) -> None:
    """The alarm goes to ALARM while the first scenario runs (its canaries writing), and back to OK once that
    scenario is torn down: the first fails with the stop line and leaves nothing; the second, although the
    alarm reads OK again by then, fails at its first step and creates nothing (the run stays stopped)."""
    cloudwatch = _alarm(serve_endpoint, "canary-errors", "OK")
    run_id = "20990101t000000-5a0e"
    ddb = client(serve_endpoint, "dynamodb")
    report = tmp_path / "report"
    process = subprocess.Popen(
        [DRDRILL, "run", str(FEATURES / "rpo"), "--target", "localstack", "--report-dir", str(report), "-q"],
        cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=clean_env(serve_endpoint, DRDRILL_STOP_ALARM="canary-errors", DRDRILL_RUN_ID=run_id),
    )  # fmt: skip

    def tables() -> list[str]:
        return [t for t in ddb.list_tables()["TableNames"] if t.startswith(f"drdrill-{run_id}-1-")]

    try:
        deadline = time.monotonic() + 120
        while not tables():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the first stack never appeared"
            time.sleep(0.05)
        cloudwatch.set_alarm_state(AlarmName="canary-errors", StateValue="ALARM", StateReason="mid-run")
        while tables() and time.monotonic() < deadline:
            time.sleep(0.05)
        cloudwatch.set_alarm_state(AlarmName="canary-errors", StateValue="OK", StateReason="recovered")
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    journal = Run(process.returncode, stdout, stderr, report).journal
    first, second = journal["scenarios"]
    assert first["status"] == "failed" and first["failure"] == "stopped: alarm canary-errors is in ALARM", first
    assert "stack" in first["evidence"] and first["cleanup"]["failed"] == []
    assert first["steps"][-1]["status"] == "failed"
    assert first["steps"][-1]["error"] == "stopped: alarm canary-errors is in ALARM"
    _stopped_before_provisioning(second, "canary-errors")
    assert process.returncode == 1, stdout[-2000:] + stderr[-2000:]
    assert leftovers(serve_endpoint, f"drdrill-{run_id}") == {}
