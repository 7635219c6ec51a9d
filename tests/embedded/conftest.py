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
