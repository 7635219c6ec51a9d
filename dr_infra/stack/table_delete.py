"""DeleteTable as DynamoDB allows it: only once the table is no longer CREATING or UPDATING.

DynamoDB refuses to delete a table whose status is CREATING or UPDATING with ResourceInUseException
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html: "If the table is in the
CREATING or UPDATING states, then DynamoDB returns a ResourceInUseException"). A table a restore is still
creating when a drill ends (an interrupted drill, a slow restore) must therefore be deleted when it settles,
not given up on: the delete is retried (tenacity) until the table can be deleted or is gone, up to
:data:`SETTLE_TIMEOUT_S` (a DynamoDB restore can take well over 20 minutes on AWS). A table already gone is
fine (the cleanup records it as such). That wait can be as long as a restore, so whoever watches the run is told
about it (:mod:`dr_infra.stack.wait_report`; ``drdrill run``'s progress lines): a teardown is never silent for long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential

from dr_infra.stack import wait_report

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SETTLE_TIMEOUT_S = 3600.0


def _in_use(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceInUseException"


def delete_table_when_settled(
    ddb: DynamoDBClient,
    name: str,
    timeout_s: float = SETTLE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """``DeleteTable`` once DynamoDB accepts it; ResourceInUseException (CREATING/UPDATING) is waited out."""
    wait = wait_report.Wait(f"table {name} settles before DeleteTable", clock)

    def before_sleep(state: RetryCallState) -> None:
        wait.tick("CREATING or UPDATING: DeleteTable refused")

    for attempt in Retrying(
        retry=retry_if_exception(_in_use),
        wait=wait_exponential(multiplier=0.2, max=10),
        stop=stop_after_delay(timeout_s),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    ):
        with attempt:
            ddb.delete_table(TableName=name)
    wait.done("deleted")


def delete_system_backups(ddb: DynamoDBClient, prefix: str) -> None:
    """Delete the SYSTEM backups DynamoDB made of the tables named ``prefix``... that drdrill deleted.

    Deleting a table with point-in-time recovery on makes DynamoDB keep a system backup of it for 35 days
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html): the
    drill caused it, so teardown removes it. ``prefix`` is run-prefixed, so only the drill's own tables match.
    """
    kwargs: dict[str, Any] = {"BackupType": "SYSTEM"}
    while True:
        page = ddb.list_backups(**kwargs)
        for summary in page.get("BackupSummaries", []):
            if str(summary.get("TableName", "")).startswith(prefix):
                ddb.delete_backup(BackupArn=summary["BackupArn"])
        if not page.get("LastEvaluatedBackupArn"):
            return
        kwargs["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
