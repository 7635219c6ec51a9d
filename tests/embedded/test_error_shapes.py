"""Bad input gets AWS's error code and shape, never an HTTP 500; AWS's managed backup policies attach (boto3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import create_table

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session

BACKUP_POLICIES = {
    "AWSBackupServiceRolePolicyForBackup": "dynamodb:CreateBackup",
    "AWSBackupServiceRolePolicyForRestores": "dynamodb:RestoreTableFromAwsBackup",
}


def _raw(embedded: EmbeddedTarget, service: str) -> Any:
    """A client that sends what it is given (no client-side validation) and never retries."""
    return fake_session(embedded.region).client(
        service,
        endpoint_url=embedded.endpoint_url,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call()
    return {
        "code": err.value.response["Error"]["Code"],
        "message": err.value.response["Error"]["Message"],
        "status": err.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_an_operation_moto_lacks_is_an_unknown_operation_not_a_500(embedded: EmbeddedTarget) -> None:
    error = _error(lambda: _raw(embedded, "backup").stop_backup_job(BackupJobId="JOB"))
    assert error["status"] == 400
    assert error["code"] == "UnknownOperationException"
    assert "backup:StopBackupJob is not modelled" in error["message"]


def test_a_missing_member_is_awss_validation_error(embedded: EmbeddedTarget, unique: str) -> None:
    ddb = _raw(embedded, "dynamodb")
    table = f"shape-{unique}"
    create_table(embedded.client("dynamodb"), table)
    error = _error(lambda: ddb.update_continuous_backups(TableName=table))
    assert error == {
        "code": "ValidationException",
        "message": "1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to "
        "satisfy constraint: Member must not be null",
        "status": 400,
    }
    enabled = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    assert enabled["ContinuousBackupsDescription"]["ContinuousBackupsStatus"] == "ENABLED"


def test_missing_vaults_are_not_found_first(embedded: EmbeddedTarget, unique: str) -> None:
    backup = _raw(embedded, "backup")
    missing = f"missing-{unique}"
    assert _error(lambda: backup.delete_backup_vault(BackupVaultName=missing))["code"] == "ResourceNotFoundException"
    start = _error(
        lambda: backup.start_backup_job(
            BackupVaultName=missing,
            ResourceArn="arn:aws:dynamodb:us-east-1:123456789012:table/t",
            IamRoleArn="arn:aws:iam::123456789012:role/not-there-either",
        )
    )
    assert start["code"] == "ResourceNotFoundException"  # the vault, before the role
    backup.create_backup_vault(BackupVaultName=missing)
    backup.delete_backup_vault(BackupVaultName=missing)
    assert missing not in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]


@pytest.mark.parametrize(("policy", "action"), sorted(BACKUP_POLICIES.items()))
def test_aws_backup_managed_policies_attach_with_awss_document(
    embedded: EmbeddedTarget, unique: str, policy: str, action: str
) -> None:
    iam = embedded.client("iam")
    role = f"managed-{unique}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    arn = f"arn:aws:iam::aws:policy/service-role/{policy}"
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [arn]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    actions = {
        a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert action in actions
    misspelled = arn.replace("Backup", "Bakcup", 1)
    assert _error(lambda: iam.attach_role_policy(RoleName=role, PolicyArn=misspelled))["code"] == "NoSuchEntity"


def _sending(client: Any, body: bytes) -> Any:
    """``client`` with every request body replaced by ``body`` on the wire (after signing, as a broken SDK or a
    hand-written request would send it)."""

    def replace(request: Any, **_: Any) -> None:
        request.body = body
        request.headers["Content-Length"] = str(len(body))

    client.meta.events.register("before-send.dynamodb.*", replace)
    return client


@pytest.mark.parametrize(
    ("body", "words"),
    [(b'{"TableName": ', "not valid JSON"), (b"[1, 2]", "must be a JSON object"), (b"not json", "not valid JSON")],
)
def test_a_dynamodb_body_that_is_not_a_json_object_is_a_serialization_exception(
    embedded: EmbeddedTarget, unique: str, body: bytes, words: str
) -> None:
    table = f"serial-{unique}"
    create_table(embedded.client("dynamodb"), table)
    broken = _sending(_raw(embedded, "dynamodb"), body)
    for call in (broken.list_tables, lambda: broken.describe_table(TableName=table)):
        error = _error(call)
        assert (error["code"], error["status"]) == ("SerializationException", 400)
        assert words in error["message"]
    assert _raw(embedded, "dynamodb").describe_table(TableName=table)["Table"]["TableName"] == table  # served


def test_a_well_formed_body_sent_the_same_way_is_served(embedded: EmbeddedTarget, unique: str) -> None:
    table = f"serial-ok-{unique}"
    create_table(embedded.client("dynamodb"), table)
    body = json.dumps({"TableName": table}).encode()
    assert _sending(_raw(embedded, "dynamodb"), body).describe_table(TableName="ignored")["Table"]["TableName"] == table


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("get_account_settings", {}),
        ("list_provisioned_concurrency_configs", {"FunctionName": "f"}),
        ("get_function_recursion_config", {"FunctionName": "f"}),
    ],
)
def test_a_lambda_operation_without_a_moto_route_is_not_modelled_in_awss_shape(
    embedded: EmbeddedTarget, operation: str, kwargs: dict[str, Any]
) -> None:
    """moto answers these with an HTML 404; the embedded target with AWS's JSON error naming the operation."""
    error = _error(lambda: getattr(_raw(embedded, "lambda"), operation)(**kwargs))
    assert (error["code"], error["status"]) == ("UnknownOperationException", 400)
    assert error["message"].startswith("lambda:") and "is not modelled by drdrill's embedded target" in error["message"]


def test_lambda_operations_moto_routes_still_answer(embedded: EmbeddedTarget) -> None:
    """The last-resort route does not shadow the routed operations, nor their own errors."""
    lam = _raw(embedded, "lambda")
    assert isinstance(lam.list_functions()["Functions"], list)
    assert _error(lambda: lam.get_function(FunctionName="no-such-function"))["code"] == "ResourceNotFoundException"
