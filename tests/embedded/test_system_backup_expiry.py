"""The SYSTEM backup DynamoDB keeps of a deleted PITR table expires after 35 days, on the plan clock of a plan
that selects the table (black box, plain boto3 and the control route that moves plan clocks)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import create_role, create_table, put

from dr_infra.targets.embedded import EmbeddedTarget

DAY = 86400.0


def _deleted_pitr_table(ddb: Any, name: str) -> str:
    """Create, fill, protect with PITR and delete ``name``; the ARN of the SYSTEM backup it leaves."""
    create_table(ddb, name)
    put(ddb, name, "a", 1)
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.delete_table(TableName=name)
    (system,) = ddb.list_backups(TableName=name, BackupType="SYSTEM")["BackupSummaries"]
    return str(system["BackupArn"])


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"])


@pytest.fixture
def planned(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    """Two deleted PITR tables; a backup plan (``expiry-<unique>``) whose selection names only the first."""
    ddb, backup = embedded.client("dynamodb"), embedded.client("backup")
    selected, other = f"expiry-sel-{unique}", f"expiry-other-{unique}"
    systems = {selected: _deleted_pitr_table(ddb, selected), other: _deleted_pitr_table(ddb, other)}
    source = ddb.describe_backup(BackupArn=systems[selected])["BackupDescription"]["SourceTableDetails"]
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(embedded.client("iam"), f"expiry-role-{unique}")
    plan_id = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": f"expiry-{unique}",
            "Rules": [{"RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 * * ? *)"}],
        }
    )["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={
            "SelectionName": "one",
            "IamRoleArn": role,
            "Resources": [source["TableArn"]],
        },
    )
    return {"ddb": ddb, "systems": systems, "selected": selected, "other": other, "scope": f"expiry-{unique}"}


def test_the_system_backup_of_a_selected_table_expires_35_days_on_the_plan_clock(
    embedded: EmbeddedTarget, planned: dict[str, Any]
) -> None:
    assert embedded.control is not None
    ddb, arn = planned["ddb"], planned["systems"][planned["selected"]]
    embedded.control.advance_plan_clock(34 * DAY, scope=planned["scope"])
    kept = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]
    assert kept["BackupType"] == "SYSTEM"  # 34 days old: still kept, and still listed
    assert (kept["BackupExpiryDateTime"] - kept["BackupCreationDateTime"]).total_seconds() == pytest.approx(35 * DAY)
    assert kept["BackupCreationDateTime"].timestamp() == pytest.approx(time.time() - 34 * DAY, abs=60)
    (summary,) = ddb.list_backups(TableName=planned["selected"], BackupType="SYSTEM")["BackupSummaries"]
    assert (summary["BackupArn"], summary["BackupExpiryDateTime"]) == (arn, kept["BackupExpiryDateTime"])

    embedded.control.advance_plan_clock(1 * DAY, scope=planned["scope"])
    assert ddb.list_backups(TableName=planned["selected"], BackupType="ALL")["BackupSummaries"] == []
    assert _code(lambda: ddb.describe_backup(BackupArn=arn)) == "BackupNotFoundException"
    assert (
        _code(lambda: ddb.restore_table_from_backup(TargetTableName=f"{planned['selected']}-back", BackupArn=arn))
        == "BackupNotFoundException"
    )
    assert _code(lambda: ddb.describe_table(TableName=f"{planned['selected']}-back")) == "ResourceNotFoundException"


def test_a_plan_clock_does_not_age_the_system_backup_of_a_table_it_does_not_select(
    embedded: EmbeddedTarget, planned: dict[str, Any]
) -> None:
    assert embedded.control is not None
    ddb, arn = planned["ddb"], planned["systems"][planned["other"]]
    embedded.control.advance_plan_clock(40 * DAY, scope=planned["scope"])
    assert ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupType"] == "SYSTEM"
    restored = f"{planned['other']}-back"
    ddb.restore_table_from_backup(TargetTableName=restored, BackupArn=arn)  # on the wall clock: days from expiry
    assert ddb.describe_table(TableName=restored)["Table"]["RestoreSummary"]["SourceBackupArn"] == arn
