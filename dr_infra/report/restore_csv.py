"""restore-jobs.csv: every restore job of the run, shaped like AWS Backup Audit Manager's restore-job report.

Why that shape: auditors already collect Audit Manager's ``RESTORE_JOB_REPORT`` CSVs; with the same
leading columns (report period, account, region, job id, status, resource, recovery point, creation and
completion time, run time, percent done) drdrill's rows can be appended to theirs. drdrill's own columns
(run, scenario, guarantee, strategy) come last, so a merge that keeps only the AWS columns loses nothing
Audit Manager would have had.

One row per restore job across scenarios; a job seen twice (a scenario that polled it twice) is one row,
its last record winning.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dr_infra.report.model import build

FILENAME = "restore-jobs.csv"

COLUMNS = (
    "Report Time Period Start",
    "Report Time Period End",
    "Account ID",
    "Region",
    "Restore Job ID",
    "Job Status",
    "Status Message",
    "Resource Type",
    "Resource ARN",
    "Created Resource ARN",
    "Recovery Point ARN",
    "Recovery Point Creation Date",
    "Creation Date",
    "Completion Date",
    "Job Run Time",
    "Percent Done",
    "drdrill Run ID",
    "drdrill Scenario",
    "drdrill Guarantee",
    "drdrill Strategy",
    "drdrill Job Run Time Seconds",
)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection: prefix with ``'``).

    Scenario names come from feature files and messages from AWS; numbers such as ``-1`` stay as they are.
    """
    if value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def run_time(seconds: Any) -> str:
    """``HH:MM:SS`` as Audit Manager writes job run times; empty when unknown."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return ""
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _arn_part(arn: Any, index: int) -> str:
    parts = str(arn or "").split(":")
    return parts[index] if len(parts) > 5 and parts[0] == "arn" else ""


def rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The CSV rows for a journal dict, in scenario order."""
    view = build(data)
    account = str(view.target.get("account_id") or "")
    region = str(view.target.get("region") or "")
    found: dict[str, dict[str, str]] = {}
    for index, s in enumerate(view.scenarios):
        for number, job in enumerate(s.restore_jobs):
            resource = job.get("resource_arn") or job.get("created_resource_arn")
            row = {
                "Report Time Period Start": "" if view.started_at == "-" else view.started_at,
                "Report Time Period End": "" if view.finished_at == "-" else view.finished_at,
                "Account ID": _arn_part(resource, 4) or account,
                "Region": _arn_part(resource, 3) or region,
                "Restore Job ID": str(job.get("job_id") or ""),
                "Job Status": str(job.get("status") or ""),
                "Status Message": str(job.get("status_message") or ""),
                "Resource Type": "DynamoDB",
                "Resource ARN": str(job.get("resource_arn") or ""),
                "Created Resource ARN": str(job.get("created_resource_arn") or ""),
                "Recovery Point ARN": str(job.get("recovery_point_arn") or ""),
                "Recovery Point Creation Date": str(job.get("recovery_point_created_at") or ""),
                "Creation Date": str(job.get("created_at") or ""),
                "Completion Date": str(job.get("completed_at") or ""),
                "Job Run Time": run_time(job.get("duration_s")),
                "Percent Done": "" if job.get("percent_done") is None else str(job.get("percent_done")),
                "drdrill Run ID": view.run_id,
                "drdrill Scenario": s.name,
                "drdrill Guarantee": s.guarantee,
                "drdrill Strategy": "" if s.strategy == "-" else s.strategy,
                "drdrill Job Run Time Seconds": "" if job.get("duration_s") is None else str(job.get("duration_s")),
            }
            row = {key: cell(value) for key, value in row.items()}
            found[row["Restore Job ID"] or f"scenario-{index}-job-{number}"] = row
    return list(found.values())


def write_csv(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``restore-jobs.csv`` into ``out_dir`` (a header line even when there was no restore job)."""
    path = out_dir / FILENAME
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows(data))
    return path
