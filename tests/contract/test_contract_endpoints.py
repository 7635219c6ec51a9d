"""The shipped feature files, unchanged, through the localstack target against loopback endpoints (issue 8).

(a) A plain moto server: what it serves is probed, provisioning works, and every scenario that needs what
    plain moto lacks (AWS Backup jobs and selections, running Lambda functions) is skipped with the reason.
    Nothing is then measured, so `drdrill run` exits 1 ("violated or nothing measured", README): the journal's
    verdict is "not-measured" (dr_infra/journal.py) and cli.py maps every verdict but "met" to 1.
(b) `drdrill serve`: every shipped feature passes over HTTP only (faults through its /_drdrill/ control
    routes), the fault-free ones as two parallel workers sharing the endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import FEATURES, Run, client, drdrill_run, leftovers


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
    # Plain moto 5.2.5 has no CreateBackupSelection: the plan scenario checks schedule and retention, then
    # skips at the selection step with the reason instead of claiming coverage it could not read.
    plan = by_name["The backup plan backs the table up every 12 hours and keeps 35 days"]
    assert plan["status"] == "skipped", plan.get("failure")
    assert "lacks backup_selections" in plan["skip_reason"]
    checks = {c["check"] for c in plan["posture"]}
    assert {"backup frequency", "backup retention"} <= checks
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

    The drills without faults run as two parallel workers sharing the one endpoint (as parallel drills
    share LocalStack or an AWS account: one run id, a name per stack); fault switches are global to an
    endpoint, so the restore_faults drills run one at a time.
    """
    folders = sorted(p.name for p in FEATURES.iterdir() if p.is_dir())
    assert "restore_faults" in folders and len(folders) >= 8
    shared = [str(FEATURES / name) for name in folders if name != "restore_faults"]
    for part in ("parallel", "faults"):
        (tmp_path / part).mkdir()
    parallel = _all_passed(drdrill_run(serve_endpoint, tmp_path / "parallel", *shared, "-n", "2"))
    faults = _all_passed(drdrill_run(serve_endpoint, tmp_path / "faults", str(FEATURES / "restore_faults")))
    assert parallel["target"]["workers"] == 2
    guarantees = {s["guarantee"] for s in parallel["scenarios"] + faults["scenarios"]}
    assert guarantees == set(folders)
    for journal in (parallel, faults):
        assert leftovers(serve_endpoint, f"drdrill-{journal['run_id']}") == {}


def test_stop_alarm_in_alarm_stops_injection_and_tears_down(serve_endpoint: str, tmp_path: Path) -> None:
    cloudwatch = client(serve_endpoint, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="orders-errors", MetricName="Errors", Namespace="drdrill-test", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="test")
    run = drdrill_run(
        serve_endpoint,
        tmp_path,
        str(FEATURES / "deletion"),
        "-k",
        "repaired",
        DRDRILL_STOP_ALARM="orders-errors",
    )
    journal = run.journal
    [scenario] = journal["scenarios"]
    assert scenario["status"] == "failed"
    assert scenario["failure"] == "stopped: alarm orders-errors is in ALARM"
    assert [s["status"] for s in scenario["steps"]][-1] == "failed"
    assert scenario["steps"][-1]["keyword"].strip() in {"When", "when"}
    assert scenario["cleanup"]["failed"] == []
    assert run.returncode == 1, run.output()
    assert leftovers(serve_endpoint, f"drdrill-{journal['run_id']}") == {}
