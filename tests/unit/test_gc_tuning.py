"""The embedded target's process raises the garbage collector's thresholds (moto's heap is large and long-lived);
DRDRILL_GC_THRESHOLD sets them or leaves Python's own (``off``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dr_infra.targets.embedded import gc_tuning

PROBE = "import gc; from dr_infra.targets.embedded import gc_tuning; gc_tuning.tune(); print(gc.get_threshold())"


def _thresholds(setting: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != gc_tuning.ENV}
    if setting is not None:
        env[gc_tuning.ENV] = setting
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, str(gc_tuning.THRESHOLDS)), ("700,10,10", "(700, 10, 10)"), ("bad", str(gc_tuning.THRESHOLDS))],
)
def test_thresholds(setting: str | None, expected: str) -> None:
    assert _thresholds(setting) == expected


def test_off_leaves_pythons_own() -> None:
    default = subprocess.run(
        [sys.executable, "-c", "import gc; print(gc.get_threshold())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert _thresholds("off") == default
