"""AWS Backup plans as AWS validates them: CreateBackupPlan, UpdateBackupPlan, DeleteBackupPlan.

What AWS does:

* A plan is one or more rules. ``RuleName`` matches ``^[a-zA-Z0-9\\-\\_\\.]{1,50}$`` and
  ``TargetBackupVaultName`` ``^[a-zA-Z0-9\\-\\_]{2,50}$``; the vault must exist.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html
* ``ScheduleExpression`` is a cron expression in the EventBridge schedule syntax (default
  ``cron(0 5 ? * * *)``); backups can be scheduled "as frequently as hourly", and AWS refuses a schedule whose
  runs are less than 60 minutes apart.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
* ``StartWindowMinutes``, when given, "must be at least 60 minutes"; it and ``CompletionWindowMinutes`` have a
  maximum of 100 years (52,560,000 minutes). Defaults: 480 and 10080.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html
* ``Lifecycle``: backups moved to cold storage stay there at least 90 days, so ``DeleteAfterDays`` must be at
  least ``MoveToColdStorageAfterDays + 90``; neither may exceed 36,500 days.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html
* A continuous-backup rule (``EnableContinuousBackup``) keeps 1 to 35 days and cannot move to cold storage
  ("Invalid lifecycle. MoveToColdStorageAfterDays is unavailable").
  https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html
* ``RecoveryPointTags``, when given, is a map of tags (keys 1-128 characters, no ``aws:`` prefix), put on
  every recovery point the rule makes (:mod:`backup_tags`).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html
* Every violation is ``InvalidParameterValueException`` ("Error in rule NAME : ..."), as in the botocore model
  of CreateBackupPlan / UpdateBackupPlan. A plan name must be unique among the account's plans
  (``AlreadyExistsException``); a deleted plan no longer holds its name. A plan cannot be deleted while it
  still has selections (``InvalidRequestException``). UpdateBackupPlan replaces the rules, gives the plan a
  new ``VersionId``, and cannot rename it.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_UpdateBackupPlan.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteBackupPlan.html

What moto 5.2.5 does instead: accepts any rule, keeps a deleted plan's name taken forever, deletes a plan that
still has selections, and has no UpdateBackupPlan (HTTP 500).

What is modelled here: every check above, on create and update, before anything is stored. The schedule is
parsed by :mod:`dr_infra.targets.schedule_expression` (the parser the plan clock runs plans with, so a plan the
target accepts is one it can run); ``rate()`` is accepted as that parser accepts it, ``L``/``W``/``#`` and
non-UTC time zones are refused as not modelled.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from moto.backup.exceptions import (
    AlreadyExistsException,
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Plan
from moto.backup.responses import BackupResponse
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random

from dr_infra.targets import schedule_expression
from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import backup_tags, moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.Plan",
    "moto.backup.models.BackupBackend.create_backup_plan",
    "moto.backup.models.BackupBackend.delete_backup_plan",
    "moto.backup.models.BackupBackend.tag_resource",
    "moto.backup.responses.BackupResponse",
    "moto.backup.exceptions.AlreadyExistsException",
    "moto.backup.exceptions.InvalidRequestException",
    "moto.moto_api._internal.mock_random",
)

RULE_NAME = re.compile(r"^[a-zA-Z0-9\-\_\.]{1,50}$")
VAULT_NAME = re.compile(r"^[a-zA-Z0-9\-\_]{2,50}$")
MIN_START_WINDOW = 60
DEFAULT_START_WINDOW = 480
"""StartWindowMinutes when a rule or StartBackupJob gives none: 8 hours (API_StartBackupJob, API_BackupRule)."""
MAX_WINDOW = 52_560_000
MAX_LIFECYCLE_DAYS = 36_500
COLD_STORAGE_MINIMUM_DAYS = 90
CONTINUOUS_MAX_DAYS = 35


def _number(rule: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidParameterValueException(f"Error in rule {rule} : {name} must be a whole number, got {value!r}")
    return int(value)


def check_schedule(rule: str, expression: str, timezone: str | None) -> None:
    """A rule's ScheduleExpression, or InvalidParameterValueException naming what is wrong.

    The syntax is :func:`dr_infra.targets.schedule_expression.parse`'s (what it does not model is refused with
    its reason); the hourly floor is checked on the next runs from an arbitrary instant.
    """
    try:
        schedule = schedule_expression.parse(expression, timezone)
    except schedule_expression.ScheduleError as err:
        raise InvalidParameterValueException(f"Error in rule {rule} : Invalid ScheduleExpression. {err}") from None
    runs = schedule.next_times(after=0.0, origin=0.0, count=3, horizon_s=3 * 86400)
    if any(b - a < 3600 for a, b in itertools.pairwise(runs)):
        raise InvalidParameterValueException(
            f"Error in rule {rule} : The interval between backup jobs shouldn't be less than 60 minutes."
        )


def check_lifecycle(rule: str, lifecycle: dict[str, Any], continuous: bool) -> None:
    cold = lifecycle.get("MoveToColdStorageAfterDays")
    delete = lifecycle.get("DeleteAfterDays")
    if cold is not None:
        if continuous:
            raise InvalidParameterValueException(
                f"Error in rule {rule} : Invalid lifecycle. MoveToColdStorageAfterDays is unavailable"
            )
        cold = _number(rule, "MoveToColdStorageAfterDays", cold)
        if not 0 <= cold <= MAX_LIFECYCLE_DAYS:
            raise InvalidParameterValueException(
                f"Error in rule {rule} : Invalid lifecycle. MoveToColdStorageAfterDays cannot be less than 0 or "
                f"more than {MAX_LIFECYCLE_DAYS} days"
            )
    if delete is not None:
        delete = _number(rule, "DeleteAfterDays", delete)
        top = CONTINUOUS_MAX_DAYS if continuous else MAX_LIFECYCLE_DAYS
        if not 1 <= delete <= top:
            raise InvalidParameterValueException(
                f"Error in rule {rule} : Invalid lifecycle. DeleteAfterDays cannot be less than 1 or more than "
                f"{top} days"
            )
        if cold is not None and delete < cold + COLD_STORAGE_MINIMUM_DAYS:
            raise InvalidParameterValueException(
                f"Error in rule {rule} : Invalid lifecycle. DeleteAfterDays ({delete}) must be at least 90 days "
                f"more than MoveToColdStorageAfterDays ({cold}): backups in cold storage are kept 90 days or more"
            )


def _check_rule(backend: BackupBackend, rule: Any) -> None:
    if not isinstance(rule, dict):
        raise InvalidParameterValueException("BackupPlan.Rules must be a list of rules")
    name = rule.get("RuleName")
    if not isinstance(name, str) or not RULE_NAME.match(name):
        raise InvalidParameterValueException(f"Invalid RuleName {name!r}: 1 to 50 alphanumeric or '-_.' characters")
    vault = rule.get("TargetBackupVaultName")
    if not isinstance(vault, str) or not VAULT_NAME.match(vault):
        raise InvalidParameterValueException(
            f"Error in rule {name} : Invalid TargetBackupVaultName {vault!r}: 2 to 50 alphanumeric or '-_' characters"
        )
    if vault not in backend.vaults:
        raise InvalidParameterValueException(f"Error in rule {name} : Backup vault {vault} does not exist")
    if rule.get("ScheduleExpression") is not None:
        check_schedule(name, str(rule["ScheduleExpression"]), rule.get("ScheduleExpressionTimezone"))
    start = rule.get("StartWindowMinutes")
    if start is not None and not MIN_START_WINDOW <= _number(name, "StartWindowMinutes", start) <= MAX_WINDOW:
        raise InvalidParameterValueException(
            f"Error in rule {name} : StartWindowMinutes must be at least {MIN_START_WINDOW} and at most "
            f"{MAX_WINDOW}, got {start}"
        )
    completion = rule.get("CompletionWindowMinutes")
    if completion is not None and not 1 <= _number(name, "CompletionWindowMinutes", completion) <= MAX_WINDOW:
        raise InvalidParameterValueException(
            f"Error in rule {name} : CompletionWindowMinutes must be at least 1 and at most {MAX_WINDOW}, "
            f"got {completion}"
        )
    backup_tags.check_tags(rule.get("RecoveryPointTags"), f"Error in rule {name} : RecoveryPointTags")
    lifecycle = rule.get("Lifecycle")
    if lifecycle is not None:
        if not isinstance(lifecycle, dict):
            raise InvalidParameterValueException(f"Error in rule {name} : Lifecycle must be an object")
        check_lifecycle(name, lifecycle, bool(rule.get("EnableContinuousBackup")))


def check_plan(backend: BackupBackend, plan: Any) -> None:
    """A BackupPlan document as AWS checks it, or InvalidParameterValueException naming the first problem."""
    if not isinstance(plan, dict):
        raise model.MissingParameterValueException("BackupPlan is required")
    name = plan.get("BackupPlanName")
    if not isinstance(name, str) or not name:
        raise model.MissingParameterValueException("BackupPlan.BackupPlanName is required")
    rules = plan.get("Rules")
    if not isinstance(rules, list) or not rules:
        raise InvalidParameterValueException("BackupPlan.Rules must contain at least one rule")
    for rule in rules:
        _check_rule(backend, rule)


def _live_plans(backend: BackupBackend) -> list[Plan]:
    return [p for p in backend.plans.values() if p.deletion_date is None]


def create_backup_plan(
    self: BackupBackend, backup_plan: dict[str, Any], backup_plan_tags: dict[str, str], creator_request_id: str
) -> Plan:
    """moto's create_backup_plan with AWS's checks; only live plans hold their names."""
    check_plan(self, backup_plan)
    if any(p.backup_plan["BackupPlanName"] == backup_plan["BackupPlanName"] for p in _live_plans(self)):
        raise AlreadyExistsException(msg="Backup plan with the same plan document already exists")
    plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=self)
    if backup_plan_tags:
        self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
    self.plans[plan.backup_plan_id] = plan
    return plan


def update_backup_plan(backend: BackupBackend, plan_id: str, backup_plan: dict[str, Any]) -> Plan:
    """UpdateBackupPlan: new rules and a new VersionId for a live plan of the same name."""
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(msg="Failed reading Backup plan with provided version")
    check_plan(backend, backup_plan)
    if backup_plan["BackupPlanName"] != plan.backup_plan["BackupPlanName"]:
        raise InvalidParameterValueException(
            f"The name of backup plan {plan.backup_plan['BackupPlanName']} cannot be changed "
            f"(got {backup_plan['BackupPlanName']})"
        )
    fresh = Plan(backup_plan=backup_plan, creator_request_id=plan.creator_request_id, backend=backend)
    plan.backup_plan = fresh.backup_plan
    plan.advanced_backup_settings = fresh.advanced_backup_settings
    plan.version_id = mock_random.get_random_string(length=48)
    return plan


def _wrap_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        with model.lock:
            if model.state_of(self).selections.get(backup_plan_id):
                raise InvalidRequestException(
                    msg="Related backup plan selections must be deleted prior to backup plan deletion"
                )
        return original(self, backup_plan_id)

    return delete_backup_plan


def _update_backup_plan_handler(self: BackupResponse) -> ActionResult:
    plan_id = self.path.rstrip("/").split("/plans/")[-1].split("/")[0]
    body = json.loads(self.body or "{}")
    plan = update_backup_plan(self.backup_backend, plan_id, body.get("BackupPlan"))
    return ActionResult(
        {
            "BackupPlanId": plan.backup_plan_id,
            "BackupPlanArn": plan.backup_plan_arn,
            "CreationDate": model.utc(plan.creation_date),
            "VersionId": plan.version_id,
        }
    )


def install() -> None:
    """Replace moto's plan creation, guard its deletion, add UpdateBackupPlan."""
    moto_patch.replace(BackupBackend, "create_backup_plan", create_backup_plan, by=__name__)
    moto_patch.wrap(BackupBackend, "delete_backup_plan", _wrap_delete, by=__name__)
    moto_patch.add(BackupResponse, "update_backup_plan", _update_backup_plan_handler, by=__name__)
