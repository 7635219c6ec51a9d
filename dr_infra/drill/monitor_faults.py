"""The change monitor's failure modes a drill provokes or proves: its mapping disabled, its invocations failing
and retried, the change never detected, the monitor never invoked.

Read from what AWS reports: the event source mapping's configuration (GetEventSourceMapping: State,
MaximumRetryAttempts, LastProcessingResult, https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html)
and the function's log group (START lines, errors: :mod:`dr_infra.verify.monitor_log`). A stream batch whose
invocations all fail is retried until MaximumRetryAttempts is used up, then discarded
(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-ddb-errors).
"""

from __future__ import annotations

import time
from typing import Any

from dr_infra.drill import recovery, user_monitor
from dr_infra.drill.state import Drill
from dr_infra.drill.waits import Probe, WaitPolicy
from dr_infra.errors import ConfigError, WaitTimeout
from dr_infra.verify import monitor_log as evidence

NEVER_INVOKED_WINDOW_S = 3.0
"""How long after the change an attached monitor always has run (the never-invoked check waits this long)."""


def _monitor_log_group(drill: Drill) -> str:
    stack = drill.require_stack()
    return stack.names.log_group(stack.names.monitor_function)


def disable_mapping(drill: Drill) -> str:
    """Attach the monitor now, then disable its mapping (UpdateEventSourceMapping Enabled=False); its State.
    The step requires the target's ``lambda_execution`` first (dr_infra.bdd.needs lists it for drdrill plan)."""
    stack = drill.require_stack()
    if stack.spec.deployed:
        raise ConfigError(
            "'the change monitor's event source mapping is disabled' would change the deployed stack's mapping: "
            "drdrill never changes a deployed stack (its posture reports a disabled mapping as violated)"
        )
    drill.ensure_monitor_attached()
    if not stack.mapping_uuid:
        raise ConfigError("the change monitor has no event source mapping to disable")
    uuid = stack.mapping_uuid
    lam = drill.client("lambda")
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)

    def disabled() -> Probe:
        state = str(lam.get_event_source_mapping(UUID=uuid).get("State"))
        return Probe(state == "Disabled", state, state)

    state = str(WaitPolicy("event source mapping Enabled -> Disabled", 30).run(disabled).value)
    drill.record.evidence["event_source_mapping"] = {"uuid": uuid, "state": state}
    drill.record.add_evidence("notes", f"fault: event source mapping {uuid} disabled")
    return state


def check_failed_before_restore(drill: Drill, expected: int) -> None:
    """The monitor's log shows ``expected`` failed invocations, then a retry that started the restore."""
    if expected < 0:
        raise ConfigError("a number of invocations cannot be negative")
    logs, group = drill.client("logs"), _monitor_log_group(drill)
    errors = evidence.function_errors(logs, group, drill.incident.change_at)
    starts = evidence.invocation_starts(logs, group, drill.incident.change_at)
    if user_monitor.is_user_monitor(drill):
        # A user's monitor logs no decisions: the restore's start is what AWS reports (its creation time).
        first = user_monitor.first_restore_ms(drill)
        started = [{"timestamp": first}] if first is not None else []
    else:
        started = [line for line in recovery.decisions(drill) if line.get("decision") in recovery.STARTED]
    drill.record.evidence["monitor_retries"] = {"invocations": len(starts), "function_errors": errors[:10]}
    assert len(errors) == expected, f"{len(errors)} failed invocation(s) logged, expected {expected}: {errors[:3]}"
    assert len(starts) >= expected + 1, f"the monitor was invoked {len(starts)} time(s): no retry after the failures"
    # whole seconds: AWS Backup reports job creation times to the second, Lambda's START lines to the millisecond
    assert started and started[0]["timestamp"] >= starts[expected] // 1000 * 1000, (
        "the restore did not start after the retries"
    )
    drill.record.add_evidence("notes", f"the mapping retried the batch after {expected} failed invocation(s)")


