"""pytest plugin for bench_staging.py on a drdrill without ``--embedded-profile``: the embedded target in the
``aws-scaled`` latency profile for every scenario. Loaded with ``-p _aws_scaled_plugin`` (xdist workers load it
too). The settings go through the target's control route (``POST /_drdrill/settings``), so they reach a server
the controller shares with the workers; they are set again before every step, because each scenario's teardown
resets them (``DELETE /_drdrill/settings``), also for the drills still running on a shared server."""

from __future__ import annotations

import os
from typing import Any

import pytest

SCALE = float(os.environ.get("BENCH_AWS_SCALE", "0.01"))


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_before_step_call(request: pytest.FixtureRequest, **_: Any) -> None:
    control = getattr(request.getfixturevalue("dr_target"), "control", None)
    if control is not None:
        control.update_settings(latency_profile="aws-scaled", scale=SCALE)
