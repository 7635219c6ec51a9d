"""restore-jobs.csv: one row per restore job, Audit Manager restore-job report columns first."""

from __future__ import annotations

import csv
from pathlib import Path

from dr_infra.report.restore_csv import COLUMNS, cell, run_time, write_csv


def rows(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / "restore-jobs.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_columns_audit_manager_first(passed_report: Path) -> None:
    header, _ = rows(passed_report)
    assert header == list(COLUMNS)
    assert header[:6] == [
        "Report Time Period Start",
        "Report Time Period End",
        "Account ID",
        "Region",
        "Restore Job ID",
        "Job Status",
    ]
    for column in (
        "Resource Type",
        "Recovery Point ARN",
        "Creation Date",
        "Completion Date",
        "Job Run Time",
        "Percent Done",
    ):
        assert column in header


def test_one_row_per_restore_job(passed_report: Path, violated_report: Path) -> None:
    _, passed = rows(passed_report)
    jobs = [r for r in passed if r["drdrill Restore Type"] == "AWS Backup restore job"]
    assert [r["Restore Job ID"] for r in jobs] == [
        "6F1E4A2B-9C3D-4E5F-8A7B-1C2D3E4F5A6B",
        "0A9B8C7D-6E5F-4A3B-2C1D-0E9F8A7B6C5D",
    ]
    first = jobs[0]
    assert first["Job Status"] == "COMPLETED" and first["Resource Type"] == "DynamoDB"
    assert first["Account ID"] == "210987654321" and first["Region"] == "us-east-1"
    assert first["Job Run Time"] == "00:21:30" and first["drdrill Job Run Time Seconds"] == "1290.5"
    assert first["drdrill Scenario"] == "Deleted orders come back from the latest backup"
    assert first["Report Time Period Start"] == "2025-03-01T10:15:00.000+00:00"
    _, violated = rows(violated_report)
    failed = [r for r in violated if r["Job Status"] == "FAILED"]
    assert len(violated) == 3 and failed[0]["Status Message"] == "Injected fault: restore failed"
    assert failed[0]["Completion Date"] == ""


def test_pitr_restores_have_rows_too(passed_report: Path) -> None:
    """A point-in-time restore is no AWS Backup job, but auditors need it in the same list, clearly marked."""
    header, body = rows(passed_report)
    assert header[-2:] == ["drdrill Restore Type", "drdrill PITR Restore Time"]  # appended after AWS's columns
    pitr = [r for r in body if r["drdrill Restore Type"] == "PITR"]
    assert len(pitr) == 1  # one restore_started decision (restore_already_started lines are not restores)
    row = pitr[0]
    assert row["Restore Job ID"] == "pitr:orders-pitr-0042"
    assert row["drdrill Scenario"] == "Deleted orders are restored to the second before the delete"
    assert row["Resource ARN"] == "arn:aws:dynamodb:us-east-1:210987654321:table/orders"
    assert row["Created Resource ARN"] == "arn:aws:dynamodb:us-east-1:210987654321:table/orders-pitr-0042"
    assert row["Recovery Point ARN"] == ""
    # the restore time is the "recovery point"; created/completed come from the RTO's restore phase
    assert row["Recovery Point Creation Date"] == row["drdrill PITR Restore Time"] == "2025-03-01T10:39:59.000+00:00"
    assert row["Creation Date"] == "2025-03-01T10:40:03.200+00:00"
    assert row["Completion Date"] == "2025-03-01T10:54:24.200+00:00"
    assert row["Job Status"] == "COMPLETED" and row["Job Run Time"] == "00:14:21"
    assert row["drdrill Job Run Time Seconds"] == "861.0" and row["Account ID"] == "210987654321"
    assert [r["drdrill Restore Type"] for r in body] == ["AWS Backup restore job", "PITR", "AWS Backup restore job"]


def test_header_only_without_jobs(tmp_path: Path) -> None:
    write_csv({"run_id": "r", "scenarios": []}, tmp_path)
    header, body = rows(tmp_path)
    assert header == list(COLUMNS) and body == []


def test_formula_injection_is_defused(hostile_report: Path) -> None:
    _, body = rows(hostile_report)
    assert all(not r["drdrill Scenario"].startswith("=") for r in body)
    assert cell("=1+1") == "'=1+1" and cell("-12.5") == "-12.5" and cell("@SUM(A1)") == "'@SUM(A1)"


def test_run_time() -> None:
    assert run_time(3725.4) == "01:02:05" and run_time(None) == ""
