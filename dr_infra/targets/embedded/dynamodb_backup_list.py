"""DynamoDB ListBackups filtered by BackupType as AWS does: USER backups unless another type is asked for.

What AWS does: ``BackupType`` selects what ListBackups returns: ``USER`` (on-demand backups you made; the
default when no type is given), ``SYSTEM`` (made by DynamoDB), ``AWS_BACKUP`` (made through AWS Backup) or
``ALL``. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListBackups.html#DDB-ListBackups-request-BackupType

What moto 5.2.5 does instead: ignores BackupType and lists every backup, so a plain ListBackups shows the
backups AWS Backup manages.

What is modelled here: moto's ListBackups handler answers only the backups of the asked type (``ALL``: every
type); an unknown type is ``ValidationException`` as the model's enum has it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.dynamodb.responses import DynamoHandler, DynamoResult

from dr_infra.targets.embedded import moto_patch
from dr_infra.targets.embedded.dynamodb_guards import ValidationException

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.responses.DynamoHandler.list_backups",
    "moto.dynamodb.responses.DynamoHandler.dynamodb_backend",
    "moto.dynamodb.responses.DynamoResult",
    "moto.dynamodb.models.table.Backup.summary",
)

BACKUP_TYPES = ("USER", "SYSTEM", "AWS_BACKUP", "ALL")


def _wrap(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @wraps(original)
    def list_backups(self: DynamoHandler) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        wanted = body.get("BackupType") or "USER"
        if wanted not in BACKUP_TYPES:
            raise ValidationException(
                f"1 validation error detected: Value '{wanted}' at 'backupType' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(BACKUP_TYPES)}]"
            )
        backups = self.dynamodb_backend.list_backups(body.get("TableName"))  # type: ignore[arg-type]  # None: all
        summaries = [b.summary for b in backups if wanted == "ALL" or b.summary.get("BackupType") == wanted]
        return DynamoResult({"BackupSummaries": summaries})

    return list_backups


def install() -> None:
    """Replace moto's ListBackups handler with the filtering one."""
    moto_patch.wrap(DynamoHandler, "list_backups", _wrap, by=__name__)
