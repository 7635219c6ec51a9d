"""Where drdrill's shipped features live: the source checkout's ``features/``, or the wheel's bundled copy."""

from __future__ import annotations

from pathlib import Path

from dr_infra.errors import DrDrillError


def shipped_features() -> Path:
    """The features shipped with drdrill (the source checkout's, or the wheel's bundled copy)."""
    here = Path(__file__).resolve().parents[1]  # dr_infra/
    for candidate in (here.parent / "features", here / "_bundled" / "features"):
        if candidate.is_dir():
            return candidate
    raise DrDrillError("cannot find drdrill's shipped features; pass feature paths explicitly")
