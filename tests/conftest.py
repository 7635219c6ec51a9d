"""Fixtures shared by drdrill's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedTarget]:
    """One started embedded target for the session (server on 127.0.0.1, OS-chosen port)."""
    target = EmbeddedTarget()
    target.start()
    yield target
    target.stop()
