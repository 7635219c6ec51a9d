"""Realistic sample journals for the report tests, built with the journal's own dataclasses.

Why dataclasses and not hand-written JSON: the samples then have exactly the shape ``Journal.to_dict``
writes, and change with it. ``python -m tests.report.journals`` rewrites the checked-in samples under
``tests/fixtures/journals/`` (passed.json, violated.json, history/*.json) so reviewers can read them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dr_infra.report.journal import Journal, Measure, Phase, ScenarioRecord, StepRecord, iso

FILES = ("report.html", "report.md", "report.json", "junit.xml", "restore-jobs.csv")
HOSTILE = "<script>alert(1)</script>"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
ACCOUNT = "210987654321"
REGION = "us-east-1"
T0 = datetime(2025, 3, 1, 10, 15, 0, tzinfo=UTC)


def at(seconds: float, base: datetime = T0) -> str:
    moment = iso(base + timedelta(seconds=seconds))
    assert moment is not None
    return moment


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def phases(start: float, *spans: tuple[str, float], base: datetime = T0) -> list[Phase]:
    """Phases laid end to end from ``start`` seconds after ``base``."""
    out, cursor = [], start
    for name, duration in spans:
        out.append(Phase(name, at(cursor, base), at(cursor + duration, base), round(duration, 3)))
        cursor += duration
    return out


def measure(
    target: float | None,
    spans: list[Phase] | None = None,
    measured: float | None = None,
    note: str | None = None,
) -> Measure:
    spans = spans or []
    if measured is None and spans:
        measured = round(sum(p.duration_s or 0 for p in spans), 3)
    m = Measure(target_s=target, measured_s=measured, note=note, phases=spans)
    m.judge()
    return m


def steps(*texts: str, failed_at: int | None = None, error: str | None = None) -> list[StepRecord]:
    keywords = ["Given", "When", "Then", "And", "And", "And"]
    out = []
    for i, text in enumerate(texts):
        status = "passed" if failed_at is None or i < failed_at else ("failed" if i == failed_at else "skipped")
        out.append(StepRecord(keywords[min(i, 5)], text, status, 0.5 + i, error if i == failed_at else None, 5 + i))
    return out


def restore_job(
    job_id: str,
    table: str,
    created: float,
    duration: float,
    status: str = "COMPLETED",
    message: str | None = None,
    base: datetime = T0,
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "status": status,
        "status_message": message,
        "resource_arn": arn("dynamodb", f"table/{table}"),
        "recovery_point_arn": arn("dynamodb", f"table/{table}/backup/01740816000000-{job_id[:8].lower()}"),
        "created_resource_arn": arn("dynamodb", f"table/{table}-restored-{job_id[:6].lower()}"),
        "created_at": at(created, base),
        "completed_at": at(created + duration, base) if status == "COMPLETED" else None,
        "duration_s": duration,
        "percent_done": "100.00%" if status == "COMPLETED" else "42.00%",
        "recovery_point_created_at": at(-20520, base),
    }


def monitor(decision: str, table: str, event: str, key: str, strategy: str, **extra: Any) -> dict[str, Any]:
    line = {
        "level": "ERROR" if decision in {"failed", "malformed", "no_recovery_point", "config_error"} else "INFO",
        "decision": decision,
        "table": table,
        "eventName": event,
        "keys": {"pk": {"S": key}, "sk": {"S": "ORDER"}},
        "sequenceNumber": "4930000000000000" + key[-4:].rjust(8, "0") + "12",
        "strategy": strategy,
    }
    line.update(extra)
    return line


def diff(
    compared: int,
    table: str,
    expected_at: str,
    missing: int = 0,
    extra: int = 0,
    changed: int = 0,
    examples: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A data comparison as ``Diff.to_dict`` writes it, with the table and moment the step adds."""
    examples = examples or []
    differences = missing + extra + changed
    sides = f"{compared - missing + extra} actual items"
    summary = (
        f"equal: {compared} expected, {sides}"
        if not differences
        else f"NOT equal: {missing} missing, {extra} extra, {changed} changed ({compared} expected, {sides}; "
        f"{len(examples)} of {differences} differences shown)"
    )
    return {
        "equal": not differences,
        "summary": summary,
        "compared_expected": compared,
        "compared_actual": compared - missing + extra,
        "missing": missing,
        "extra": extra,
        "changed": changed,
        "examples": examples,
        "examples_truncated": differences > len(examples),
        "partitions": 4096,
        "differing_partitions": min(differences, 4096),
        "drilldown_passes": 1 if differences else 0,
        "drilldown_items": 2 * differences,
        "table": table,
        "expected_at": expected_at,
    }


