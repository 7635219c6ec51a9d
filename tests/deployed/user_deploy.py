"""A user's DR stack deployed with plain boto3, as a team would (nothing of drdrill's): table with stream and PITR,
the seed runbook's recovery Lambda packaged as a user's zip, its mapping, a vault, a plan, a selection, two roles.

Also the snapshot a drill of it must leave unchanged: every part described, and the table scanned in full."""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "examples" / "seed-runbook" / "lambda" / "recovery-lambda.py"
USER_ITEMS = 12


@dataclass
class Deployed:
    table: str
    table_arn: str
    function: str
    vault: str
    plan: str
    plan_id: str
    backup_role: str
    monitor_role: str
    mapping: str


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


REPAIRER = """import base64
import os

import boto3

ddb = boto3.client("dynamodb")


def _decoded(value):
    # a stream record's binary values are base64 text; boto3 would encode them a second time
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _decoded(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decoded(v) for v in inner]}
    return value


def lambda_handler(event, context):
    repaired = 0
    for record in event.get("Records", []):
        old = record["dynamodb"].get("OldImage")
        if record.get("eventName") == "REMOVE" and old:
            item = {name: _decoded(value) for name, value in old.items()}
            ddb.put_item(TableName=os.environ["TABLE_NAME"], Item=item)
            repaired += 1
    print(f"repaired {repaired} deleted item(s) in place")
"""
"""A user's monitor that repairs deletions in place: writes the REMOVE record's OldImage back (binary values
decoded: a repairer that passes the event's base64 text to boto3 double-encodes them, and the drill reports those
items as not repaired)."""


def monitor_policy(backup_role_arn: str, table_arn: str, restore: bool = True) -> dict[str, Any]:
    actions = ["backup:ListRecoveryPointsByResource", "backup:DescribeRestoreJob"]
    if restore:
        actions.append("backup:StartRestoreJob")
    repair = [{"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": table_arn}] if table_arn else []
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": actions, "Resource": "*"},
            *repair,
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": backup_role_arn},
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            },
        ],
    }


def _zip(code: str | None = None) -> bytes:
    """The seed runbook's recovery Lambda as a team would ship it for a live table: reacting to MODIFY and REMOVE
    only (a monitor restoring on every INSERT would restore on every order the application writes)."""
    source = RUNBOOK.read_text(encoding="utf-8")
    assert 'HARMFUL = ("INSERT", "MODIFY", "REMOVE")' in source
    source = source.replace('HARMFUL = ("INSERT", "MODIFY", "REMOVE")', 'HARMFUL = ("MODIFY", "REMOVE")')
    source = code if code is not None else source
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("recovery-lambda.py", source)
    return buffer.getvalue()


