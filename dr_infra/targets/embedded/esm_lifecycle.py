"""Event source mapping states as AWS reports them: asynchronous, never settled at the moment of the call.

What AWS does (https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html; responses recorded on AWS in
LocalStack's ``tests/aws/services/lambda_/test_lambda_api.snapshot.json`` and
``event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json``):

* ``State`` is one of ``Creating``, ``Enabling``, ``Enabled``, ``Disabling``, ``Disabled``, ``Updating``,
  ``Deleting``; ``StateTransitionReason`` is ``User action`` for changes the caller made.
* CreateEventSourceMapping answers HTTP 202 with ``State: Creating``; the mapping becomes ``Enabled`` (or
  ``Disabled`` when created with ``Enabled=false``) later, and "Lambda can take several minutes to start
  polling". A stream mapping at ``LATEST`` reads from the tip of the shard as it is when polling starts, so
  records written while the mapping is ``Creating`` are never delivered.
* UpdateEventSourceMapping answers 202 with ``Disabling`` (``Enabled=false``), ``Enabling`` (``Enabled=true``
  on a disabled mapping) or ``Updating`` (other settings); DeleteEventSourceMapping answers 202 with
  ``Deleting``.
* ``ResourceInUseException``: "you tried to update an event source mapping in the CREATING state, or you
  tried to delete an event source mapping currently UPDATING" (the botocore model's documentation of the
  error).

What is modelled: every transitional state lasts :attr:`settings.EmbeddedSettings.mapping_transition` seconds
(default 0.3 s on the ``instant`` profile, never zero) and is resolved lazily on read. Update and delete are
refused with ``ResourceInUseException`` while the mapping is in any transitional state. The poller delivers
only while :func:`polling` is true: ``Enabled``, ``Updating`` and ``Disabling`` (a mapping being disabled may
still deliver, as AWS's may; it never delivers once ``Disabled``). A deleted mapping is ``Deleting`` (readable
with Get/ListEventSourceMappings, delivering nothing, refusing update and delete) for the transition time, then
gone (:func:`gone`; ResourceNotFoundException), as the delete response recorded on AWS says ``Deleting``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from moto.awslambda.exceptions import LambdaClientError

from dr_infra.targets.embedded import process_state
from dr_infra.targets.embedded.moto_additions import AdditionKey

CREATING = "Creating"
ENABLING = "Enabling"
ENABLED = "Enabled"
DISABLING = "Disabling"
DISABLED = "Disabled"
UPDATING = "Updating"
DELETING = "Deleting"
GONE = "(deleted)"
"""Not an AWS state: what a ``Deleting`` mapping settles to; the API then no longer knows the mapping."""
TRANSITIONAL = frozenset({CREATING, ENABLING, DISABLING, UPDATING, DELETING})
POLLING = frozenset({ENABLED, UPDATING, DISABLING})
USER_ACTION = "User action"


class ResourceInUse(LambdaClientError):
    """AWS's answer to a change of a mapping that is still changing."""

    code = 400

    def __init__(self, uuid: str, state: str) -> None:
        super().__init__(
            "ResourceInUseException",
            f"Cannot update the event source mapping {uuid} because it is in use (State: {state}). "
            "Wait until it is Enabled or Disabled.",
        )


@dataclass
class Lifecycle:
    """One mapping's state: ``state`` until ``until`` (monotonic), then ``settles_to``."""

    state: str
    settles_to: str
    until: float
    reason: str = USER_ACTION
    until_epoch: float = 0.0
    """``until`` on the wall clock (stream records carry wall-clock times)."""

    def resolve(self, now: float) -> str:
        if self.state in TRANSITIONAL and now >= self.until:
            self.state = self.settles_to
        return self.state


_lock = threading.Lock()
LIFECYCLES: AdditionKey[dict[str, Lifecycle]] = AdditionKey("esm_lifecycle:lifecycles", dict)


def _lifecycles() -> dict[str, Lifecycle]:
    """The state machine of each event source mapping, by UUID, beside moto's mappings."""
    return process_state.MOTO_ADDITIONS[LIFECYCLES]


def _transition(uuid: str, state: str, settles_to: str) -> str:
    delay = process_state.current_settings().mapping_transition
    _lifecycles()[uuid] = Lifecycle(state, settles_to, time.monotonic() + delay, until_epoch=time.time() + delay)
    return state


def settled_at(uuid: str) -> float:
    """Wall-clock time the mapping's last transition ended (or ends); 0 when unknown. A LATEST mapping starts
    polling at this moment: the records written before it are not delivered, those written after it are."""
    with _lock:
        lifecycle = _lifecycles().get(uuid)
        return lifecycle.until_epoch if lifecycle else 0.0


def created(uuid: str, enabled: bool) -> str:
    """A new mapping: ``Creating``, later ``Enabled`` (or ``Disabled``)."""
    with _lock:
        return _transition(uuid, CREATING, ENABLED if enabled else DISABLED)


def adopt(uuid: str, enabled: bool) -> None:
    """A mapping this module never saw created (e.g. before a server restart): settled as moto says."""
    with _lock:
        if uuid not in _lifecycles():
            _lifecycles()[uuid] = Lifecycle(ENABLED if enabled else DISABLED, ENABLED if enabled else DISABLED, 0.0)


def state(uuid: str) -> str | None:
    """The mapping's state now (``None`` when unknown)."""
    with _lock:
        lifecycle = _lifecycles().get(uuid)
        return lifecycle.resolve(time.monotonic()) if lifecycle else None


def polling(uuid: str) -> bool:
    """Whether the poller may read and deliver now."""
    return state(uuid) in POLLING


def check_settled(uuid: str) -> None:
    """Refuse a change (update or delete) while the mapping is still changing."""
    current = state(uuid)
    if current in TRANSITIONAL:
        raise ResourceInUse(uuid, str(current))


def updated(uuid: str, enabled: bool | None) -> str:
    """Start the transition an UpdateEventSourceMapping causes; returns the state to answer with."""
    check_settled(uuid)
    with _lock:
        lifecycle = _lifecycles().get(uuid)
        current = lifecycle.state if lifecycle else ENABLED
        if enabled is False and current != DISABLED:
            return _transition(uuid, DISABLING, DISABLED)
        if enabled is True and current == DISABLED:
            return _transition(uuid, ENABLING, ENABLED)
        return _transition(uuid, UPDATING, current)


def deleting(uuid: str) -> str:
    """DeleteEventSourceMapping: ``Deleting``, then :data:`GONE`."""
    check_settled(uuid)
    with _lock:
        return _transition(uuid, DELETING, GONE)


def gone(uuid: str) -> bool:
    """Whether a deleted mapping has finished ``Deleting`` (the API must no longer show it)."""
    return state(uuid) == GONE


def forget(uuid: str) -> None:
    """The mapping was deleted."""
    with _lock:
        _lifecycles().pop(uuid, None)
