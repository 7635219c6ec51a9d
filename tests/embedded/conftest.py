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
def _reset_faults(embedded: EmbeddedTarget) -> Iterator[None]:
    """Fault switches and latency settings are scoped to one test."""
    yield
    assert embedded.control is not None
    embedded.control.reset_faults()
    embedded.control.reset_settings()


@pytest.fixture
def slow_mapping_start(embedded: EmbeddedTarget) -> Iterator[None]:
    """Mappings stay Creating for 3 s, so a write made right after CreateEventSourceMapping is surely before
    polling starts, however busy the machine (the default 0.3 s is shorter than one write can take under load)."""
    assert embedded.control is not None
    embedded.control.update_settings(mapping_transition_seconds=3)
    try:
        yield
    finally:
        embedded.control.reset_settings()
