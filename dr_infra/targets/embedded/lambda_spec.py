"""What one invocation needs to know about a function: a snapshot of moto's object, and what it returned."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction


@dataclass(frozen=True)
class FunctionSpec:
    account_id: str
    region: str
    function_name: str
    version: str
    function_arn: str
    handler: str
    runtime: str
    timeout: float
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    code_bytes: bytes = field(repr=False, compare=False)
    package_type: str = "Zip"
    role: str = ""

    @classmethod
    def of(cls, fn: LambdaFunction) -> FunctionSpec:
        return cls(
            account_id=fn.account_id,
            region=fn.region,
            function_name=fn.function_name,
            version=str(fn.version),
            function_arn=fn.function_arn,
            handler=str(fn.handler or ""),
            runtime=str(fn.run_time or ""),
            timeout=float(fn.timeout or 3),
            memory_size=int(fn.memory_size or 128),
            environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
            code_sha256=str(getattr(fn, "code_sha_256", "")),
            code_bytes=bytes(getattr(fn, "code_bytes", b"") or b""),
            package_type=str(getattr(fn, "package_type", "Zip") or "Zip"),
            role=str(getattr(fn, "role", "") or ""),
        )

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def pool_key(self, endpoint: str) -> tuple[Any, ...]:
        return (
            self.account_id,
            self.region,
            self.function_name,
            self.version,
            self.code_sha256,
            self.handler,
            self.runtime,
            self.memory_size,
            self.environment,
            self.role,
            endpoint,
        )


@dataclass
class InvocationResult:
    """What an invocation returned, as Invoke reports it."""

    request_id: str
    payload: bytes
    function_error: bool
    timed_out: bool = False
    duration_ms: float = 0.0
    log_tail: str = ""
    worker_pid: int | None = None

    def response(self) -> Any:
        """The payload parsed as JSON (``None`` if it is not JSON)."""
        try:
            return json.loads(self.payload or b"null")
        except ValueError:
            return None