def check_never_detected(drill: Drill, timeout_s: float) -> None:
    """The mapping gave up (MaximumRetryAttempts used up): no decision, the batch discarded, the change lost; the
    RTO is violated as the scenario expects."""
    stack = drill.require_stack()
    logs, group, lam = drill.client("logs"), _monitor_log_group(drill), drill.client("lambda")
    since = drill.incident.change_at

    def probe() -> Probe:
        mapping = lam.get_event_source_mapping(UUID=stack.mapping_uuid)
        retries = int(mapping.get("MaximumRetryAttempts", -1))
        starts = evidence.invocation_starts(logs, group, since)
        result = str(mapping.get("LastProcessingResult"))
        gave_up = retries >= 0 and len(starts) >= retries + 1 and result.startswith("PROBLEM")
        return Probe(
            gave_up,
            f"{len(starts)} invocation(s), MaximumRetryAttempts {retries}, {result}",
            (mapping, starts),
        )

    mapping, _starts = WaitPolicy("event source mapping gives up on the batch", timeout_s).run(probe).value
    time.sleep(1.0)  # a mapping that had not given up would invoke again now
    again = evidence.invocation_starts(logs, group, since)
    # A user's monitor logs no decisions: what it decided is what AWS shows it started.
    decided = (
        [{"decision": f"restore {key} started"} for key in recovery.started_restores(drill)]
        if user_monitor.is_user_monitor(drill)
        else recovery.decisions(drill)
    )
    errors = evidence.function_errors(logs, group, since)
    retries = int(mapping["MaximumRetryAttempts"])
    assert not decided, f"the monitor did decide: {[_summary_of(line) for line in decided][:3]}"
    assert len(again) == retries + 1, f"{len(again)} invocations, expected 1 + MaximumRetryAttempts ({retries})"
    assert len(errors) == len(again), f"{len(errors)} of {len(again)} invocations failed: {errors[:3]}"
    note = (
        f"the change was never detected: the change monitor failed all {len(again)} invocations "
        f"(1 + MaximumRetryAttempts {retries}), so the event source mapping discarded the batch "
        f"(LastProcessingResult: {mapping.get('LastProcessingResult')}); last error: {errors[-1].splitlines()[0]}"
    )
    recovery.note_stream_record(drill)
    drill.record.evidence["lost_detection"] = {
        "mapping_uuid": stack.mapping_uuid,
        "invocations": len(again),
        "maximum_retry_attempts": retries,
        "last_processing_result": mapping.get("LastProcessingResult"),
        "function_errors": errors[:10],
    }
    drill.violate("rto", note, expected=True)


def _summary_of(line: dict[str, Any]) -> str:
    return f"{line.get('decision')}: {line.get('reason') or line.get('error') or ''}".rstrip(": ")


def check_never_invoked(drill: Drill) -> None:
    """No START line after the change within a window where an attached monitor always runs; the RTO is violated
    as the scenario expects."""
    stack = drill.require_stack()
    if user_monitor.is_user_monitor(drill):
        user_monitor.assert_never_invoked(drill, NEVER_INVOKED_WINDOW_S)
    else:
        try:
            recovery.wait_restore_started(drill, time.monotonic() + NEVER_INVOKED_WINDOW_S)
        except WaitTimeout as exc:
            assert exc.last_state == "monitor never invoked", f"the monitor was invoked: {exc.last_state}"
        else:
            raise AssertionError("the monitor started a restore, so it was invoked")
    recovery.note_stream_record(drill)
    state = (
        drill.client("lambda").get_event_source_mapping(UUID=stack.mapping_uuid).get("State", "-")
        if stack.mapping_uuid
        else "-"
    )
    note = (
        f"RTO violated: monitor never invoked within {NEVER_INVOKED_WINDOW_S:g} s of the change "
        f"(event source mapping {stack.mapping_uuid or 'missing'}: State {state})"
    )
    drill.violate("rto", note, expected=True)
