"""``drdrill run -n N``: xdist's workers are forks of one warmed interpreter (:mod:`dr_infra.prefork`).

Why: each worker used to be a new ``python`` that imported pytest, pytest-bdd, boto3 and drdrill before its first
drill, about 1.5 CPU-s apiece (BENCHMARKS.md, "Staging drill"); on two cores, eight or sixteen of them starting
at once held back the first drills' provisioning by seconds. The fork server imports :data:`WORKER_MODULES` once,
while the controller starts; each worker is then a fork that still parses its own options, imports the
project's ``conftest.py`` and ``steps`` (so pytest rewrites their asserts as before) and collects the features.

Only xdist's plain local workers (``popen``) are forked; any other ``--tx`` is left as it is, and a platform
without ``fork``/``pidfd_open`` or a server that does not come up leaves the workers as plain processes.
"""

from __future__ import annotations

import pytest

from dr_infra.prefork import ForkServer

WORKER_MODULES = [
    "xdist.remote",
    "xdist.looponfail",
    "pytest_bdd.plugin",
    "dr_infra.bdd.plugin",
    "dr_infra.drill.state",
    "dr_infra.stack.provision",
    "dr_infra.verify.equivalence",
    "dr_infra.report.html",
    "boto3",
    "botocore.client",
]
"""What a worker imports before its first drill (``steps`` excluded: see the module's docstring)."""


class ForkedWorkers:
    """The pytest plugin: turns each plain ``popen`` worker spec into one started from the fork server."""

    def __init__(self, server: ForkServer) -> None:
        self.server = server

    @classmethod
    def spawn(cls) -> ForkedWorkers | None:
        """Start the fork server now (it imports in the background); ``None`` when this platform cannot fork."""
        server = ForkServer.spawn(WORKER_MODULES)
        return cls(server) if server is not None else None

    @pytest.hookimpl(tryfirst=True)  # before xdist's own sessionstart (trylast) starts its workers
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        config = session.config
        specs = list(getattr(config.option, "tx", None) or [])
        if not specs or any(spec != "popen" for spec in specs) or not self.server.ready():
            return
        config.option.tx = [f"popen//python={self.server.python}" for _ in specs]

    @pytest.hookimpl(trylast=True)  # after xdist's workers ended
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()

    def close(self) -> None:
        self.server.close()
