"""The embedded target's switches and tuning are scoped: a block's changes are undone when it ends, also on error."""

from __future__ import annotations

import pytest

from dr_infra.targets.embedded import process_state
from dr_infra.targets.embedded.process_state import SWITCHES


class Boom(RuntimeError):
    pass


def test_a_scope_restores_the_switches_even_when_the_body_raises() -> None:
    with process_state.switches_scope():  # this test's own changes go too, whatever the other tests left
        SWITCHES.faults.set("restore_job_fails", count=2, scope="drdrill-before-1", message="before")
        before = SWITCHES.snapshot()
        with pytest.raises(Boom), process_state.switches_scope() as switches:
            switches.faults.set("throttle", count=1, operation="DescribeTable")
            switches.faults.take("restore_job_fails", resource="drdrill-before-1-orders")  # one activation used
            switches.count_throttle("drdrill-before-1", "DescribeTable")
            switches.update_settings(latency_profile="aws-scaled", pitr_lag_seconds=2)
            switches.set_strict_credentials(True)
            raise Boom
        assert SWITCHES.faults.active() == before.faults.active()
        assert SWITCHES.faults.active()["restore_job_fails@drdrill-before-1"]["remaining"] == 2
        assert SWITCHES.served("drdrill-before-1") == {}
        assert SWITCHES.settings == before.settings and SWITCHES.settings.latency_profile == "instant"
        assert SWITCHES.strict_credentials is False
    assert "restore_job_fails@drdrill-before-1" not in SWITCHES.faults.active()


def test_one_reset_puts_every_switch_and_setting_back_to_the_defaults() -> None:
    with process_state.switches_scope():
        SWITCHES.faults.set("function_error", count=1)
        SWITCHES.count_throttle(None, "ListTables")
        SWITCHES.update_settings(scale=0.5)
        SWITCHES.set_strict_credentials(True)
        SWITCHES.reset()
        assert SWITCHES.faults.active() == {} and SWITCHES.served() == {}
        assert SWITCHES.settings == process_state.EmbeddedSettings() and SWITCHES.strict_credentials is False


def test_an_invalid_setting_changes_nothing() -> None:
    with process_state.switches_scope():
        before = SWITCHES.settings
        with pytest.raises(ValueError, match="scale"):
            SWITCHES.update_settings(pitr_lag_seconds=3, scale=5)
        assert SWITCHES.settings == before
