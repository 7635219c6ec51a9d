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

from dataclasses import dataclass

from dr_infra.errors import ConfigError

PROFILES = ("instant", "aws-scaled")
DEFAULT_SCALE = 0.01
MIN_SCALE = 0.001
"""Keep in step with ``dr_infra.targets.embedded.settings.MIN_SCALE`` (targets.timing must not import moto)."""


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

    Why apart from :func:`parse`: ``drdrill plan`` takes the profile (its environment default included, which
    argparse does not check against the choices) but no scale, and estimates any target's run with it."""
    chosen = (profile or "instant").strip()
    if chosen not in PROFILES:
        raise ConfigError(
            f"unknown embedded profile {chosen!r}: use {' or '.join(PROFILES)}"
            " (--embedded-profile / DRDRILL_EMBEDDED_PROFILE)"
        )
    return chosen


def parse(profile: str | None, scale: str | float | None, target_name: str) -> Timing:
    """The timing a run asked for; :class:`ConfigError` (one line, naming the fix) when it cannot be had."""
    chosen = profile_named(profile)
    value = DEFAULT_SCALE
    if scale is not None and str(scale).strip() != "":
        try:
            value = float(scale)
        except ValueError:
            raise ConfigError(f"--embedded-scale {scale!r} is not a number: use e.g. 0.01") from None
        if not MIN_SCALE <= value <= 1:
            raise ConfigError(
                f"--embedded-scale {value:g} is out of range: use {MIN_SCALE:g} to 1"
                " (0.01: a 20-minute restore takes 12 s)"
            )
        if chosen != "aws-scaled":
            raise ConfigError("--embedded-scale applies to --embedded-profile aws-scaled only")
    if chosen == "aws-scaled" and target_name != "embedded":
        raise ConfigError(
            f"--embedded-profile aws-scaled needs the embedded target, not {target_name} (which runs at its own speed)"
        )
    return Timing(chosen, value)
