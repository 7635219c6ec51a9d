"""Is the restored table protected again? A restored table on AWS has no stream, PITR, TTL or tags.

AWS copies none of those settings to a restored table
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CreateBackup.html#CreateBackup_HowItWorks,
and for PITR "You must manually set up the following on the restored table: ... Tags, Stream settings, ...
Point in time recovery settings",
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html), so the change
monitor's second entry point (``on_restore_completed``) turns it into a protected table. Who invokes it:

* **AWS Backup restores** (the ``backup`` strategy, table loss): AWS Backup sends "Restore Job State Change"
  events to EventBridge, best effort and batched every 5 minutes
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html), and the stack's rule on
  ``status: COMPLETED`` invokes the function. EventBridge delivery is asynchronous, so on a
  target with the ``events`` capability the drill *waits* (:data:`EVENTBRIDGE_WAIT_S`, a tenacity
  :class:`~dr_infra.drill.waits.WaitPolicy`) for the re-protection to show up; if it does not, the drill invokes the
  function itself and the journal says EventBridge did not deliver within the wait. On targets without
  EventBridge delivery (embedded) the drill invokes it directly, and says so.
* **Point-in-time restores** (the ``pitr`` strategy): DynamoDB emits no completion event for
  RestoreTableToPointInTime. Its only EventBridge event is CloudTrail's "AWS API Call via CloudTrail"
  (``source: aws.dynamodb``, ``detail.eventName: RestoreTableToPointInTime``,
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-dynamodb.html), which is delivered best effort
  when the call is made, i.e. when the restore *starts* and the new table is still CREATING, so it cannot
  trigger re-protection by itself. The drill therefore invokes ``on_restore_completed`` itself on every
  target once the restored table is ACTIVE, and notes it in the journal: outside a drill this is a runbook
  step (README, "Re-protecting a point-in-time restore").
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable
from typing import Any

from dr_infra.drill.state import Drill
from dr_infra.drill.waits import PHASE_TABLE_ACTIVE, Probe, WaitPolicy, table_active_probe
from dr_infra.errors import WaitTimeout
from dr_infra.report.journal import iso, utcnow
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID

EVENTBRIDGE_WAIT_S = 420.0
"""How long to wait for EventBridge to deliver AWS Backup's completion event and the function to finish: "AWS
Backup emits events to EventBridge in a best-effort manner every 5 minutes"
(https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html), plus two minutes for delivery and
the function's run."""
TABLE_ACTIVE_WAIT_S = 3600.0
"""Re-protection needs an ACTIVE table; by this step the restore step has normally waited for it already."""
PHASE_EVENTBRIDGE = "restore completed -> re-protected by the EventBridge rule"

Checks = dict[str, bool]


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


def missing(checks: Checks) -> list[str]:
    """Names of the properties not (yet) in place."""
    return [name for name, ok in checks.items() if not ok]


def ensure_reprotected(
    *,
    table: str,
    pitr: bool,
    events: bool,
    read: Callable[[], Checks],
    invoke: Callable[[], None],
    wait_s: float = EVENTBRIDGE_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Make sure re-protection of ``table`` ran, invoking it when AWS will not (or did not); return the note.

    ``read`` reports each property of a protected table, ``invoke`` runs ``on_restore_completed`` (raising
    when it fails). The note says who re-protected the table, for the journal.
    """
    if pitr:
        invoke()
        return (
            f"the drill invoked re-protection of {table} itself once it was ACTIVE: DynamoDB emits no completion "
            "event for a point-in-time restore (only CloudTrail's 'AWS API Call via CloudTrail' for "
            "RestoreTableToPointInTime, when the restore starts); on AWS this is a runbook step"
        )
    if not events:
        invoke()
        return (
            f"the target has no EventBridge delivery: the drill invoked re-protection of {table} itself, with "
            "the AWS Backup 'Restore Job State Change' COMPLETED event the stack's rule would deliver"
        )

    def probe() -> Probe:
        absent = missing(read())
        return Probe(not absent, f"missing {', '.join(absent)}" if absent else "protected")

    started = clock()
    try:
        WaitPolicy(PHASE_EVENTBRIDGE, wait_s, first_interval=1.0, max_interval=10.0).run(
            probe, sleep=sleep, clock=clock
        )
    except WaitTimeout as exc:
        invoke()
        return (
            f"EventBridge did not deliver AWS Backup's 'Restore Job State Change' COMPLETED event (or the "
            f"re-protection it triggers did not finish) within {wait_s:g} s ({exc.last_state}): the drill invoked "
            f"re-protection of {table} itself"
        )
    return (
        f"{table} was re-protected by the stack's EventBridge rule on AWS Backup's 'Restore Job State Change' "
        f"COMPLETED event within {clock() - started:.1f} s"
    )


def _read_checks(drill: Drill) -> Checks:
    """Each property of a protected table, read back with boto3."""
    inc = drill.incident
    stack = drill.require_stack()
    table_name = str(inc.restored_table)
    ddb = drill.client("dynamodb")
    table = ddb.describe_table(TableName=table_name)["Table"]
    arn = table["TableArn"]
    stream = table.get("StreamSpecification", {})
    pitr = ddb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
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
        "stream NEW_AND_OLD_IMAGES": bool(
            stream.get("StreamEnabled") and stream.get("StreamViewType") == "NEW_AND_OLD_IMAGES"
        ),
        "point-in-time recovery ENABLED": pitr_status == "ENABLED",
        "drdrill tags copied": tags.get(TAG_RUN_ID) == drill.run_id and tags.get(TAG_MANAGED) == "true",
        "change monitor attached": bool(mappings),
        "covered by the backup selection": covered,
    }
    if inc.table_lost:
        # The source table is gone with its tags: there is nothing to copy, so the check does not apply.
        del checks["drdrill tags copied"]
    return checks


def _invoker(drill: Drill) -> Callable[[], None]:
    def invoke() -> None:
        response = drill.client("lambda").invoke(
            FunctionName=drill.require_stack().names.reprotect_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(completion_event(drill)).encode(),
        )
        if response.get("FunctionError"):
            raise AssertionError(f"re-protection failed: {response['Payload'].read().decode()[:300]}")

    return invoke


def verify(
    drill: Drill,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    eventbridge_wait_s: float = EVENTBRIDGE_WAIT_S,
) -> None:
    """Make sure re-protection ran (see the module docstring), then prove each property from what boto3 reads."""
    drill.require("lambda_execution", why="re-protection is done by the change monitor's second entry point")
    inc = drill.incident
    if not inc.restored_table:
        raise AssertionError("no restored table: wait for the restore first ('a restore job completes within ...')")
    WaitPolicy(PHASE_TABLE_ACTIVE, TABLE_ACTIVE_WAIT_S, max_interval=10.0).run(
        table_active_probe(drill.client("dynamodb"), inc.restored_table), sleep=sleep, clock=clock
    )
    note = ensure_reprotected(
        table=inc.restored_table,
        pitr=not inc.restore_job_id,
        events="events" in drill.target.capabilities,
        read=lambda: _read_checks(drill),
        invoke=_invoker(drill),
        wait_s=eventbridge_wait_s,
        sleep=sleep,
        clock=clock,
    )
    drill.record.add_evidence("notes", note)
    checks = _read_checks(drill)
    if inc.table_lost:
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
    failed = missing(checks)
    assert not failed, f"restored table {inc.restored_table} is not protected again: missing {', '.join(failed)}"
