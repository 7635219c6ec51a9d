"""A drill whose event source mapping takes long to start still detects its change (AWS: polling can take minutes).

On AWS a new mapping is ``Creating`` for a while and a ``LATEST`` mapping reads from where the shard is once it
polls (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html), so a drill that attached at
LATEST just before its change and did not wait reported "never detected" on AWS while passing locally. drdrill now
enables the stream after seeding, attaches at TRIM_HORIZON and waits for ``Enabled`` (dr_infra/stack/protect.py).
Here ``drdrill serve``'s mappings take 4 s to start (settings ``mapping_transition_seconds``), over HTTP only.
"""

from __future__ import annotations

from pathlib import Path

from dr_infra.targets.control_client import ControlClient
from tests.contract.conftest import _stop as stop_process
from tests.contract.conftest import drdrill_run, leftovers, start_serve

START_SECONDS = 4.0

FEATURE = """\
Feature: Deleted orders come back even when the mapping starts slowly
  Scenario: A deletion right after protecting the table is detected and restored
    Given a DR-protected table "orders" with 20 items
    And the change monitor reacts to "REMOVE" events
    And the change monitor restores with the "pitr" strategy
    When 2 items are deleted
    Then a restore job completes within 60 seconds
    And the change monitor logged the REMOVE event
    And the restored table matches the table as it was before the change
"""


def test_a_slow_mapping_start_never_hides_the_change(tmp_path: Path) -> None:
    process, endpoint = start_serve()
    try:
        control = ControlClient(endpoint)
        assert control.update_settings(mapping_transition_seconds=START_SECONDS)["mapping_transition_seconds"] == 4.0
        feature = tmp_path / "slow_start" / "slow.feature"
        feature.parent.mkdir()
        feature.write_text(FEATURE, encoding="utf-8")
        run = drdrill_run(endpoint, tmp_path, str(feature))
        assert run.returncode == 0, run.output()
        [scenario] = run.journal["scenarios"]
        assert scenario["status"] == "passed", scenario.get("failure")
        steps = {step["text"]: step for step in scenario["steps"]}
        # The When step armed the monitor and waited the mapping's whole start before harming the table ...
        assert steps["2 items are deleted"]["duration_s"] >= START_SECONDS
        armed = scenario["evidence"]["monitor_armed"]
        assert armed["starting_position"] == "TRIM_HORIZON" and armed["waited_s"] >= START_SECONDS
        # ... so the change was delivered, and the RTO does not include the mapping's start.
        first = scenario["rto"]["phases"][0]
        assert first["name"] == "harmful write -> monitor invoked"
        assert first["duration_s"] < START_SECONDS
        assert leftovers(endpoint, f"drdrill-{run.journal['run_id']}") == {}
    finally:
        stop_process(process)
