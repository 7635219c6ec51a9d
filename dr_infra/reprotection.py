"""Is the restored table protected again? A restored table on AWS has no stream, PITR, TTL or tags.

AWS copies none of those settings to a restored table
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CreateBackup.html#CreateBackup_HowItWorks),
so the change monitor's second entry point (``on_restore_completed``) turns it into a protected table. On AWS
an EventBridge rule on AWS Backup's "Restore Job State Change" event invokes it; on targets without
EventBridge delivery the drill invokes the same function with the same event shape.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from dr_infra.drill import Drill
from dr_infra.journal import iso, utcnow
from dr_infra.naming import TAG_MANAGED, TAG_RUN_ID


def completion_event(drill: Drill) -> dict[str, Any]:
    """The event AWS would deliver for this restore's completion."""
    inc = drill.incident
    stack = drill.require_stack()
    restored_arn = f"arn:aws:dynamodb:{stack.region}:{stack.account_id}:table/{inc.restored_table}"
    if inc.restore_job_id:
        return {
            "source": "aws.backup",
            "detail-type": "Restore Job State Change",
            "detail": {
                "restoreJobId": inc.restore_job_id,
                "status": "COMPLETED",
                "createdResourceArn": restored_arn,
            },
        }
    return {
        "source": "drdrill",
        "detail-type": "PITR Restore Completed",
        "detail": {"sourceTableArn": stack.table_arn, "restoredTableArn": restored_arn},
    }


def verify(drill: Drill) -> None:
    """Trigger re-protection where needed, then prove each property from what boto3 reads back."""
    drill.require("lambda_execution", why="re-protection is done by the change monitor's second entry point")
    inc = drill.incident
    if not inc.restored_table:
        raise AssertionError("no restored table: wait for the restore first ('a restore job completes within ...')")
    stack = drill.require_stack()
    if "events" not in drill.target.capabilities:
        response = drill.client("lambda").invoke(
            FunctionName=stack.names.reprotect_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(completion_event(drill)).encode(),
        )
        if response.get("FunctionError"):
            raise AssertionError(f"re-protection failed: {response['Payload'].read().decode()[:300]}")
    ddb = drill.client("dynamodb")
    table = ddb.describe_table(TableName=inc.restored_table)["Table"]
    arn = table["TableArn"]
    stream = table.get("StreamSpecification", {})
    pitr = ddb.describe_continuous_backups(TableName=inc.restored_table)["ContinuousBackupsDescription"]
    pitr_status = pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}
    stream_arn = table.get("LatestStreamArn")
    mappings = (
        [
            m
            for m in drill.client("lambda").list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
            if m.get("FunctionArn", "").endswith(f":function:{stack.names.monitor_function}")
        ]
        if stream_arn
        else []
    )
    selection = drill.client("backup").get_backup_selection(BackupPlanId=stack.plan_id, SelectionId=stack.selection_id)
    covered = any(fnmatch.fnmatchcase(arn, r) for r in selection["BackupSelection"].get("Resources", []))
    checks = {
        "stream NEW_AND_OLD_IMAGES": stream.get("StreamEnabled")
        and stream.get("StreamViewType") == "NEW_AND_OLD_IMAGES",
        "point-in-time recovery ENABLED": pitr_status == "ENABLED",
        "drdrill tags copied": tags.get(TAG_RUN_ID) == drill.run_id and tags.get(TAG_MANAGED) == "true",
        "change monitor attached": bool(mappings),
        "covered by the backup selection": covered,
    }
    if inc.table_lost:
        # The source table is gone with its tags: there is nothing to copy, so the check does not apply.
        del checks["drdrill tags copied"]
        drill.record.add_evidence("notes", "tags not checked: the source table was deleted, so none could be copied")
    for name, ok in checks.items():
        drill.record.posture.append(
            {
                "check": f"restored table: {name}",
                "expected": "yes",
                "actual": "yes" if ok else "no",
                "ok": bool(ok),
            }
        )
    drill.record.add_evidence("notes", f"re-protection verified at {iso(utcnow())} on {inc.restored_table}")
    failed = [name for name, ok in checks.items() if not ok]
    assert not failed, f"restored table {inc.restored_table} is not protected again: missing {', '.join(failed)}"