def stack_evidence(prefix: str) -> dict[str, Any]:
    """The ``stack`` record a real run writes when it provisions the scenario's stack (trimmed)."""
    return {
        "prefix": prefix,
        "table": f"{prefix}-orders",
        "created": [
            f"iam role {prefix}-backup",
            f"iam role {prefix}-monitor",
            f"dynamodb table {prefix}-orders",
            f"backup vault {prefix}-vault",
            f"lambda function {prefix}-monitor",
        ],
    }


def change_evidence(kind: str, count: int, started: float, base: datetime = T0) -> dict[str, Any]:
    """The ``change`` record a real run writes when it injects the harmful change."""
    return {
        "kind": kind,
        "count": count,
        "started_at": at(started, base),
        "finished_at": at(started + 0.01, base),
        "keys": [{"pk": {"S": f"order-{n:04d}"}} for n in range(1, min(count, 5) + 1)],
    }


def scenario(
    sid: str, name: str, guarantee: str, strategy: str | None, status: str = "passed", **kw: Any
) -> ScenarioRecord:
    return ScenarioRecord(
        id=sid,
        name=name,
        feature=guarantee.replace("_", " ").capitalize() + " is recovered",
        feature_file=f"features/{guarantee}/{sid.split('::')[0]}.feature",
        guarantee=guarantee,
        tags=[f"@{guarantee}", f"@{strategy}"] if strategy else [f"@{guarantee}"],
        line=kw.pop("line", 4),
        strategy=strategy,
        status=status,
        started_at=at(kw.pop("offset", 0.0)),
        **kw,
    )


def target(name: str = "aws") -> dict[str, Any]:
    caps = ["backup_jobs", "dynamodb", "lambda", "lambda_execution", "pitr", "pitr_time_travel", "streams"]
    if name == "embedded":
        caps += ["fault_injection", "fast_clock"]
    return {
        "name": name,
        "region": REGION,
        "endpoint": "http://127.0.0.1:45123" if name == "embedded" else None,
        "account_id": ACCOUNT,
        "caller_arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/drdrill-ci/GitHubActions"
        if name == "aws"
        else f"arn:aws:sts::{ACCOUNT}:user/moto",
        "capabilities": sorted(caps),
    }


POLICY = {
    "source": "policy.toml",
    "backup": {"frequency_hours": 12.0, "retention_days": 35, "job_timeout_seconds": 900.0},
    "defaults": {"rto_seconds": 3600.0, "rpo_seconds": 43200.0},
    "guarantees": {
        "deletion": {
            "": {"rto_seconds": None, "rpo_seconds": None},
            "backup": {"rto_seconds": 3600.0, "rpo_seconds": 43200.0},
            "pitr": {"rto_seconds": 1800.0, "rpo_seconds": 300.0},
            "item": {"rto_seconds": 120.0, "rpo_seconds": 60.0},
        },
        "table_loss": {"": {"rto_seconds": 3600.0, "rpo_seconds": None}},
    },
    "path": "policy.toml",
    "sha256": "9f2c4e1b7a03d5e8c6b1f0a2d4e6c8b0a1f3e5d7c9b2a4f6e8d0c2b4a6f8e0d2",
}

