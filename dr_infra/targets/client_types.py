"""The type of ``target.client``: a boto3 client per service name, typed by the mypy_boto3 stubs.

``target.client("dynamodb")`` is a ``mypy_boto3_dynamodb.DynamoDBClient`` to mypy, so a misspelt operation, a
wrong parameter or a misread response field is a type error, as in the Lambda package (lambda/change_monitor).
The stubs are a dev dependency (``boto3-stubs[...]`` in pyproject.toml) and imported only under
``TYPE_CHECKING``: nothing here runs. Every service drdrill calls has its stubs; any other name is ``Any``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sts import STSClient

__all__ = ["ClientSource"]


class ClientSource(Protocol):
    """``source("dynamodb")`` -> the target's DynamoDB client, and so on for each service drdrill calls."""

    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def __call__(self, service: Literal["backup"]) -> BackupClient: ...
    @overload
    def __call__(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def __call__(self, service: Literal["iam"]) -> IAMClient: ...
    @overload
    def __call__(self, service: Literal["sts"]) -> STSClient: ...
    @overload
    def __call__(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def __call__(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def __call__(self, service: str) -> Any: ...
