"""The seed runbook's recovery Lambda: on any change to the table, restore the latest recovery point before it.

Plain on purpose (the way the original runbook wrote it): boto3 only, plain-text prints, no drdrill code. The table
ARN, its name, the restore role and the vault come from the environment, which the stack definition fills with
the drill's names. Handler: ``recovery-lambda.lambda_handler``.
"""

import os
from datetime import UTC, datetime

import boto3

backup = boto3.client("backup")

TABLE_ARN = os.environ["TABLE_ARN"]
TABLE_NAME = os.environ["TABLE_NAME"]
RESTORE_ROLE_ARN = os.environ["RESTORE_ROLE_ARN"]
HARMFUL = ("INSERT", "MODIFY", "REMOVE")


def latest_recovery_point_before(moment):
    best = None
    pages = backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=TABLE_ARN)
    for page in pages:
        for point in page["RecoveryPoints"]:
            before = point.get("Status") == "COMPLETED" and point["CreationDate"] < moment
            if before and (best is None or point["CreationDate"] > best["CreationDate"]):
                best = point
    return best


def lambda_handler(event, context):
    records = [r for r in event.get("Records", []) if r.get("eventName") in HARMFUL]
    if not records:
        print("nothing to do: no INSERT, MODIFY or REMOVE in this batch")
        return {"restored": None}
    first = min(records, key=lambda r: r["dynamodb"]["ApproximateCreationDateTime"])
    changed_at = datetime.fromtimestamp(first["dynamodb"]["ApproximateCreationDateTime"], UTC)
    point = latest_recovery_point_before(changed_at)
    if point is None:
        print(f"{first['eventName']} at {changed_at.isoformat()}: NO RECOVERY POINT BEFORE THE CHANGE")
        return {"restored": None}
    target = f"{TABLE_NAME}-restored-{changed_at:%Y%m%dT%H%M%SZ}"
    job = backup.start_restore_job(
        RecoveryPointArn=point["RecoveryPointArn"],
        IamRoleArn=RESTORE_ROLE_ARN,
        ResourceType="DynamoDB",
        Metadata={"targetTableName": target},
        IdempotencyToken=target,  # a retried batch must not start a second restore
    )
    print(f"{first['eventName']} at {changed_at.isoformat()}: RESTORE JOB STARTED: {job['RestoreJobId']} -> {target}")
    return {"restored": target, "restoreJobId": job["RestoreJobId"]}
