"""aws-scaled: a function's cold start delays its first invocation, and its log lines arrive late (boto3 only)."""

from __future__ import annotations

import json
import time

import pytest
from lambda_stack import create_function, log_messages, wait_for

from dr_infra.targets.control_client import ControlError
from dr_infra.targets.embedded import EmbeddedTarget

SCALE = 0.5  # cold start 0.5 s, log delivery 2.5 s


def _active(lam: object, name: str) -> None:
    wait_for(lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active", what="Active")  # type: ignore[attr-defined]


def test_cold_start_and_log_delivery_follow_the_profile(embedded: EmbeddedTarget, unique: str) -> None:
    assert embedded.control is not None
    iam, lam, logs = embedded.client("iam"), embedded.client("lambda"), embedded.client("logs")
    embedded.control.update_settings(latency_profile="aws-scaled", scale=SCALE)
    name = f"scaled-{unique}"
    create_function(iam, lam, logs, name)
    _active(lam, name)

    started = time.monotonic()
    lam.invoke(FunctionName=name, Payload=json.dumps({"print": f"cold-{unique}"}))
    assert time.monotonic() - started >= 1.0 * SCALE  # the Init phase of a cold start
    assert f"cold-{unique}" not in "\n".join(log_messages(logs, name))  # not delivered yet
    wait_for(lambda: f"cold-{unique}" in "\n".join(log_messages(logs, name)), timeout=20, what="log delivery")
    assert time.monotonic() - started >= 5.0 * SCALE


def test_instant_logs_are_readable_when_the_invocation_returns(embedded: EmbeddedTarget, unique: str) -> None:
    iam, lam, logs = embedded.client("iam"), embedded.client("lambda"), embedded.client("logs")
    name = f"instant-{unique}"
    create_function(iam, lam, logs, name)
    _active(lam, name)
    lam.invoke(FunctionName=name, Payload=json.dumps({"print": f"now-{unique}"}))
    assert f"now-{unique}" in "\n".join(log_messages(logs, name))


def test_a_scale_outside_the_modelled_range_is_refused(embedded: EmbeddedTarget) -> None:
    assert embedded.control is not None
    for bad in (0, 0.0001, 2):
        with pytest.raises(ControlError, match="scale must lie in"):
            embedded.control.update_settings(latency_profile="aws-scaled", scale=bad)
    assert embedded.control.update_settings(latency_profile="aws-scaled", scale=0.001)["scale"] == 0.001
