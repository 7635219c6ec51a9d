"""restore-jobs.csv: every restore job of the run, shaped like AWS Backup Audit Manager's restore-job report.

Why that shape: auditors already collect Audit Manager's ``RESTORE_JOB_REPORT`` CSVs; with the same
leading columns (report period, account, region, job id, status, resource, recovery point, creation and
completion time, run time, percent done) drdrill's rows can be appended to theirs. drdrill's own columns
(run, scenario, guarantee, strategy) come last, so a merge that keeps only the AWS columns loses nothing
Audit Manager would have had.

One row per restore job across scenarios; a job seen twice (a scenario that polled it twice) is one row,
its last record winning.

Point-in-time restores (strategy ``pitr``) are not AWS Backup jobs, but an auditor needs them in the same
list: each gets one row too, marked ``PITR`` in the ``drdrill Restore Type`` column, with
``pitr:<restored table>`` as its job id, the restore time as its recovery point's date (and in
``drdrill PITR Restore Time``), and its creation and completion times from the RTO's
``restore started -> restore completed`` phase.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dr_infra.report.files import write_atomically
from dr_infra.report.model import ScenarioView, build

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
    "drdrill Restore Type",
    "drdrill PITR Restore Time",
)

#: ``drdrill Restore Type`` values.
BACKUP_JOB = "AWS Backup restore job"
PITR = "PITR"


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


def _restore_phase(s: ScenarioView) -> dict[str, Any]:
    """The RTO phase a restore ran in (``restore started -> restore completed``; ``restore`` in older journals)."""
    for phase in s.rto.phases:
        name = str(phase.get("name") or "")
        if name.startswith("restore started") or name == "restore":
            return phase
    return {}


def _from_ms(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    moment = datetime.fromtimestamp(value / 1000, UTC)
    return moment.isoformat(timespec="milliseconds")


def pitr_restores(s: ScenarioView) -> list[dict[str, Any]]:
    """The point-in-time restores of a scenario, as restore-job-like records (one per restored table).

    Read from the change monitor's ``restore_started`` decisions without an AWS Backup job id; the restore
    time is the restored table's own (``restore_times``) when recorded, else the one the monitor asked for.
    """
    out: dict[str, dict[str, Any]] = {}
    for line in s.monitor_log:
        if line.get("decision") != "restore_started" or line.get("restoreJobId") or not line.get("restoreTime"):
            continue
        table = str(line.get("restoredTable") or "")
        if table in out:
            continue
        out[table] = {
            "table": str(line.get("table") or ""),
            "restored_table": table,
            "restore_time": str(line.get("restoreTime")),
            "started": _from_ms(line.get("timestamp")),
        }
    found = list(out.values())
    if len(found) == 1 and len(s.restore_times) == 1:
        found[0]["restore_time"] = s.restore_times[0]
    return found


def _table_arn(region: str, account: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}" if region and account and table else ""


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
                "drdrill Restore Type": BACKUP_JOB,
                "drdrill PITR Restore Time": "",
            }
            row = {key: cell(value) for key, value in row.items()}
            found[row["Restore Job ID"] or f"scenario-{index}-job-{number}"] = row
        for restore in pitr_restores(s):
            phase = _restore_phase(s)
            completed = str(phase.get("finished_at") or "")
            duration = phase.get("duration_s") if completed else None
            status = (
                "COMPLETED" if completed else {"interrupted": "ABORTED", "passed": "RUNNING"}.get(s.status, "FAILED")
            )
            row = {
                "Report Time Period Start": "" if view.started_at == "-" else view.started_at,
                "Report Time Period End": "" if view.finished_at == "-" else view.finished_at,
                "Account ID": account,
                "Region": region,
                "Restore Job ID": f"pitr:{restore['restored_table']}",
                "Job Status": status,
                "Status Message": "" if completed else s.failure,
                "Resource Type": "DynamoDB",
                "Resource ARN": _table_arn(region, account, restore["table"]),
                "Created Resource ARN": _table_arn(region, account, restore["restored_table"]),
                "Recovery Point ARN": "",
                "Recovery Point Creation Date": restore["restore_time"],
                "Creation Date": str(phase.get("started_at") or restore["started"]),
                "Completion Date": completed,
                "Job Run Time": run_time(duration),
                "Percent Done": "100.00%" if completed else "",
                "drdrill Run ID": view.run_id,
                "drdrill Scenario": s.name,
                "drdrill Guarantee": s.guarantee,
                "drdrill Strategy": "" if s.strategy == "-" else s.strategy,
                "drdrill Job Run Time Seconds": "" if duration is None else str(duration),
                "drdrill Restore Type": PITR,
                "drdrill PITR Restore Time": restore["restore_time"],
            }
            row = {key: cell(value) for key, value in row.items()}
            found[row["Restore Job ID"] if restore["restored_table"] else f"scenario-{index}-pitr"] = row
    return list(found.values())


def write_csv(data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``restore-jobs.csv`` into ``out_dir`` (a header line even when there was no restore job)."""
    path = out_dir / FILENAME
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows(data))
    return write_atomically(path, handle.getvalue())
