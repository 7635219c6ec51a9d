"""The run's timing profile: which embedded-target profile (instant or aws-scaled) and scale a run asked for.

``instant`` (the default) keeps the embedded target as fast as it can be. ``aws-scaled`` runs every AWS latency
the embedded target models (:data:`dr_infra.targets.embedded.settings.AWS_LATENCIES`, each with its AWS page)
at ``scale`` times its AWS length, and every measured RTO/RPO also carries ``aws_equivalent_s`` (RPO: measured /
scale; RTO: its modelled-latency phases / scale, the target's own work as measured, :mod:`dr_infra.drill.aws_time`),
judged against the policy: with ``policies/aws.toml`` (the default policy under aws-scaled) that is the
staging verdict, rehearsed offline. Chosen with ``drdrill run --embedded-profile aws-scaled [--embedded-scale
0.01]`` (env ``DRDRILL_EMBEDDED_PROFILE`` / ``DRDRILL_EMBEDDED_SCALE``; pytest ``--dr-embedded-profile`` /
``--dr-embedded-scale``). Checked here, before any target starts, with one line naming the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dr_infra.errors import ConfigError

PROFILES = ("instant", "aws-scaled")
DEFAULT_SCALE = 0.01
MIN_SCALE = 0.001
"""Keep in step with ``dr_infra.targets.embedded.settings.MIN_SCALE`` (targets.timing must not import moto)."""
#: The scale's environment variable (``dr_infra.bdd.options.EMBEDDED_SCALE``'s; that module imports pytest).
SCALE_ENV = "DRDRILL_EMBEDDED_SCALE"


@dataclass(frozen=True)
class Timing:
    profile: str = "instant"
    scale: float = DEFAULT_SCALE

    @property
    def scaled(self) -> bool:
        return self.profile == "aws-scaled"

    def as_tuple(self) -> tuple[str, float]:
        return self.profile, self.scale


def profile_named(profile: str | None) -> str:
    """The profile ``profile`` names (``None`` or empty: ``instant``); an unknown name is one line (exit 2).

    Checked here, not by argparse's choices: the value may be the environment's default, which argparse does not
    check, and the error names the variable as well as the flag."""
    chosen = (profile or "instant").strip()
    if chosen not in PROFILES:
        raise ConfigError(
            f"unknown embedded profile {chosen!r}: use {' or '.join(PROFILES)}"
            " (--embedded-profile / DRDRILL_EMBEDDED_PROFILE)"
        )
    return chosen


def _scale_named(scale: str | float) -> str:
    """How the error of a bad scale names it: by its variable when the environment supplied it (the option
    table's default, so the value is the variable's text), else by its flag."""
    return SCALE_ENV if os.environ.get(SCALE_ENV) == str(scale) else "--embedded-scale"


def parse(profile: str | None, scale: str | float | None, target_name: str) -> Timing:
    """The timing a run (or its plan) asked for; :class:`ConfigError` (one line, naming the fix) when it cannot be
    had. ``drdrill run``, ``drdrill plan`` and the plugin all check it here, so they refuse alike."""
    chosen = profile_named(profile)
    value = DEFAULT_SCALE
    if scale is not None and str(scale).strip() != "":
        try:
            value = float(scale)
        except ValueError:
            raise ConfigError(f"{_scale_named(scale)} {scale!r} is not a number: use e.g. 0.01") from None
        if not MIN_SCALE <= value <= 1:
            raise ConfigError(
                f"{_scale_named(scale)} {value:g} is out of range: use {MIN_SCALE:g} to 1"
                " (0.01: a 20-minute restore takes 12 s)"
            )
        if chosen != "aws-scaled":
            raise ConfigError(f"{_scale_named(scale)} applies to --embedded-profile aws-scaled only")
    if chosen == "aws-scaled" and target_name != "embedded":
        raise ConfigError(
            f"--embedded-profile aws-scaled needs the embedded target, not {target_name} (which runs at its own speed)"
        )
    return Timing(chosen, value)