PROVENANCE = {
    "git": {"commit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "dirty": False, "repository": "example/dr-drills"},
    "ci": {
        "provider": "github-actions",
        "run_url": "https://github.com/example/dr-drills/actions/runs/1234567/attempts/1",
        "actor": "dr-owner",
        "workflow": "DR drill",
        "event": "schedule",
        "ref": "refs/heads/main",
        "sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    },
}


def posture_checks(ok: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "check": "PITR enabled on the protected table",
            "expected": "ENABLED",
            "actual": "ENABLED",
            "ok": True,
        },
        {
            "check": "Backup plan frequency",
            "expected": "every 12 h or more often",
            "actual": "cron(0 */12 * * ? *) = every 12 h",
            "ok": True,
        },
        {
            "check": "Backup retention",
            "expected": ">= 35 days",
            "actual": "35 days" if ok else "7 days",
            "ok": ok,
        },
        {
            "check": "Vault lock",
            "expected": "locked (compliance mode)",
            "actual": "locked (compliance mode)",
            "ok": True,
        },
        {
            "check": "Monitor role can start restores only on the protected table",
            "expected": "allowed on table/orders only",
            "actual": "allowed on table/orders only",
            "ok": True,
        },
    ]


def passed_journal(run_id: str = "dd-20250301T101500Z-3f9a", base: datetime = T0, scale: float = 1.0) -> Journal:
    """A run where every guarantee that ran held, with one skipped scenario. ``scale`` stretches timings."""
    table = "orders"
    j1 = "6F1E4A2B-9C3D-4E5F-8A7B-1C2D3E4F5A6B"
    j2 = "0A9B8C7D-6E5F-4A3B-2C1D-0E9F8A7B6C5D"
    s1 = scenario(
        "deletion::backup",
        "Deleted orders come back from the latest backup",
        "deletion",
        "backup",
        duration_s=round(1395.0 * scale, 3),
        rto=measure(
            3600,
            phases(
                5,
                ("detect", 4.1 * scale),
                ("restore", 1290.5 * scale),
                ("copy back", 52.3 * scale),
                ("verify", 38.2 * scale),
                base=base,
            ),
        ),
        rpo=measure(43200, measured=20520.0 * scale, note="age of the recovery point restored from"),
        steps=steps(
            "a protected table with 120 orders",
            "an operator deletes 15 orders",
            "the monitor restores them from the latest backup",
            "every order is back as it was",
        ),
    )
    s1.evidence = {
        "restore_jobs": [restore_job(j1, table, 9.1, round(1290.5 * scale, 1), base=base)],
        "stack": stack_evidence(f"drdrill-{run_id}-1"),
        "policy_step": {"rto_seconds": 3600.0, "rpo_seconds": 43200.0},
        "change": change_evidence("delete", 15, 5, base),
        # the backup step and the restore job follow-up both record the recovery point (as real runs do)
        "recovery_points": [
            {
                "arn": arn("dynamodb", f"table/{table}/backup/01740816000000-6f1e4a2b"),
                "created_at": at(-20520, base),
            },
            {
                "arn": arn("dynamodb", f"table/{table}/backup/01740816000000-6f1e4a2b"),
                "created_at": at(-20520, base),
            },
        ],
        "monitor_log": [
            monitor(
                "restore_started",
                table,
                "REMOVE",
                "order-0001",
                "backup",
                restoreJobId=j1,
                recoveryPointArn=arn("dynamodb", f"table/{table}/backup/01740816000000-6f1e4a2b"),
                restoredTable=f"{table}-restored-6f1e4a",
            ),
            monitor(
                "restore_already_started",
                table,
                "REMOVE",
                "order-0002",
                "backup",
                restoreJobId=j1,
                reason="a restore for this incident is running",
            ),
        ],
        "diff": [diff(120, f"{table}-restored-6f1e4a", at(-20520, base))],
        "restore_job_count": [{"expected": 1, "started": 1}],
        "throttles": {"Scan": 2},
    }
    s1.cleanup = {"deleted": 3, "failed": []}
    s2 = scenario(
        "deletion::pitr",
        "Deleted orders are restored to the second before the delete",
        "deletion",
        "pitr",
        offset=1500,
        duration_s=round(930.0 * scale, 3),
        rto=measure(
            1800,
            phases(1500, ("detect", 3.2 * scale), ("restore", 861.0 * scale), ("verify", 47.8 * scale), base=base),
        ),
        rpo=measure(300, measured=1.0, note="PITR restores to the second before the harmful write"),
        steps=steps(
            "a protected table with PITR",
            "an operator deletes 10 orders",
            "the monitor restores the table to the second before",
            "every order is back",
        ),
    )
    s2.evidence = {
        "restore_times": [at(1499, base)],
        "monitor_log": [
            monitor(
                "restore_started",
                table,
                "REMOVE",
                "order-0042",
                "pitr",
                restoreTime=at(1499, base),
                restoredTable=f"{table}-pitr-0042",
            )
        ],
        "diff": [diff(120, f"{table}-pitr-0042", at(1499, base))],
        "change": change_evidence("delete", 10, 1500, base),
    }
    s3 = scenario(
        "modification::item",
        "An overwritten price is repaired item by item",
        "modification",
        "item",
        offset=2500,
        duration_s=round(16.0 * scale, 3),
        rto=measure(
            120,
            phases(2500, ("detect", 1.9 * scale), ("repair", 9.7 * scale), ("verify", 2.6 * scale), base=base),
        ),
        rpo=measure(60, measured=0.0, note="item-level repair from the newest image"),
        steps=steps(
            "a protected table",
            "an operator overwrites 3 prices",
            "the monitor repairs them",
            "every price is as before",
        ),
    )
    s3.evidence = {
        "monitor_log": [monitor("repaired", table, "MODIFY", f"order-00{n}", "item") for n in (10, 11, 12)],
        "diff": [diff(120, table, at(2499.999, base))],
    }
    s4 = scenario(
        "table_loss::backup",
        "A deleted table is restored from its backup",
        "table_loss",
        "backup",
        offset=2600,
        duration_s=round(1602.0 * scale, 3),
        rto=measure(
            3600,
            phases(
                2600,
                ("detect", 30.0 * scale),
                ("restore", 1480.2 * scale),
                ("re-protect", 44.1 * scale),
                ("verify", 40.0 * scale),
                base=base,
            ),
        ),
        rpo=measure(43200, measured=21000.0 * scale),
        steps=steps(
            "a protected table",
            "the table is deleted",
            "the recovery runbook restores it",
            "the restored table is protected again",
        ),
    )
    s4.evidence = {
        "restore_jobs": [restore_job(j2, table, 2631, round(1480.2 * scale, 1), base=base)],
        "monitor_log": [
            monitor(
                "reprotected",
                f"{table}-restored-0a9b8c",
                "INSERT",
                "-",
                "backup",
                reason="PITR and backup plan re-applied",
            )
        ],
        "notes": ["table loss: the drill ran the recovery runbook itself"],
    }
    s5 = scenario(
        "idempotency::backup",
        "A replayed stream batch never starts a second restore",
        "idempotency",
        "backup",
        offset=4300,
        duration_s=12.0,
        rto=measure(None),
        rpo=measure(None),
        steps=steps("a restore already running", "the same batch is delivered twice", "exactly one restore job exists"),
    )
    s5.evidence = {
        "monitor_log": [monitor("restore_already_started", table, "REMOVE", "order-0001", "backup", restoreJobId=j1)]
    }
    s6 = scenario(
        "posture::stack",
        "The stack is protected as the policy requires",
        "posture",
        None,
        offset=4320,
        duration_s=3.5,
        posture=posture_checks(True),
    )
    s7 = scenario(
        "restore_faults::backup",
        "A failing restore job is reported and retried",
        "restore_faults",
        "backup",
        status="skipped",
        skip_reason="target 'aws' lacks capability fault_injection (run it on the embedded target)",
    )
    journal = Journal(run_id=run_id, target=target("aws"), policy=POLICY, scenarios=[s1, s2, s3, s4, s5, s6, s7])
    journal.started_at = iso(base)
    journal.finished_at = at(4400, base)
    journal.duration_s = 4400.0
    journal.status = journal.verdict()
    journal.argv = ["drdrill", "run", "--target", "aws", "--policy", "policy.toml"]
    journal.provenance = json.loads(json.dumps(PROVENANCE))
    return journal


def violated_journal() -> Journal:
    """A run on the embedded target where RTO, data and posture guarantees were violated, with a leak."""
    base = T0 + timedelta(days=1)
    table = "orders"
    job = "5D4C3B2A-1F0E-4D9C-8B7A-6F5E4D3C2B1A"
    s1 = scenario(
        "deletion::backup",
        "Deleted orders come back from the latest backup",
        "deletion",
        "backup",
        status="failed",
        duration_s=4260.0,
        failure="RTO 1 h 10 min exceeded the target of 1 h 00 min: the restore job alone took 1 h 05 min",
        rto=measure(
            3600,
            phases(5, ("detect", 6.0), ("restore", 3950.0), ("copy back", 180.0), ("verify", 74.0), base=base),
        ),
        rpo=measure(43200, measured=30100.0),
        steps=steps(
            "a protected table with 120 orders",
            "an operator deletes 15 orders",
            "the monitor restores them",
            "recovery finishes within the RTO of 1 h",
            failed_at=3,
            error="AssertionError: RTO 4210 s > 3600 s",
        ),
    )
    s1.evidence = {
        "restore_jobs": [restore_job(job, table, 11, 3950.0, base=base)],
        "recovery_points": [
            {
                "arn": arn("dynamodb", f"table/{table}/backup/01740902400000-5d4c3b2a"),
                "created_at": at(-30100, base),
            }
        ],
        "monitor_log": [monitor("restore_started", table, "REMOVE", "order-0003", "backup", restoreJobId=job)],
        "diff": [diff(120, f"{table}-restored-5d4c3b", at(-30100, base))],
    }
    # at most 10 examples, as the comparison keeps: changed items are found first, then missing ones
    examples = [
        {
            "kind": "changed",
            "key": {"pk": {"S": "order-0300"}, "sk": {"S": "ORDER"}},
            "attribute_diffs": [{"attribute": "price", "expected": {"N": "19.99"}, "actual": {"N": "0"}}],
        }
    ] + [
        {"kind": "missing", "key": {"pk": {"S": f"order-{n:04d}"}, "sk": {"S": "ORDER"}}, "attribute_diffs": []}
        for n in range(200, 209)
    ]
    s2 = scenario(
        "bulk_deletion::pitr",
        "A bulk delete of 500 orders is fully recovered",
        "bulk_deletion",
        "pitr",
        status="failed",
        offset=4300,
        duration_s=1250.0,
        failure="37 of 500 items missing after recovery, 1 changed",
        rto=measure(
            1800,
            phases(4300, ("detect", 5.0), ("restore", 1100.0), ("copy back", 95.0), ("verify", 41.0), base=base),
        ),
        rpo=measure(300, measured=1.0),
        steps=steps(
            "a protected table with 500 orders",
            "a script deletes all 500 orders",
            "the monitor restores them",
            "every order is back",
            failed_at=3,
            error="37 missing, 1 changed",
        ),
    )
    s2.evidence = {
        "restore_times": [at(4299, base)],
        "monitor_log": [
            monitor(
                "restore_started",
                table,
                "REMOVE",
                "order-0001",
                "pitr",
                restoreTime=at(4299, base),
                restoredTable=f"{table}-restored-pitr",
            )
        ],
        "diff": [diff(500, f"{table}-restored-pitr", at(4299, base), missing=37, changed=1, examples=examples)],
        "throttles": {"BatchWriteItem": 14, "Scan": 3},
    }
    s3 = scenario(
        "modification::item",
        "An overwritten price is repaired item by item",
        "modification",
        "item",
        offset=5600,
        duration_s=15.0,
        rto=measure(120, phases(5600, ("detect", 2.0), ("repair", 8.8), ("verify", 3.1), base=base)),
        rpo=measure(60, measured=0.0),
    )
    s4 = scenario(
        "restore_faults::backup",
        "A failing restore job is reported and retried",
        "restore_faults",
        "backup",
        status="error",
        offset=5700,
        duration_s=61.0,
        failure=(
            f"AccessDeniedException: User: {arn('sts', 'assumed-role/drdrill-monitor/x')} "
            "is not authorized to perform backup:StartRestoreJob"
        ),
        rto=measure(3600),
        rpo=measure(43200),
    )
    s4.evidence = {
        "restore_jobs": [
            restore_job(
                "9E8D7C6B-5A4F-4E3D-2C1B-0A9F8E7D6C5B",
                table,
                5710,
                40.0,
                status="FAILED",
                message="Injected fault: restore failed",
                base=base,
            )
        ],
        "monitor_log": [
            monitor(
                "failed",
                table,
                "REMOVE",
                "order-0900",
                "backup",
                error="AccessDeniedException: not authorized",
            )
        ],
    }
    s5 = scenario(
        "insertion::item",
        "Rogue inserts are flagged and removed",
        "insertion",
        "item",
        status="skipped",
        skip_reason="policy sets no insertion guarantee for strategy item",
    )
    s6 = scenario(
        "posture::stack",
        "The stack is protected as the policy requires",
        "posture",
        None,
        status="failed",
        offset=5800,
        duration_s=3.0,
        failure="1 posture check failed: Backup retention",
        posture=posture_checks(False),
    )
    journal = Journal(
        run_id="dd-20250302T101500Z-77c1",
        target=target("embedded"),
        policy=POLICY,
        scenarios=[s1, s2, s3, s4, s5, s6],
    )
    journal.leaks = [arn("dynamodb", "table/drdrill-dd-20250302-orders-restored-5d4c3b")]
    journal.started_at = iso(base)
    journal.finished_at = at(5900, base)
    journal.duration_s = 5900.0
    journal.status = journal.verdict()
    journal.argv = ["drdrill", "run", "--target", "embedded"]
    journal.provenance = {"git": {**PROVENANCE["git"], "dirty": True}, "ci": None}
    return journal


def history_journals() -> list[Journal]:
    """Three earlier passing runs, a week apart, getting slowly slower (the trend the chart shows)."""
    out = []
    for n, scale in enumerate((0.8, 0.9, 1.05)):
        base = T0 - timedelta(days=7 * (3 - n))
        out.append(passed_journal(f"dd-hist-{n + 1}", base=base, scale=scale))
    return out


def write_fixtures(folder: Path = FIXTURES) -> list[Path]:
    """(Re)write the checked-in sample journals."""
    written = [
        passed_journal().write(folder / "passed.json"),
        violated_journal().write(folder / "violated.json"),
    ]
    written += [j.write(folder / "history" / f"{j.run_id}.json") for j in history_journals()]
    return written


def as_dict(journal: Journal) -> dict[str, Any]:
    return json.loads(json.dumps(journal.to_dict(), default=str))


if __name__ == "__main__":
    for path in write_fixtures():
        print(path)
