"""The aws-scaled profile: AWS's latencies scaled, every RTO/RPO with its AWS equivalent, judged by it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr_infra.errors import ConfigError
from dr_infra.targets.timing import parse
from tests.cli.conftest import run_drdrill

SCALE = 0.005
FEATURE = """Feature: Rehearsed AWS timings
  Scenario: A restore meets the AWS policy
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 1 item is deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the RTO and RPO meet the DR policy

  Scenario: A 10-minute RTO is not met by a 20-minute AWS restore
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And the DR policy requires an RTO of 600 seconds and an RPO of 3600 seconds
    And a recovery point of the table exists
    When 1 item is deleted
    Then a restore job completes within 2700 seconds
    And the RTO and RPO meet the DR policy

  Scenario: A repair in place is the monitor's own work, not a scaled AWS latency
    Given a DR-protected table "orders" with 120 items
    And the change monitor restores with the "item" strategy
    When 100 items are deleted
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the RTO and RPO meet the DR policy
"""

MODELLED = {"restore started -> restore completed", "restore completed -> table active"}


def _rto_from_phases(rto: dict, cold_start_s: float) -> float:
    """The RTO's AWS seconds recomputed from its phases, as the README says they are counted."""
    covered = sum(p["duration_s"] for p in rto["phases"])
    counted = sum(p["duration_s"] / SCALE if p["name"] in MODELLED else p["duration_s"] for p in rto["phases"])
    return counted + max(0.0, rto["measured_s"] - covered) / SCALE + cold_start_s


def test_aws_scaled_records_aws_equivalents_and_judges_the_aws_policy_by_them(tmp_path: Path) -> None:
    feature = tmp_path / "deletion" / "rehearsal.feature"
    feature.parent.mkdir()
    feature.write_text(FEATURE, encoding="utf-8")
    out = tmp_path / "report"
    result = run_drdrill(
        "run", str(feature), "--embedded-profile", "aws-scaled", "--embedded-scale", str(SCALE),
        "--report-dir", str(out), "-q", cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.code == 1, result.stdout[-3000:] + result.stderr  # the 10-minute RTO is violated
    journal = json.loads((out / "report.json").read_text(encoding="utf-8"))
    timing = journal["target"]["timing"]
    assert timing["profile"] == "aws-scaled" and timing["scale"] == SCALE
    assert timing["latencies"]["restore"]["aws_s"] == 1200 and timing["latencies"]["restore"]["page"].startswith(
        "https://"
    )
    assert journal["policy"]["path"].endswith("aws.toml")  # aws-scaled rehearses the AWS policy by default
    met, violated, repaired = journal["scenarios"]
    cold_start = timing["latencies"]["function_start"]["aws_s"] - timing["latencies"]["function_start"]["here_s"]

    assert met["status"] == "passed", met["failure"]
    assert met["rpo"]["aws_equivalent_s"] == pytest.approx(met["rpo"]["measured_s"] / SCALE, abs=0.01)
    assert met["rto"]["aws_equivalent_s"] == pytest.approx(_rto_from_phases(met["rto"], cold_start), abs=0.05)
    restoring = [p for p in met["rto"]["phases"] if p["name"] == "restore started -> restore completed"]
    assert restoring and restoring[0]["aws_equivalent_s"] == pytest.approx(restoring[0]["duration_s"] / SCALE, abs=0.01)
    # the restore job alone is 20 AWS minutes (6 s here); the AWS policy's 45 minutes hold
    assert 1200 <= met["rto"]["aws_equivalent_s"] <= met["rto"]["target_s"] == 2700
    assert met["rto"]["measured_s"] < 30

    assert violated["status"] == "failed"
    assert violated["rto"]["met"] is False
    assert violated["rto"]["measured_s"] < 600 < violated["rto"]["aws_equivalent_s"]  # judged on the equivalent
    assert "AWS-equivalent" in violated["failure"]

    # 100 conditional writes by the monitor: their AWS time is their wall time (plus AWS's cold start), not / scale
    assert repaired["status"] == "passed", repaired["failure"]
    rto = repaired["rto"]
    assert rto["met"] is True and rto["target_s"] == 300
    assert rto["aws_equivalent_s"] == pytest.approx(_rto_from_phases(rto, cold_start), abs=0.05)
    assert rto["aws_equivalent_s"] < rto["measured_s"] / SCALE
    assert all(p["aws_equivalent_s"] == p["duration_s"] for p in rto["phases"])
    assert "AWS-equivalent" in (out / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("profile", "scale", "target", "message"),
    [
        ("fast", None, "embedded", "unknown embedded profile 'fast'"),
        ("aws-scaled", "0", "embedded", "out of range"),
        ("aws-scaled", "lots", "embedded", "is not a number"),
        ("instant", "0.01", "embedded", "applies to --embedded-profile aws-scaled only"),
        ("aws-scaled", None, "aws", "needs the embedded target"),
    ],
)
def test_a_timing_that_cannot_be_had_is_one_line(profile: str, scale: str | None, target: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(profile, scale, target)


def test_the_cli_refuses_a_bad_profile_before_anything_starts(tmp_path: Path) -> None:
    result = run_drdrill("run", "--embedded-profile", "aws-slow", "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert result.code == 2
    assert "unknown embedded profile 'aws-slow'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()
