"""Which permissions a DynamoDB or DynamoDB Streams call needs: tables, indexes, streams, transactions, PartiQL.

Part of :func:`dr_infra.targets.iam_calls.permissions_for_call` (sources: its docstring;
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from dr_infra.targets.iam_permission import Permission, table_arn

_TABLE_NAME_OPERATIONS = frozenset(
    {
        "CreateTable",
        "DescribeTable",
        "UpdateTable",
        "DescribeContinuousBackups",
        "UpdateContinuousBackups",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "DeleteTable",
        "CreateBackup",
    }
)
_RESOURCE_ARN_OPERATIONS = frozenset({"ListTagsOfResource", "TagResource", "UntagResource"})
_STREAM_OPERATIONS = frozenset({"DescribeStream", "GetShardIterator"})
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
"""A transaction's items are authorized as the item operations they are (ConditionCheck: ConditionCheckItem),
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html."""
RESTORE_TARGET_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
)
"""What a restore needs on its target table: "RestoreTableToPointInTime permissions are necessary on the
source table, and DynamoDB read and write permissions on the target table are necessary"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html)."""


def _transaction(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission]:
    """Each item's own action on its table, with ``dynamodb:EnclosingOperation`` naming the transaction."""
    needs: list[Permission] = []
    for item in params["TransactItems"]:
        for kind, body in dict(item).items():
            table = table_arn(str(body["TableName"]), region, account)
            permission = Permission(_TRANSACT_ACTIONS[kind], table, (("dynamodb:EnclosingOperation", operation),))
            if permission not in needs:
                needs.append(permission)
    return needs


_ITEM_OPERATIONS_ELSEWHERE = frozenset(
    {"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction", "TransactWriteItems", "TransactGetItems"}
)
_PARTIQL_TARGET = r'(?:"(?P<qt>[^"]+)"|(?P<bt>[A-Za-z0-9_\-]+))(?:\s*\.\s*(?:"(?P<qi>[^"]+)"|(?P<bi>[A-Za-z0-9_\-]+)))?'
_PARTIQL = (
    ("dynamodb:PartiQLSelect", re.compile(r"^\s*SELECT\b.*?\bFROM\s+" + _PARTIQL_TARGET, re.IGNORECASE | re.DOTALL)),
    ("dynamodb:PartiQLInsert", re.compile(r"^\s*INSERT\s+INTO\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
    ("dynamodb:PartiQLUpdate", re.compile(r"^\s*UPDATE\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
    ("dynamodb:PartiQLDelete", re.compile(r"^\s*DELETE\s+FROM\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
)


def _partiql(statements: Iterable[str], region: str, account: str) -> list[Permission] | None:
    """``dynamodb:PartiQLSelect/Insert/Update/Delete`` on the table (or ``table/T/index/I``) each statement names;
    ``None`` when a statement is not one of those shapes (the call is then unknown, checked on ``*``)."""
    needs: list[Permission] = []
    for statement in statements:
        matched = next(((a, m) for a, p in _PARTIQL if (m := p.match(statement))), None)
        if matched is None:
            return None
        action, found = matched
        table = table_arn(found.group("qt") or found.group("bt"), region, account)
        index = found.group("qi") or found.group("bi")
        permission = Permission(action, f"{table}/index/{index}" if index else table)
        if permission not in needs:
            needs.append(permission)
    return needs


def _dynamodb_items(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    """Item calls authorized on something else than the table they name: PartiQL, transactions, indexes."""
    if operation == "ExecuteStatement":
        return _partiql([str(params["Statement"])], region, account)
    if operation in ("BatchExecuteStatement", "ExecuteTransaction"):
        key = "Statements" if operation == "BatchExecuteStatement" else "TransactStatements"
        return _partiql([str(s["Statement"]) for s in params[key]], region, account)
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return _transaction(operation, params, region, account)
    table = table_arn(str(params["TableName"]), region, account)  # Query / Scan of an index
    return [Permission(action, f"{table}/index/{params['IndexName']}")]


def dynamodb_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    """A DynamoDB call's permissions; ``None``: not mapped."""
    if operation in _ITEM_OPERATIONS_ELSEWHERE or (operation in ("Query", "Scan") and params.get("IndexName")):
        return _dynamodb_items(operation, action, params, region, account)
    if operation in _TABLE_NAME_OPERATIONS:
        return [Permission(action, table_arn(str(params["TableName"]), region, account))]
    if operation in _RESOURCE_ARN_OPERATIONS:
        return [Permission(action, str(params["ResourceArn"]))]
    if operation in _STREAM_OPERATIONS:
        return [Permission(action, str(params["StreamArn"]))]
    if operation == "GetRecords":  # moto's shard iterators are "<stream arn>|1|<id>"
        return [Permission(action, str(params["ShardIterator"]).split("|", 1)[0])]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Permission(action, table_arn(str(t), region, account)) for t in params["RequestItems"]]
    if operation in ("DescribeBackup", "DeleteBackup"):
        return [Permission(action, str(params["BackupArn"]))]
    if operation in ("RestoreTableToPointInTime", "RestoreTableFromBackup"):
        return _restore(operation, action, params, region, account)
    return None


def _restore(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission]:
    """A restore's action on its source (table or backup) and the target table's actions."""
    if operation == "RestoreTableToPointInTime":
        source = table_arn(str(params.get("SourceTableArn") or params["SourceTableName"]), region, account)
    else:
        source = str(params["BackupArn"])
    target = table_arn(str(params["TargetTableName"]), region, account)
    return [Permission(action, source)] + [Permission(a, target) for a in RESTORE_TARGET_ACTIONS]
