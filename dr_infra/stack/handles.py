"""Handles of one provisioned DR stack: the names, ARNs and ids that steps, posture checks and plans read.

Its own module so the modules that build parts of a stack (:mod:`dr_infra.stack.user_stack`) and the ones that
read one (posture, plans) need not import the provisioner: imports point down, never in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames
from dr_infra.stack.spec import StackSpec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TagTypeDef

RUNTIME: Final = "python3.13"
MONITOR_HANDLER = "change_monitor.handler.lambda_handler"
REPROTECT_HANDLER = "change_monitor.handler.on_restore_completed"


@dataclass
class Stack:
    """Handles of one provisioned DR stack (what steps and posture checks need)."""

    names: StackNames
    spec: StackSpec
    region: str
    account_id: str
    cleanups: Cleanups
    table_arn: str = ""
    stream_arn: str = ""
    vault_arn: str = ""
    plan_id: str = ""
    selection_id: str = ""
    backup_role_arn: str = ""
    monitor_role_arn: str = ""
    monitor_function_arn: str = ""
    reprotect_function_arn: str = ""
    mapping_uuid: str = ""
    code_sha256: str = ""
    created: list[str] = field(default_factory=list)

    def tag_list(self) -> list[TagTypeDef]:
        return [{"Key": k, "Value": v} for k, v in self.names.tags().items()]

    def monitor_environment(self) -> dict[str, str]:
        """The change monitor's DR_* variables (the public contract of the Lambda)."""
        return {
            "DR_STRATEGY": self.spec.strategy,
            "DR_TRIGGER_EVENTS": ",".join(self.spec.trigger_events),
            "DR_BACKUP_VAULT_NAME": self.names.vault,
            "DR_RESTORE_ROLE_ARN": self.backup_role_arn,
            "DR_LEDGER_TABLE": self.names.ledger_table,
            "DR_INCIDENT_WINDOW_SECONDS": str(self.spec.incident_window_s),
            "DR_MONITOR_FUNCTION_ARN": self.monitor_function_arn
            or f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.names.monitor_function}",
            **self.spec.extra_environment,
        }


def placeholder_values(stack: Stack) -> dict[str, str]:
    """What the placeholders of a stack definition's files stand for in this drill (see ``placeholders.KNOWN``)."""
    return {
        "table_name": stack.names.table,
        "table_arn": stack.table_arn,
        "stream_arn": stack.stream_arn,
        "vault_name": stack.names.vault,
        "vault_arn": stack.vault_arn,
        "restore_role_arn": stack.backup_role_arn,
        "backup_role_arn": stack.backup_role_arn,
        "monitor_role_arn": stack.monitor_role_arn,
        "monitor_function_name": stack.names.monitor_function,
        "region": stack.region,
        "account_id": stack.account_id,
        "run_id": stack.names.run_id,
    }
