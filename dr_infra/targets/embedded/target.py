"""The default target: a patched moto server started inside the test process.

Nothing to install or start by hand. The server binds 127.0.0.1 on an OS-chosen port, and fake
credentials live only in this target's own boto3 Session (never in ``os.environ``, never mixed into a
real-AWS session), so a drill on the embedded target cannot reach a real account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from dr_infra.targets.base import ClientFactory, Target
from dr_infra.targets.capabilities import EMBEDDED_CAPABILITIES
from dr_infra.targets.control_client import ControlClient
from dr_infra.targets.embedded import lambda_python_runtime, settings

if TYPE_CHECKING:  # moto loads only where a server starts: a worker attached to a shared server never needs it
    from dr_infra.targets.embedded.server import EmbeddedServer

FAKE_ACCESS_KEY = "drdrill-embedded"
FAKE_SECRET_KEY = "drdrill-embedded-secret"  # noqa: S105 - a fake credential, by design
DEFAULT_REGION = "us-east-1"
AWS_SCALED_WITHOUT = frozenset({"restore_faults", "function_faults"})


def fake_session(region: str) -> boto3.Session:
    """A boto3 Session holding the embedded target's fake credentials and nothing else."""
    return boto3.Session(
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
        region_name=region,
    )


class EmbeddedTarget(Target):
    """moto (pinned) plus drdrill's gap-fillers, in this process."""

    name = "embedded"
    max_poll_interval = 0.1
    pitr_lag_s = 1.0  # settings.EmbeddedSettings.pitr_lag_seconds default
    function_interpreter = lambda_python_runtime.interpreter()

    def __init__(
        self,
        region: str = DEFAULT_REGION,
        port: int = 0,
        profile: str = "instant",
        scale: float = 0.01,
        shared_endpoint: str | None = None,
    ) -> None:
        """``shared_endpoint``: attach to an embedded server another process started (``drdrill run -n N``'s
        controller, or ``drdrill serve``) instead of starting one here; it is that process's to stop."""
        super().__init__(region)
        self._port = port
        self._server: EmbeddedServer | None = None
        self._shared = shared_endpoint
        self.control: ControlClient | None = None
        self.profile = profile
        self.scale = scale
        if profile == "aws-scaled":
            self.time_scale = scale
            self.pitr_lag_s = settings.AWS_PITR_LAG_SECONDS * scale

    def timing(self) -> dict[str, Any]:
        """``{"profile", "scale", "latencies"}``: each latency's AWS figure, page and its length here."""
        if self.profile != "aws-scaled":
            return {"profile": self.profile}
        return {
            "profile": self.profile,
            "scale": self.scale,
            "latencies": {
                name: {"aws_s": latency.seconds, "here_s": latency.seconds * self.scale, "page": latency.page}
                for name, latency in settings.AWS_LATENCIES.items()
            },
        }

    def settings_baseline(self) -> dict[str, Any]:
        """The run's own timing profile, as the settings to apply over the defaults (none for instant)."""
        if self.profile == "instant":
            return {}
        return {"latency_profile": self.profile, "scale": self.scale}

    def reset_settings(self) -> None:
        """Back to the run's own timing profile (a scenario's fault steps may have changed the settings)."""
        if self.control is None:
            return
        self.control.reset_settings()
        if self.settings_baseline():
            self.control.update_settings(**self.settings_baseline())

    def start(self) -> None:
        if self._server is not None or self._clients is not None:
            return
        if self._shared is not None:
            self._clients = ClientFactory(fake_session(self.region), endpoint_url=self._shared)
            self.control = ControlClient(self._shared)  # the token from the serving process's token file
        else:
            from dr_infra.targets.embedded.server import EmbeddedServer

            self._server = EmbeddedServer(port=self._port)
            self._server.start()
            self._clients = ClientFactory(fake_session(self.region), endpoint_url=self._server.endpoint_url)
            self.control = ControlClient(self._server.endpoint_url, token=self._server.control_token)
        self.reset_settings()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint_url(self) -> str | None:
        if self._shared is not None:
            return self._shared if self._clients is not None else None
        return self._server.endpoint_url if self._server else None

    @property
    def capabilities(self) -> frozenset[str]:
        """Under aws-scaled the run rehearses the aws target, which has no fault switches: chaos scenarios are
        skipped there, so they are here too (their fault durations are not AWS figures to scale)."""
        if self.profile == "aws-scaled":
            return frozenset(EMBEDDED_CAPABILITIES) - AWS_SCALED_WITHOUT
        return frozenset(EMBEDDED_CAPABILITIES)

    def describe(self) -> dict[str, Any]:
        """The target, plus ``shared_endpoint`` when attached to a server another process runs."""
        described = super().describe()
        if self._shared is not None:
            described["shared_endpoint"] = self._shared
        return described
