"""The user's DR stack deployed from a CloudFormation template on the embedded target, as far as moto's
CloudFormation can create it: the table (with its stream), the recovery Lambda (inline ZipFile) and its event source
mapping. moto 5.2.5's CloudFormation has no AWS::Backup::* resources (it skips them with a warning and still reports
CREATE_COMPLETE), ignores a table's PointInTimeRecoverySpecification, stores an AWS::IAM::Role's inline Policies as
Python repr (GetRolePolicy then returns a document that is not JSON) and attaches none of its ManagedPolicyArns; so
the roles, PITR, the vault, the plan and its selection are made with boto3, the roles passed in as parameters."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.deployed.user_deploy import RUNBOOK, Deployed, _trust, _wait_mapping, monitor_policy


def template(suffix: str) -> dict[str, Any]:
    code = RUNBOOK.read_text(encoding="utf-8").replace(
        'HARMFUL = ("INSERT", "MODIFY", "REMOVE")', 'HARMFUL = ("MODIFY", "REMOVE")'
    )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"MonitorRoleArn": {"Type": "String"}, "BackupRoleArn": {"Type": "String"}},
        "Resources": {
            "Orders": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": f"cfn-orders-{suffix}",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                },
            },
            "Monitor": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"cfn-recovery-{suffix}",
                    "Runtime": "python3.13",
                    "Handler": "index.lambda_handler",
                    "Role": {"Ref": "MonitorRoleArn"},
                    "Timeout": 60,
                    "Code": {"ZipFile": code},
                    "Environment": {
                        "Variables": {
                            "TABLE_ARN": {"Fn::GetAtt": ["Orders", "Arn"]},
                            "TABLE_NAME": {"Ref": "Orders"},
                            "RESTORE_ROLE_ARN": {"Ref": "BackupRoleArn"},
                        }
                    },
                },
            },
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Monitor"},
                    "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]},
                    "StartingPosition": "LATEST",
                },
            },
        },
    }


def deploy_from_template(clients: Any, stack_name: str, suffix: str) -> Deployed:
    cfn, ddb, lam, backup, iam = (clients(s) for s in ("cloudformation", "dynamodb", "lambda", "backup", "iam"))
    backup_role, monitor_role = f"cfn-backup-{suffix}", f"cfn-monitor-{suffix}"
    backup_role_arn = iam.create_role(RoleName=backup_role, AssumeRolePolicyDocument=_trust("backup.amazonaws.com"))[
        "Role"
    ]["Arn"]
    for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=backup_role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")
    monitor_role_arn = iam.create_role(RoleName=monitor_role, AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=monitor_role, PolicyName="monitor", PolicyDocument=json.dumps(monitor_policy(backup_role_arn, ""))
    )
    parameters = [
        {"ParameterKey": "MonitorRoleArn", "ParameterValue": monitor_role_arn},
        {"ParameterKey": "BackupRoleArn", "ParameterValue": backup_role_arn},
    ]
    cfn.create_stack(
        Parameters=parameters,
        StackName=stack_name,
        TemplateBody=json.dumps(template(suffix)),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    deadline = time.monotonic() + 120
    while (status := cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]).endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status == "CREATE_COMPLETE", status
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    }
    table, function = physical["Orders"], physical["Monitor"]
    lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    _wait_mapping(lam, physical["Mapping"], "Enabled")
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    # what the template could not say on moto: PITR, the vault, the plan and its selection
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for n in range(12):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"customer-{n:03d}"}})
    vault, plan = f"CfnVault-{suffix}", f"CfnPlan-{suffix}"
    backup.create_backup_vault(BackupVaultName=vault)
    rule = {
        "RuleName": "twice-a-day",
        "TargetBackupVaultName": vault,
        "ScheduleExpression": "cron(0 */12 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 35},
    }
    plan_id = backup.create_backup_plan(BackupPlan={"BackupPlanName": plan, "Rules": [rule]})["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={
            "SelectionName": f"CfnSelection-{suffix}",
            "IamRoleArn": backup_role_arn,
            "Resources": [table_arn],
        },
    )
    return Deployed(
        table,
        table_arn,
        function,
        vault,
        plan,
        plan_id,
        backup_role,
        monitor_role,
        physical["Mapping"],
    )
