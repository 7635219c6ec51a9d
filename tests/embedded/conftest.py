"""Fixtures for the embedded target's own tests: one patched moto server per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture
def unique() -> str:
    """A short unique suffix so tests sharing the server never collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
def _switches_scope(embedded: EmbeddedTarget) -> Iterator[None]:
    """Fault switches and latency settings are scoped to one test: after it, whatever happens in it, every switch
    is off (also one a test's own client set) and the settings are the defaults (the session's target runs the
    instant profile)."""
    assert embedded.control is not None
    with embedded.control.switches_scope(settings={}, every_switch=True):
        yield


@pytest.fixture
def slow_mapping_start(embedded: EmbeddedTarget) -> Iterator[None]:
    """Mappings stay Creating for 3 s, so a write made right after CreateEventSourceMapping is surely before
    polling starts, however busy the machine (the default 0.3 s is shorter than one write can take under load)."""
    assert embedded.control is not None
    with embedded.control.switches_scope():
        embedded.control.update_settings(mapping_transition_seconds=3)
        yield
