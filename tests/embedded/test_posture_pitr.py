"""The PITR posture check reads the table's own setting and says the plan's EnableContinuousBackup does not apply."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from restore_helpers import create_table

from dr_infra.stack.provision import Stack
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.posture import PostureInspector


def _inspector(embedded: EmbeddedTarget, unique: str, pitr: bool) -> PostureInspector:
    ddb, backup = embedded.client("dynamodb"), embedded.client("backup")
    table = f"posture-{unique}"
    create_table(ddb, table)
    if pitr:
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    backup.create_backup_vault(BackupVaultName=f"vault-{unique}")
    plan_id = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": f"plan-{unique}",
            "Rules": [{"RuleName": "r", "TargetBackupVaultName": f"vault-{unique}", "EnableContinuousBackup": True}],
        }
    )["BackupPlanId"]
    stack: Any = SimpleNamespace(names=SimpleNamespace(table=table), plan_id=plan_id)
    return PostureInspector(embedded, cast(Stack, stack))


def test_pitr_posture_passes_on_the_tables_setting_and_says_what_the_plans_flag_does(
    embedded: EmbeddedTarget, unique: str
) -> None:
    check = _inspector(embedded, unique, pitr=True).pitr_enabled()
    assert check.ok and check.actual.startswith("ENABLED (the table's DescribeContinuousBackups")
    assert "EnableContinuousBackup (True) does not apply to DynamoDB" in check.actual


def test_the_plans_continuous_backup_flag_does_not_make_pitr_pass(embedded: EmbeddedTarget, unique: str) -> None:
    check = _inspector(embedded, unique, pitr=False).pitr_enabled()
    assert not check.ok
    assert check.actual.startswith("DISABLED")
    assert "EnableContinuousBackup (True) does not apply to DynamoDB" in check.actual
