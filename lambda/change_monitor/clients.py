"""AWS clients, created lazily once per cold start and injectable for tests.

Why a holder instead of module globals: tests pass moto-backed or Stubber-wrapped
clients, and each function only builds the clients its strategy uses (the ``item``
monitor never creates a Backup client). Retries are botocore's ``standard`` mode;
the monitor has no hand-written retry loop except the documented PITR wait in
:mod:`change_monitor.strategies.pitr`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_backup.client import BackupClient
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_lambda.client import LambdaClient

CLIENT_CONFIG = Config(retries={"mode": "standard"})


@dataclass
class Clients:
    """The three clients the monitor uses; ``None`` fields are created on first use."""

    dynamodb_client: DynamoDBClient | None = None
    backup_client: BackupClient | None = None
    lambda_client: LambdaClient | None = None

    def _make(self, service: str) -> Any:
        return boto3.session.Session().client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]

    @property
    def dynamodb(self) -> DynamoDBClient:
        """DynamoDB client (ledger, item repairs, PITR restores, re-protection)."""
        if self.dynamodb_client is None:
            self.dynamodb_client = self._make("dynamodb")
        return self.dynamodb_client

    @property
    def backup(self) -> BackupClient:
        """AWS Backup client (recovery points, restore jobs)."""
        if self.backup_client is None:
            self.backup_client = self._make("backup")
        return self.backup_client

    @property
    def lambda_(self) -> LambdaClient:
        """Lambda client (event source mappings for re-protection)."""
        if self.lambda_client is None:
            self.lambda_client = self._make("lambda")
        return self.lambda_client
