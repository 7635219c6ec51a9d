"""Tags on AWS Backup recovery points: RecoveryPointTags kept on the point, ListTags, and IAM's view of them.

What AWS does:

* ``StartBackupJob`` takes ``RecoveryPointTags`` (a string-to-string map) "to assign to the resources"; a plan
  rule's ``RecoveryPointTags`` are put on every recovery point the rule makes.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html
* ``ListTags`` returns the tags of a recovery point, backup plan or backup vault (for recovery points of
  resource types with full AWS Backup management, which DynamoDB with advanced features is); a recovery point
  that does not exist is ``ResourceNotFoundException``.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListTags.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html
* IAM: the ``recoveryPoint`` resource type takes ``aws:ResourceTag/${TagKey}``, so a policy can grant
  ``StartRestoreJob`` only on recovery points carrying a tag; the request context holds the point's tags.
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html
* Tag keys are 1 to 128 characters, values 0 to 256, and the ``aws:`` prefix is reserved for AWS.
  https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html

What moto 5.2.5 does instead: StartBackupJob does not exist; ``ListTags`` answers ``{}`` for any ARN.

What is modelled here: the tags are kept in moto's Backup ``tagger`` under the recovery point's ARN (so
moto's ``TagResource`` / ``UntagResource`` / ``ListTags`` apply to them) and removed with the point;
``ListTags`` of an AWS Backup recovery point ARN this target does not hold is ``ResourceNotFoundException``;
:func:`tags_of` is what :mod:`iam_enforcement` reads for ``aws:ResourceTag/`` keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.backup.exceptions import InvalidParameterValueException, ResourceNotFoundException
from moto.backup.models import BackupBackend, backup_backends
from moto.backup.responses import BackupResponse

from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.tag_resource",
    "moto.backup.responses.BackupResponse.list_tags",
    "moto.utilities.tagging_service.TaggingService.get_tag_dict_for_resource",
    "moto.utilities.tagging_service.TaggingService.delete_all_tags_for_resource",
)
"""It also reads the backend's ``tagger`` (a ``TaggingService`` made in ``BackupBackend.__init__``) and the
response's ``path`` and ``backup_backend``."""

MAX_KEY, MAX_VALUE = 128, 256


def check_tags(tags: Any, where: str = "RecoveryPointTags") -> dict[str, str]:
    """A ``RecoveryPointTags`` map as AWS accepts it, or InvalidParameterValueException naming the problem."""
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise InvalidParameterValueException(f"{where} must be a map of tag keys to values")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
            raise InvalidParameterValueException(f"{where}: tag key {key!r} must be 1 to {MAX_KEY} characters")
        if key.lower().startswith("aws:"):
            raise InvalidParameterValueException(f"{where}: tag key {key!r}: the aws: prefix is reserved")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise InvalidParameterValueException(
                f"{where}: the value of tag {key!r} must be 0 to {MAX_VALUE} characters"
            )
    return dict(tags)


def tag_recovery_point(backend: BackupBackend, arn: str, tags: dict[str, str]) -> None:
    """Put ``tags`` on a new recovery point (nothing to do for none)."""
    if tags:
        backend.tag_resource(arn, tags)


def forget(backend: BackupBackend, arn: str) -> None:
    """A deleted recovery point's tags go with it."""
    backend.tagger.delete_all_tags_for_resource(arn)


def _backend_of(arn: str) -> BackupBackend | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "backup" or not parts[5].startswith("recovery-point:"):
        return None
    account, region = parts[4], parts[3]
    if account not in backup_backends or region not in backup_backends[account]:
        return None
    return backup_backends[account][region]


def tags_of(arn: str) -> dict[str, str]:
    """The tags of the AWS Backup recovery point ``arn`` as IAM sees them (none for a point not held here)."""
    backend = _backend_of(arn)
    if backend is None:
        return {}
    with model.lock:
        held = arn in model.state_of(backend).recovery_points
    return dict(backend.tagger.get_tag_dict_for_resource(arn)) if held else {}


def _wrap_list_tags(original: Callable[[BackupResponse], Any]) -> Callable[[BackupResponse], Any]:
    def list_tags(self: BackupResponse) -> Any:
        arn = unquote(self.path.rstrip("/").split("/")[-1])
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "backup" and parts[5].startswith("recovery-point:"):
            with model.lock:
                held = arn in model.state_of(self.backup_backend).recovery_points
            if not held:
                raise ResourceNotFoundException(f"Recovery point {arn} not found")
        return original(self)

    return list_tags


def install() -> None:
    """ListTags refuses recovery points that do not exist."""
    moto_patch.wrap(BackupResponse, "list_tags", _wrap_list_tags, by=__name__)
