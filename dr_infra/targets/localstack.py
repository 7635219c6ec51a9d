"""The localstack target: an emulator endpoint found the way localstack-client finds it.

The endpoint comes from ``AWS_ENDPOINT_URL``, then ``LOCALSTACK_HOST`` (``host[:port]``, default
``localhost:4566``), exactly as ``localstack_client.config`` resolves it. At start the target probes that the
endpoint answers and *what it serves*, because LocalStack editions differ (AWS Backup is only in some tiers;
Lambda needs its Docker executor): scenarios needing a missing capability are skipped with the reason.

The same target also drives any endpoint that speaks the AWS wire protocol: a plain moto server (the CI
contract test) or a ``drdrill serve`` process (discovered through its ``/_drdrill/info`` route).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from localstack_client import config as localstack_config

from dr_infra.errors import TargetUnavailable
from dr_infra.targets.base import ClientFactory, Target
from dr_infra.targets.control_client import ControlClient, ControlRefused

LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
HOW_TO_START = (
    "start LocalStack (`localstack start`, or `docker run -p 4566:4566 localstack/localstack` with "
    "LOCALSTACK_AUTH_TOKEN set) or point AWS_ENDPOINT_URL / LOCALSTACK_HOST at a running endpoint"
)


def resolve_endpoint() -> str:
    """The endpoint localstack-client would use (``AWS_ENDPOINT_URL`` wins over ``LOCALSTACK_HOST``)."""
    return str(localstack_config.get_service_endpoint("dynamodb"))


class LocalStackTarget(Target):
    """An emulator endpoint whose capabilities are probed, not assumed."""

    name = "localstack"
    max_poll_interval = 0.5

    def __init__(self, region: str = "us-east-1", endpoint_url: str | None = None) -> None:
        super().__init__(region)
        self._endpoint = (endpoint_url or resolve_endpoint()).rstrip("/")
        self._capabilities: frozenset[str] = frozenset()
        self.control: ControlClient | None = None
        self.probe_notes: dict[str, str] = {}

    @property
    def endpoint_url(self) -> str | None:
        return self._endpoint

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    def start(self) -> None:
        session = boto3.Session(
            aws_access_key_id=LOCALSTACK_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=LOCALSTACK_CREDENTIALS["aws_secret_access_key"],
            region_name=self.region,
        )
        self._clients = ClientFactory(session, endpoint_url=self._endpoint)
        # One attempt with a short connect timeout: retrying a refused connection (the standard retry mode's
        # 8 attempts with backoff) only delays the "not reachable" line by seconds.
        reachability = session.client(
            "dynamodb", endpoint_url=self._endpoint, config=Config(retries={"max_attempts": 1}, connect_timeout=3)
        )
        try:
            reachability.list_tables(Limit=1)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise TargetUnavailable(
                f"LocalStack is not reachable at {self._endpoint} ({type(exc).__name__}); {HOW_TO_START}"
            ) from None
        self._capabilities = frozenset(self._probe())

    def _probe(self) -> set[str]:
        """Ask the endpoint what it serves: a drdrill endpoint says so; otherwise try cheap calls."""
        control = ControlClient(self._endpoint)
        try:
            info = control.info()
        except ControlRefused as exc:
            raise TargetUnavailable(
                f"{exc}; run drdrill as the user who started drdrill serve, or set DRDRILL_CONTROL_TOKEN"
            ) from None
        if info is not None:
            self.control = control
            self.probe_notes["kind"] = "drdrill embedded endpoint (drdrill serve)"
            return set(info.get("capabilities", []))
        health = self._localstack_health()
        if health is not None:
            self.probe_notes["kind"] = f"LocalStack {health.get('version', '?')} ({health.get('edition', '?')})"
        capabilities = {"dynamodb"}
        checks: dict[str, tuple[str, str, dict[str, Any]]] = {
            "streams": ("dynamodbstreams", "list_streams", {}),
            "pitr": ("dynamodb", "describe_limits", {}),
            "backup": ("backup", "list_backup_vaults", {}),
            "backup_jobs": ("backup", "list_backup_jobs", {}),
            "lambda": ("lambda", "list_functions", {}),
            "logs": ("logs", "describe_log_groups", {"limit": 1}),
            "iam": ("iam", "list_roles", {"MaxItems": 1}),
        }
        for capability, (service, operation, kwargs) in checks.items():
            try:
                getattr(self.client(service), operation)(**kwargs)
            except (BotoCoreError, ClientError) as exc:
                self.probe_notes[capability] = f"{service}.{operation} failed: {exc}"[:200]
            else:
                capabilities.add(capability)
        if "backup" in capabilities:
            self._probe_backup_selections(capabilities)
        lambda_state = str((health or {}).get("services", {}).get("lambda", ""))
        if "lambda" in capabilities and lambda_state in {"running", "available"}:
            # LocalStack runs functions with its Docker executor; a plain moto server never runs them.
            capabilities.add("lambda_execution")
        else:
            self.probe_notes["lambda_execution"] = (
                "this endpoint does not run Lambda functions (plain moto, or LocalStack without Lambda)"
            )
        return capabilities

    def _probe_backup_selections(self, capabilities: set[str]) -> None:
        """An AWS-style error for an unknown plan means the API is served; an HTTP 500/501 page means not."""
        backup = self.clients.session.client(
            "backup", endpoint_url=self._endpoint, config=Config(retries={"max_attempts": 1}, read_timeout=10)
        )
        try:
            backup.list_backup_selections(BackupPlanId="drdrill-capability-probe")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code.isdigit() or code in {"InternalFailure", "InternalError", "NotImplemented"}:
                self.probe_notes["backup_selections"] = f"backup.list_backup_selections failed: {exc}"[:200]
                return
        except BotoCoreError as exc:
            self.probe_notes["backup_selections"] = f"backup.list_backup_selections failed: {exc}"[:200]
            return
        capabilities.add("backup_selections")

    def _localstack_health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self._endpoint}/_localstack/health", timeout=3) as resp:  # noqa: S310
                data = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        described["probe"] = dict(self.probe_notes)
        return described
