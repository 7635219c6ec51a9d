"""Credentials mean something on the embedded target: one test per rule, each with a denied and an allowed case."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dr_infra.targets.embedded import EmbeddedTarget

from .conftest import Principals, denied, policy

ACCOUNT = "123456789012"


def _arn(table: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"


def test_keys_the_target_did_not_issue_act_as_the_accounts_root(embedded: EmbeddedTarget, table: str) -> None:
    assert embedded.client("dynamodb").describe_table(TableName=table)["Table"]["TableName"] == table
    assert embedded.client("sts").get_caller_identity()["Account"] == ACCOUNT


def test_a_users_inline_policy_is_enforced_on_the_resource_arn(principals: Principals, table: str) -> None:
    clients = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": _arn(table)}))
    ddb = clients("dynamodb")
    assert ddb.describe_table(TableName=table)["Table"]["TableName"] == table
    with pytest.raises(ClientError) as other:
        ddb.describe_table(TableName=f"{table}-other")
    assert "on resource: " + _arn(f"{table}-other") in denied(other, 400)
    with pytest.raises(ClientError) as delete:
        ddb.delete_table(TableName=table)
    message = denied(delete, 400)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{message.split('user/')[1].split(' ')[0]} is not authorized to perform: "
        f"dynamodb:DeleteTable on resource: {_arn(table)} because no identity-based policy allows the "
        "dynamodb:DeleteTable action"
    )


def test_attached_managed_policies_count_and_an_explicit_deny_wins(principals: Principals, table: str) -> None:
    deny = policy({"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"})
    clients = principals.user(deny, managed=("arn:aws:iam::aws:policy/AdministratorAccess",))
    ddb = clients("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})  # allowed by AdministratorAccess
    with pytest.raises(ClientError) as refused:
        ddb.delete_table(TableName=table)
    assert denied(refused, 400).endswith("with an explicit deny in an identity-based policy")


def test_not_action_grants_everything_else(principals: Principals, table: str) -> None:
    clients = principals.user(policy({"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}))
    assert clients("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})["ResponseMetadata"]
    with pytest.raises(ClientError) as refused:
        clients("dynamodb").delete_table(TableName=table)
    denied(refused, 400)


def test_lambda_and_backup_refuse_with_403(principals: Principals) -> None:
    clients = principals.user(
        policy({"Effect": "Allow", "Action": ["lambda:ListFunctions", "backup:ListBackupVaults"], "Resource": "*"})
    )
    assert "Functions" in clients("lambda").list_functions()
    assert "BackupVaultList" in clients("backup").list_backup_vaults()
    with pytest.raises(ClientError) as fn:
        clients("lambda").get_function(FunctionName="anything")
    assert "lambda:GetFunction on resource: arn:aws:lambda:us-east-1:" in denied(fn, 403)
    with pytest.raises(ClientError) as vault:
        clients("backup").describe_backup_vault(BackupVaultName="v")
    assert "backup:DescribeBackupVault" in denied(vault, 403)


def test_passing_a_role_needs_pass_role_to_that_service(principals: Principals, embedded: EmbeddedTarget) -> None:
    role = principals.role("backup.amazonaws.com")
    vault = f"lp-vault-{role[-8:]}"
    embedded.client("backup").create_backup_vault(BackupVaultName=vault)
    start = {"Effect": "Allow", "Action": "backup:StartBackupJob", "Resource": "*"}
    to_lambda = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    }
    wrong = principals.user(policy(start, to_lambda))
    args = {"BackupVaultName": vault, "ResourceArn": _arn("nothing-here"), "IamRoleArn": role}
    with pytest.raises(ClientError) as refused:
        wrong("backup").start_backup_job(**args)
    assert f"iam:PassRole on resource: {role}" in denied(refused, 403)
    to_backup = {**to_lambda, "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}}}
    right = principals.user(policy(start, to_backup))
    with pytest.raises(ClientError) as passed:  # authorized: now AWS Backup itself answers about the resource
        right("backup").start_backup_job(**args)
    assert passed.value.response["Error"]["Code"] != "AccessDeniedException"


def test_assumed_role_credentials_carry_the_roles_policies_and_need_their_token(
    principals: Principals, table: str
) -> None:
    role = principals.role(
        "lambda.amazonaws.com",
        policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": _arn(table)}),
        account_may_assume=True,
    )
    clients, creds = principals.session_of(role)
    assert clients("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})["ResponseMetadata"]
    with pytest.raises(ClientError) as refused:
        clients("dynamodb").put_item(TableName=table, Item={"pk": {"S": "x"}})
    assert f"assumed-role/{role.split('/')[-1]}/lp is not authorized" in denied(refused, 400)
    forged = principals._clients(creds["AccessKeyId"], creds["SecretAccessKey"], "not-the-token")
    with pytest.raises(ClientError) as bad:
        forged("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})
    assert bad.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_a_statement_the_evaluator_cannot_decide_is_refused_with_the_reason(principals: Principals, table: str) -> None:
    odd = {
        "Effect": "Allow",
        "Action": "dynamodb:GetItem",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
    clients = principals.user(policy(odd))
    with pytest.raises(ClientError) as refused:
        clients("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})
    assert "condition operator IpAddress is not supported" in denied(refused, 400)
    plain = principals.user(policy({**odd, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    assert plain("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})["ResponseMetadata"]


def test_assume_role_needs_a_trust_policy_that_names_the_caller_or_its_account(principals: Principals) -> None:
    lambda_only = principals.role("lambda.amazonaws.com")
    with pytest.raises(ClientError) as refused:
        principals.session_of(lambda_only)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: {lambda_only}"
    )
    with pytest.raises(ClientError) as missing:
        principals.session_of(f"arn:aws:iam::{ACCOUNT}:role/does-not-exist")
    assert missing.value.response["Error"]["Code"] == "AccessDenied"
    clients, _ = principals.session_of(principals.role("lambda.amazonaws.com", account_may_assume=True))
    assert ":assumed-role/lp-role-" in clients("sts").get_caller_identity()["Arn"]


def test_a_query_of_an_index_needs_the_indexs_arn(principals: Principals, embedded: EmbeddedTarget) -> None:
    ddb = embedded.client("dynamodb")
    table = f"lp-idx-{principals.role('lambda.amazonaws.com')[-8:]}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
        query = {
            "TableName": table,
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        }
        on_index = {
            **query,
            "IndexName": "by-g",
            "KeyConditionExpression": "g = :v",
        }
        table_only = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": _arn(table)}))
        assert table_only("dynamodb").query(**query)["Count"] == 0
        with pytest.raises(ClientError) as refused:
            table_only("dynamodb").query(**on_index)
        assert f"dynamodb:Query on resource: {_arn(table)}/index/by-g " in denied(refused, 400)
        index = {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{_arn(table)}/index/*"}
        assert principals.user(policy(index))("dynamodb").query(**on_index)["Count"] == 0
    finally:
        ddb.delete_table(TableName=table)


def test_a_transaction_needs_each_items_action_on_its_table(
    principals: Principals, embedded: EmbeddedTarget, table: str
) -> None:
    check = {"TableName": table, "Key": {"pk": {"S": "t0"}}, "ConditionExpression": "attribute_not_exists(pk)"}
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}}, {"ConditionCheck": check}]
    put_only = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": _arn(table)}))
    with pytest.raises(ClientError) as refused:
        put_only("dynamodb").transact_write_items(TransactItems=items)
    assert f"dynamodb:ConditionCheckItem on resource: {_arn(table)} " in denied(refused, 400)
    root = embedded.client("dynamodb")
    assert "Item" not in root.get_item(TableName=table, Key={"pk": {"S": "t1"}})
    both = {
        "Effect": "Allow",
        "Action": ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"],
        "Resource": _arn(table),
        "Condition": {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}},
    }
    principals.user(policy(both))("dynamodb").transact_write_items(TransactItems=items)
    assert "Item" in root.get_item(TableName=table, Key={"pk": {"S": "t1"}})


def test_query_protocol_services_refuse_in_their_own_shape(principals: Principals) -> None:
    # a monitor that notifies through SNS without sns:Publish must see SNS's AuthorizationError, not a body its
    # SDK cannot parse; CloudFormation (query protocol too) answers AccessDenied
    nothing = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}))
    for service, call, code in (
        ("sns", lambda c: c.list_topics(), "AuthorizationError"),
        ("cloudformation", lambda c: c.list_stacks(), "AccessDenied"),
    ):
        with pytest.raises(ClientError) as refused:
            call(nothing(service))
        error = refused.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, 403), service
        assert "is not authorized to perform: " in error["Error"]["Message"]
    allowed = principals.user(
        policy({"Effect": "Allow", "Action": ["sns:ListTopics", "cloudformation:ListStacks"], "Resource": "*"})
    )
    assert "Topics" in allowed("sns").list_topics()
    assert "StackSummaries" in allowed("cloudformation").list_stacks()


def test_a_backup_selection_passes_its_role_to_backup(principals: Principals, embedded: EmbeddedTarget) -> None:
    role = principals.role("backup.amazonaws.com")
    backup = embedded.client("backup")
    vault = f"lp-vault-sel-{role[-8:]}"
    backup.create_backup_vault(BackupVaultName=vault)
    rule = {"RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 * * ? *)"}
    plan_id = backup.create_backup_plan(BackupPlan={"BackupPlanName": f"lp-plan-{role[-8:]}", "Rules": [rule]})[
        "BackupPlanId"
    ]
    plan_arn = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:{plan_id}"
    selection = {"SelectionName": "lp", "IamRoleArn": role, "Resources": [_arn("lp-anything")]}
    create = {"Effect": "Allow", "Action": "backup:CreateBackupSelection", "Resource": plan_arn}
    try:
        with pytest.raises(ClientError) as refused:
            principals.user(policy(create))("backup").create_backup_selection(
                BackupPlanId=plan_id, BackupSelection=selection
            )
        assert f"iam:PassRole on resource: {role}" in denied(refused, 403)
        pass_role = {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role,
            "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
        }
        made = principals.user(policy(create, pass_role))("backup").create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection
        )
        backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    finally:
        backup.delete_backup_plan(BackupPlanId=plan_id)
        backup.delete_backup_vault(BackupVaultName=vault)


def test_a_partiql_statement_needs_its_partiql_action_on_the_table(
    principals: Principals, embedded: EmbeddedTarget, table: str
) -> None:
    insert = f"INSERT INTO \"{table}\" VALUE {{'pk': 'q1'}}"
    select = f"SELECT * FROM \"{table}\" WHERE pk = 'q1'"  # noqa: S608 - a test table's name
    reader = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:PartiQLSelect", "Resource": _arn(table)}))
    with pytest.raises(ClientError) as refused:
        reader("dynamodb").execute_statement(Statement=insert)
    assert f"dynamodb:PartiQLInsert on resource: {_arn(table)} " in denied(refused, 400)
    assert "Item" not in embedded.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "q1"}})
    writer = principals.user(policy({"Effect": "Allow", "Action": "dynamodb:PartiQLInsert", "Resource": _arn(table)}))
    writer("dynamodb").execute_statement(Statement=insert)
    assert reader("dynamodb").execute_statement(Statement=select)["Items"] == [{"pk": {"S": "q1"}}]
