"""AWS Backup lists page by MaxResults / NextToken as AWS documents (plain boto3)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import completed_backup, create_role, create_table

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session


@pytest.fixture
def points(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    """Three recovery points of one table, oldest first."""
    ddb, backup = embedded.client("dynamodb"), embedded.client("backup")
    arn = create_table(ddb, f"pages-{unique}")
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(embedded.client("iam"), f"pages-role-{unique}")
    made = [completed_backup(backup, vault, arn, role) for _ in range(3)]
    return {"backup": backup, "arn": arn, "vault": vault, "made": made}


def test_max_results_pages_and_next_token_continues(points: dict[str, Any]) -> None:
    backup, arn = points["backup"], points["arn"]
    first = backup.list_recovery_points_by_resource(ResourceArn=arn, MaxResults=1)
    assert [p["RecoveryPointArn"] for p in first["RecoveryPoints"]] == points["made"][:1]
    rest = backup.list_recovery_points_by_resource(ResourceArn=arn, MaxResults=2, NextToken=first["NextToken"])
    assert [p["RecoveryPointArn"] for p in rest["RecoveryPoints"]] == points["made"][1:]
    assert "NextToken" not in rest
    paginator = backup.get_paginator("list_recovery_points_by_backup_vault")
    pages = list(paginator.paginate(BackupVaultName=points["vault"], PaginationConfig={"PageSize": 2}))
    assert [len(page["RecoveryPoints"]) for page in pages] == [2, 1]
    jobs = backup.list_backup_jobs(ByResourceArn=arn, MaxResults=2)
    assert len(jobs["BackupJobs"]) == 2 and jobs["NextToken"]


def test_a_forged_token_or_a_page_size_out_of_range_is_refused(
    points: dict[str, Any], embedded: EmbeddedTarget
) -> None:
    raw = fake_session(embedded.region).client(
        "backup", endpoint_url=embedded.endpoint_url, config=Config(parameter_validation=False)
    )
    for kwargs in ({"NextToken": "forged"}, {"MaxResults": 0}, {"MaxResults": 1001}):
        with pytest.raises(ClientError) as err:
            raw.list_recovery_points_by_resource(ResourceArn=points["arn"], **kwargs)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException", kwargs
    everything = raw.list_recovery_points_by_resource(ResourceArn=points["arn"])
    assert len(everything["RecoveryPoints"]) == 3 and "NextToken" not in everything
