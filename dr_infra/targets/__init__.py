"""Targets: where a drill runs. ``embedded`` (default), ``localstack`` or ``aws``."""

from __future__ import annotations

from dr_infra.errors import ConfigError
from dr_infra.targets.base import ClientFactory, Target

TARGET_NAMES = ("embedded", "localstack", "aws")


def make_target(
    name: str,
    region: str | None = None,
    allowed_accounts: frozenset[str] | None = None,
    timing: tuple[str, float] | None = None,
    shared_endpoint: str | None = None,
) -> Target:
    """Build (not start) the target called ``name``; unknown names are a configuration error.

    ``timing``: the embedded target's ``(profile, scale)`` (see :mod:`dr_infra.targets.timing`).
    ``shared_endpoint`` (embedded only): attach to that already running embedded server (parallel workers)."""
    if name == "embedded":
        from dr_infra.targets.embedded import EmbeddedTarget

        profile, scale = timing or ("instant", 0.01)
        return EmbeddedTarget(
            region=region or "us-east-1", profile=profile, scale=scale, shared_endpoint=shared_endpoint
        )
    if name == "localstack":
        from dr_infra.targets.localstack import LocalStackTarget

        return LocalStackTarget(region=region or "us-east-1")
    if name == "aws":
        from dr_infra.targets.aws import AwsTarget

        return AwsTarget(region=region, allowed_accounts=allowed_accounts)
    raise ConfigError(f"unknown target {name!r}: use one of {', '.join(TARGET_NAMES)} (--dr-target / DRDRILL_TARGET)")


__all__ = ["TARGET_NAMES", "ClientFactory", "Target", "make_target"]