def deploy(
    clients: Any,
    suffix: str,
    *,
    covered: bool = True,
    restore_allowed: bool = True,
    mapping_enabled: bool = True,
    code: str | None = None,
) -> Deployed:
    """Deploy the stack; ``covered=False``: the selection covers another table; ``restore_allowed=False``: the
    monitor's role lacks backup:StartRestoreJob; ``mapping_enabled=False``: the mapping is disabled."""
    ddb, iam, lam, backup = (clients(s) for s in ("dynamodb", "iam", "lambda", "backup"))
    table = f"orders-{suffix}"
    desc = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for n in range(USER_ITEMS):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"customer-{n:03d}"}, "total": {"N": str(n * 10)}})
    backup_role = f"user-backup-{suffix}"
    backup_arn = iam.create_role(RoleName=backup_role, AssumeRolePolicyDocument=_trust("backup.amazonaws.com"))["Role"][
        "Arn"
    ]
    for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=backup_role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")
    monitor_role = f"user-monitor-{suffix}"
    monitor_arn = iam.create_role(RoleName=monitor_role, AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=monitor_role,
        PolicyName="monitor",
        PolicyDocument=json.dumps(monitor_policy(backup_arn, desc["TableArn"], restore_allowed)),
    )
    function = f"disaster-recovery-{suffix}"
    lam.create_function(
        FunctionName=function,
        Runtime="python3.13",
        Role=monitor_arn,
        Handler="recovery-lambda.lambda_handler",
        Code={"ZipFile": _zip(code)},
        Timeout=60,
        Environment={"Variables": {"TABLE_ARN": desc["TableArn"], "TABLE_NAME": table, "RESTORE_ROLE_ARN": backup_arn}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=function, StartingPosition="LATEST", BatchSize=100
    )["UUID"]
    _wait_mapping(lam, mapping, "Enabled")
    if not mapping_enabled:
        lam.update_event_source_mapping(UUID=mapping, Enabled=False)
        _wait_mapping(lam, mapping, "Disabled")
    vault = f"UserVault-{suffix}"
    backup.create_backup_vault(BackupVaultName=vault)
    plan = f"UserPlan-{suffix}"
    plan_id = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": plan,
            "Rules": [
                {
                    "RuleName": "twice-a-day",
                    "TargetBackupVaultName": vault,
                    "ScheduleExpression": "cron(0 */12 * * ? *)",
                    "Lifecycle": {"DeleteAfterDays": 35},
                }
            ],
        }
    )["BackupPlanId"]
    resources = [desc["TableArn"] if covered else desc["TableArn"] + "-someone-else"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": f"UserSelection-{suffix}", "IamRoleArn": backup_arn, "Resources": resources},
    )
    return Deployed(table, desc["TableArn"], function, vault, plan, plan_id, backup_role, monitor_role, mapping)


def _wait_mapping(lam: Any, uuid: str, state: str) -> None:
    deadline = time.monotonic() + 60
    while lam.get_event_source_mapping(UUID=uuid)["State"] != state:
        assert time.monotonic() < deadline, f"mapping {uuid} never became {state}"
        time.sleep(0.2)


def definition(folder: Path, stack: Deployed, **extra: str) -> Path:
    lines = ["[deployed]", f'table = "{stack.table}"']
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    path = folder / "deployed.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_VOLATILE = {"LastProcessingResult", "LatestRestorableDateTime", "ResponseMetadata"}
"""What AWS itself moves as time passes (the PITR window's end) and as the user's mapping reads records: not
something drdrill changed."""


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def snapshot(clients: Any, stack: Deployed) -> dict[str, Any]:
    """Every part of the user's stack as AWS describes it, and every item of the table."""
    ddb, iam, lam, backup = (clients(s) for s in ("dynamodb", "iam", "lambda", "backup"))
    items = [i for page in ddb.get_paginator("scan").paginate(TableName=stack.table) for i in page["Items"]]
    selections = backup.list_backup_selections(BackupPlanId=stack.plan_id)["BackupSelectionsList"]
    return _clean(
        {
            "table": ddb.describe_table(TableName=stack.table)["Table"],
            "continuous_backups": ddb.describe_continuous_backups(TableName=stack.table),
            "items": sorted(items, key=lambda i: i["pk"]["S"]),
            "tables": sorted(
                n
                for page in ddb.get_paginator("list_tables").paginate()
                for n in page["TableNames"]
                if n.startswith(stack.table)
            ),
            "function": lam.get_function_configuration(FunctionName=stack.function),
            "mapping": lam.get_event_source_mapping(UUID=stack.mapping),
            "plan": backup.get_backup_plan(BackupPlanId=stack.plan_id)["BackupPlan"],
            "selections": [
                backup.get_backup_selection(BackupPlanId=stack.plan_id, SelectionId=s["SelectionId"])["BackupSelection"]
                for s in selections
            ],
            "vault": backup.describe_backup_vault(BackupVaultName=stack.vault),
            "recovery_points": backup.list_recovery_points_by_resource(ResourceArn=stack.table_arn)["RecoveryPoints"],
            "roles": {
                role: {
                    "inline": iam.list_role_policies(RoleName=role)["PolicyNames"],
                    "attached": iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"],
                }
                for role in (stack.backup_role, stack.monitor_role)
            },
        }
    )
