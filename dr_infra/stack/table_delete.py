"""DeleteTable as DynamoDB allows it: only once the table is no longer CREATING or UPDATING.

DynamoDB refuses to delete a table whose status is CREATING or UPDATING with ResourceInUseException
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html: "If the table is in the
CREATING or UPDATING states, then DynamoDB returns a ResourceInUseException"). A table a restore is still
creating when a drill ends (an interrupted drill, a slow restore) must therefore be deleted when it settles,
not given up on: the delete is retried (tenacity) until the table can be deleted or is gone, up to
:data:`SETTLE_TIMEOUT_S` (a DynamoDB restore can take well over 20 minutes on AWS). A table already gone is
fine (the cleanup records it as such). That wait can be as long as a restore, so whoever watches the run is told
about it (:func:`set_wait_reporter`; ``drdrill run``'s progress lines): a teardown is never silent for long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential

SETTLE_TIMEOUT_S = 3600.0

#: Told while a DeleteTable waits for a CREATING/UPDATING table: (table name, seconds waited, finished).
WaitReporter = Callable[[str, float, bool], None]
_reporter: WaitReporter | None = None


def set_wait_reporter(reporter: WaitReporter | None) -> None:
    """Tell ``reporter`` about every retry of a refused DeleteTable and, once one was told, its end (``None``:
    silence; :func:`dr_infra.bdd.progress.install` sets it)."""
    global _reporter
    _reporter = reporter


def _in_use(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceInUseException"


def delete_table_when_settled(
    ddb: Any,
    name: str,
    timeout_s: float = SETTLE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """``DeleteTable`` once DynamoDB accepts it; ResourceInUseException (CREATING/UPDATING) is waited out."""
    reporter = _reporter
    started = clock()
    told = False

    def before_sleep(state: RetryCallState) -> None:
        nonlocal told
        if reporter is not None:
            told = True
            reporter(name, clock() - started, False)

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
    if told and reporter is not None:
        reporter(name, clock() - started, True)


def delete_system_backups(ddb: Any, prefix: str) -> None:
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
