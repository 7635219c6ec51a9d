"""Waiting for Lambda functions to be usable: Active after CreateFunction, Successful after an update.

Why: Lambda creates and updates functions asynchronously (https://docs.aws.amazon.com/lambda/latest/dg/
functions-states.html). A new function is ``Pending`` and cannot be invoked or updated yet
(``ResourceConflictException``); after UpdateFunctionConfiguration ``LastUpdateStatus`` is ``InProgress``, another
update is refused and invocations still run the previous configuration until it is ``Successful``. A drill that
changes the monitor's strategy and then harms the table at once could be served by the old strategy. These are
boto3's ``function_active_v2`` / ``function_updated_v2`` conditions, polled with tenacity from 50 ms (the boto3
waiters' one-second first delay would add a second to every drill on a fast target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenacity import Retrying, retry_if_result, stop_before_delay, wait_exponential

from dr_infra.errors import DrDrillError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

TIMEOUT_S = 300.0
"""Lambda's own waiters give up after 300 attempts of a second."""


class FunctionNotReady(DrDrillError):
    """A function did not become Active, or its update did not succeed, in time."""


def _wait(lam: LambdaClient, name: str, ready: str, timeout: float, max_interval: float) -> None:
    last: dict[str, str] = {}

    def check() -> bool:
        config = lam.get_function_configuration(FunctionName=name)
        state, update = str(config.get("State", "")), str(config.get("LastUpdateStatus", ""))
        last.update(
            state=state,
            update=update,
            reason=str(config.get("StateReason") or config.get("LastUpdateStatusReason") or ""),
        )
        if state == "Failed" or update == "Failed":
            raise FunctionNotReady(f"function {name} failed: {last['reason'] or 'no reason given'}")
        if ready == "active":
            return state == "Active"
        return state == "Active" and update in {"Successful", ""}

    def give_up(_: object) -> None:
        raise FunctionNotReady(
            f"function {name} was not {ready} within {timeout:.0f} s (State {last.get('state')}, "
            f"LastUpdateStatus {last.get('update') or '-'})"
        )

    Retrying(
        retry=retry_if_result(lambda done: not done),
        wait=wait_exponential(multiplier=0.05, max=max(0.05, max_interval)),
        stop=stop_before_delay(timeout),
        retry_error_callback=give_up,
    )(check)


def wait_active(lam: LambdaClient, *names: str, timeout: float = TIMEOUT_S, max_interval: float = 2.0) -> None:
    """Wait until every named function is Active (after CreateFunction); ``max_interval`` caps the backoff."""
    for name in names:
        _wait(lam, name, "active", timeout, max_interval)


def wait_updated(lam: LambdaClient, *names: str, timeout: float = TIMEOUT_S, max_interval: float = 2.0) -> None:
    """Wait until every named function's last update is applied (after UpdateFunctionConfiguration)."""
    for name in names:
        _wait(lam, name, "updated", timeout, max_interval)
