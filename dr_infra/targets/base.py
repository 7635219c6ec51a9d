"""The one small interface every target implements, and the boto3 client factory they share.

Steps and provisioning speak plain boto3 to any target: a target only decides *where* clients point
(endpoint, region, credentials) and declares what it can do (capabilities), so a scenario that needs
something a target lacks is skipped with the reason instead of silently passing.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from dr_infra.targets.client_types import ClientSource

RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=60,
)
"""botocore's standard retry mode (throttling and transient errors retried with backoff): never hand-rolled."""


@dataclass
class ClientFactory:
    """Builds and caches one boto3 client per service from one Session, endpoint and Config."""

    session: boto3.Session
    endpoint_url: str | None = None
    config: Config = RETRY_CONFIG
    _clients: dict[str, BaseClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, service: str) -> Any:
        """The client for ``service`` (``"dynamodb"``, ``"backup"``, ...), created once."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self.session.client(  # type: ignore[call-overload]
                    service, endpoint_url=self.endpoint_url, config=self.config
                )
                self._clients[service] = client
            return client


class Target(ABC):
    """Where a drill runs: embedded (moto in-process), localstack, or aws."""

    name: str
    max_poll_interval: float = 5.0
    """Longest pause between two polls of a wait: AWS jobs take minutes, an emulator answers in milliseconds."""
    pitr_lag_s: float = 300.0
    function_interpreter: str | None = None
    """The ``Runtime`` whose interpreter actually runs Lambda functions when it is not the function's own
    (the embedded target runs every function under the interpreter running drdrill); ``None``: as configured."""
    """How far LatestRestorableDateTime trails now: about 5 minutes on AWS
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html)."""
    time_scale: float = 1.0
    """Wall seconds per second of AWS time: 1 everywhere but the embedded target's aws-scaled profile, where AWS's
    latencies run ``scale`` times as long and a measured figure / ``time_scale`` is its AWS equivalent."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: ClientFactory | None = None
        self._account_id: str | None = None
        self._caller_arn: str | None = None

    @abstractmethod
    def start(self) -> None:
        """Make the target usable (start a server, probe an endpoint, check the account)."""

    def stop(self) -> None:  # noqa: B027 - most targets hold nothing to release
        """Release what :meth:`start` took. Idempotent."""

    @property
    @abstractmethod
    def capabilities(self) -> frozenset[str]:
        """What this target can run, e.g. ``{"backup_jobs", "lambda", "pitr_time_travel"}``."""

    @property
    def endpoint_url(self) -> str | None:
        """Where clients point; ``None`` means AWS's own endpoints."""
        return None

    @property
    def clients(self) -> ClientFactory:
        """The started target's client factory."""
        if self._clients is None:
            raise RuntimeError(f"target {self.name!r} is not started")
        return self._clients

    @property
    def client(self) -> ClientSource:
        """``target.client("dynamodb")``: a boto3 client for a service on this target (typed per service)."""
        return self._client

    def _client(self, service: str) -> Any:
        return self.clients(service)

    @property
    def account_id(self) -> str:
        """The account the target's credentials belong to (from STS, asked once)."""
        if self._account_id is None:
            identity = self.client("sts").get_caller_identity()
            self._account_id = str(identity["Account"])
            self._caller_arn = str(identity.get("Arn") or "") or None
        return self._account_id

    @property
    def caller_arn(self) -> str | None:
        """Who the drill ran as: STS GetCallerIdentity's ``Arn`` (an assumed role's session ARN in CI)
        (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)."""
        if self._caller_arn is None:
            try:
                self._caller_arn = str(self.client("sts").get_caller_identity().get("Arn") or "") or None
            except Exception:  # evidence, not a gate: the account check already ran at start
                return None
        return self._caller_arn

    def describe(self) -> dict[str, Any]:
        """What the journal records about this target."""
        return {
            "name": self.name,
            "region": self.region,
            "endpoint": self.endpoint_url,
            "account_id": self.account_id,
            "caller_arn": self.caller_arn,
            "capabilities": sorted(self.capabilities),
            **({"timing": self.timing()} if self.timing() else {}),
        }

    def timing(self) -> dict[str, Any]:
        """The timing profile the target runs under (empty: AWS's own, or an emulator's)."""
        return {}

    def missing(self, *needed: str) -> list[str]:
        """The capabilities in ``needed`` that this target lacks."""
        return [c for c in needed if c not in self.capabilities]
