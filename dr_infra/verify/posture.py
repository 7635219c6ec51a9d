"""Posture checks: prove the stack is protected from what boto3 reads back, never from the spec object.

Each check returns a :class:`PostureCheck` (name, expected, actual, ok) that goes into the journal and the
report, so an auditor sees the evidence and not just a green tick.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dr_infra.stack.handles import Stack
from dr_infra.stack.names import TAG_RUN_ID
from dr_infra.targets.base import Target
from dr_infra.targets.client_types import ClientSource
from dr_infra.targets.iam_evaluator import Decision
from dr_infra.verify import effective_permissions

if TYPE_CHECKING:
    from mypy_boto3_backup.type_defs import BackupRuleTypeDef

CRON = re.compile(r"^cron\((?P<min>\S+) (?P<hour>\S+) (?P<dom>\S+) (?P<mon>\S+) (?P<dow>\S+) (?P<year>\S+)\)$")


@dataclass(frozen=True)
class PostureCheck:
    """One verified property of the stack."""

    check: str
    expected: str
    actual: str
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schedule_interval_hours(expression: str) -> float | None:
    """Hours between runs of an AWS Backup cron/rate expression, or ``None`` if irregular.

    ``cron(0 */12 * * ? *)`` -> 12; ``cron(0 5,17 * * ? *)`` -> 12; ``rate(12 hours)`` -> 12.
    """
    rate = re.match(r"^rate\((\d+) (hour|hours|day|days|minute|minutes)\)$", expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        return value * {"hour": 1, "hours": 1, "day": 24, "days": 24}.get(unit, 1 / 60)
    match = CRON.match(expression)
    if not match or not match.group("min").isdigit():
        return None
    if match.group("dom") not in {"*", "?"} or match.group("dow") not in {"*", "?"}:
        return None
    hour = match.group("hour")
    if hour == "*":
        return 1.0
    if hour.startswith("*/") and hour[2:].isdigit():
        step = int(hour[2:])
        return float(step) if 24 % step == 0 else None
    if re.fullmatch(r"\d+(,\d+)*", hour):
        hours = sorted(int(h) for h in hour.split(","))
        gaps = {(b - a) for a, b in zip(hours, [*hours[1:], hours[0] + 24], strict=True)}
        return float(gaps.pop()) if len(gaps) == 1 else None
    return None


class PostureInspector:
    """Reads the stack back from the target and checks each documented property."""

    def __init__(self, target: Target, stack: Stack) -> None:
        self.target = target
        self.stack = stack

    @property
    def c(self) -> ClientSource:
        return self.target.client

    def pitr_enabled(self) -> PostureCheck:
        """The table's own point-in-time recovery setting (DescribeContinuousBackups), and what the plan's flag is.

        PITR of a DynamoDB table is the table's UpdateContinuousBackups setting. A backup rule's
        ``EnableContinuousBackup`` does not apply to DynamoDB: AWS Backup supports continuous backup for other
        resource types and takes snapshot backups of DynamoDB tables, so the flag proves nothing about PITR.
        https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html
        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeContinuousBackups.html
        """
        desc = self.c("dynamodb").describe_continuous_backups(TableName=self.stack.names.table)
        pitr = desc["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        status = pitr.get("PointInTimeRecoveryStatus", "MISSING")
        actual = f"{status} (the table's DescribeContinuousBackups"
        if pitr.get("RecoveryPeriodInDays"):
            actual += f", recovery period {pitr['RecoveryPeriodInDays']} days"
        actual += ")"
        flag = self._plan_continuous_flag()
        if flag is not None:
            actual += (
                f"; the backup plan's EnableContinuousBackup ({flag}) does not apply to DynamoDB: AWS Backup takes"
                " snapshot backups of tables, so point-in-time recovery is only this table setting"
            )
        return PostureCheck("point-in-time recovery", "ENABLED", actual, status == "ENABLED")

    def _plan_continuous_flag(self) -> bool | None:
        """Whether any plan rule sets EnableContinuousBackup (``None`` when the plan cannot be read)."""
        if self.stack.plan_id is None or "backup" not in self.target.capabilities:
            return None
        try:
            return any(bool(r.get("EnableContinuousBackup")) for r in self._plan_rules())
        except ClientError:
            return None

    def stream_view_type(self) -> PostureCheck:
        table = self.c("dynamodb").describe_table(TableName=self.stack.names.table)["Table"]
        spec = table.get("StreamSpecification", {})
        actual = spec.get("StreamViewType", "NONE") if spec.get("StreamEnabled") else "DISABLED"
        return PostureCheck("stream view type", "NEW_AND_OLD_IMAGES", actual, actual == "NEW_AND_OLD_IMAGES")

    def _plan_rules(self) -> list[BackupRuleTypeDef]:
        plan = self.c("backup").get_backup_plan(BackupPlanId=self.stack.plan_id)
        return list(plan["BackupPlan"]["Rules"])

    def backup_frequency(self, hours: float) -> PostureCheck:
        rules = self._plan_rules()
        intervals = [schedule_interval_hours(r.get("ScheduleExpression", "")) for r in rules]
        best = min((i for i in intervals if i is not None), default=None)
        actual = ", ".join(r.get("ScheduleExpression", "?") for r in rules) + (
            f" (every {best:g} h)" if best is not None else ""
        )
        return PostureCheck(
            "backup frequency", f"at least every {hours:g} hours", actual, best is not None and best <= hours
        )

    def backup_retention(self, days: int) -> PostureCheck:
        rules = self._plan_rules()
        kept = [r.get("Lifecycle", {}).get("DeleteAfterDays") for r in rules]
        actual = ", ".join("forever" if k is None else f"{k} days" for k in kept)
        ok = all(k is None or k >= days for k in kept) and bool(kept)
        return PostureCheck("backup retention", f"recovery points kept {days} days", actual, ok)

    def selection_covers_table(self) -> PostureCheck:
        backup = self.c("backup")
        covering = []
        for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=self.stack.plan_id):
            for item in page.get("BackupSelectionsList", []):
                selection = backup.get_backup_selection(
                    BackupPlanId=self.stack.plan_id, SelectionId=item["SelectionId"]
                )
                resources = selection["BackupSelection"].get("Resources", [])
                if any(fnmatch.fnmatchcase(self.stack.table_arn, r) for r in resources):
                    covering.append(item["SelectionName"])
        actual = ", ".join(covering) if covering else "no selection matches the table ARN"
        return PostureCheck("backup selection covers the table", self.stack.table_arn, actual, bool(covering))

    def monitor_can_restore(self) -> PostureCheck:
        """The monitor role's *effective* permissions (inline + attached managed, Deny, NotAction, conditions).

        Each fact is asked of :func:`effective_permissions.of_role` (IAM's simulator on aws, drdrill's evaluator
        elsewhere); a fact that does not hold names the statement that broke it, and a fact that cannot be
        evaluated fails with the reason - never a pass. Recovery points are asked with a run-id tag value each
        (``aws:ResourceTag/drdrill:run-id``), as IAM's simulator needs them: this run's is allowed, another's
        denied (:func:`dr_infra.stack.iam_policies.monitor_role_policy` scopes restores by that tag)."""
        stack = self.stack
        permissions = effective_permissions.of_role(self.target, stack.names.monitor_role, stack.monitor_role_arn)
        point = f"arn:aws:backup:{stack.region}:{stack.account_id}:recovery-point:any"
        backup_role = stack.backup_role_arn
        other_role = f"arn:aws:iam::{stack.account_id}:role/some-other-role"
        to_backup = {"iam:PassedToService": "backup.amazonaws.com"}
        ours = {f"aws:ResourceTag/{TAG_RUN_ID}": stack.names.run_id}
        theirs = {f"aws:ResourceTag/{TAG_RUN_ID}": f"not-{stack.names.run_id}"}
        facts: list[tuple[str, bool, str, str, dict[str, str]]] = [
            ("StartRestoreJob(this run's recovery point)", True, "backup:StartRestoreJob", point, ours),
            ("StartRestoreJob(another run's recovery point) denied", False, "backup:StartRestoreJob", point, theirs),
            ("PassRole(backup role -> backup)", True, "iam:PassRole", backup_role, to_backup),
            (
                "PassRole(backup role -> lambda) denied",
                False,
                "iam:PassRole",
                backup_role,
                {"iam:PassedToService": "lambda.amazonaws.com"},
            ),
            ("PassRole(other role) denied", False, "iam:PassRole", other_role, to_backup),
            ("PassRole(monitor role) denied", False, "iam:PassRole", stack.monitor_role_arn, to_backup),
            ("DeleteTable denied", False, "dynamodb:DeleteTable", stack.table_arn, {}),
            ("DeleteBackupVault denied", False, "backup:DeleteBackupVault", stack.vault_arn or point, {}),
        ]
        failed = []
        for label, want_allowed, action, resource, context in facts:
            result = permissions.evaluate(action, resource, context)
            if result.decision is Decision.UNDECIDABLE or result.allowed != want_allowed:
                failed.append(f"{label}: {result.explain()}")
        return PostureCheck(
            "change monitor can start restores and pass only the backup role",
            "; ".join(label for label, *_ in facts),
            "all hold" if not failed else "fails: " + "; ".join(failed),
            not failed,
        )

    def mapping_enabled(self) -> PostureCheck:
        """The monitor's mapping is Enabled and cannot miss a change: ReportBatchItemFailures, and it reads the
        table's current stream from TRIM_HORIZON, a stream drdrill enabled after seeding (so "LATEST at the
        moment the table was protected", without LATEST's gap while AWS starts polling; see
        :mod:`dr_infra.stack.protect`)."""
        expected = "Enabled, TRIM_HORIZON of the stream enabled at protection, ReportBatchItemFailures"
        lam = self.c("lambda")
        mappings = lam.list_event_source_mappings(
            EventSourceArn=self.stack.stream_arn, FunctionName=self.stack.names.monitor_function
        )["EventSourceMappings"]
        if not self.stack.stream_arn or not mappings:
            return PostureCheck("event source mapping", expected, "none", False)
        m = lam.get_event_source_mapping(UUID=mappings[0]["UUID"])
        current = self.c("dynamodb").describe_table(TableName=self.stack.names.table)["Table"].get("LatestStreamArn")
        label = str(m.get("EventSourceArn", "")).rsplit("/stream/", 1)[-1]
        same_stream = m.get("EventSourceArn") == current == self.stack.stream_arn
        responses = ",".join(m.get("FunctionResponseTypes", [])) or "-"
        actual = (
            f"{m.get('State')}, {m.get('StartingPosition')} of "
            f"{'the stream enabled at protection' if same_stream else 'another stream'} ({label}), {responses}"
        )
        ok = (
            m.get("State") == "Enabled"
            and m.get("StartingPosition") == "TRIM_HORIZON"
            and same_stream
            and "ReportBatchItemFailures" in m.get("FunctionResponseTypes", [])
        )
        return PostureCheck("event source mapping", expected, actual, ok)
