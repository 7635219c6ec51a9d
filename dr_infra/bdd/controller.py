"""The xdist controller's start of a shared target (aws, LocalStack) before any worker process starts.

Under ``-n N`` the controller collects nothing, so ``pytest_collection_finish`` (where a serial run starts its
target) never runs there: without this, each worker found a missing allow-list, refused credentials or an
unreachable endpoint on its own and stopped with ``pytest.exit``, which xdist reports to the controller as a
keyboard interrupt ("node down"), N times, before drdrill's one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dr_infra import interrupts
from dr_infra.bdd.report_output import write_reports
from dr_infra.bdd.session import drill_session
from dr_infra.errors import DrDrillError


def start_for_workers(config: pytest.Config) -> None:
    """-n N on aws or LocalStack: start the target here, in the controller's ``pytest_sessionstart``, before
    xdist's own (``trylast``) starts the workers, so a refusal is one line and exit 2 as in a serial run, with
    the same journal (no scenario, the usage error). The embedded target starts in the workers, or once in the
    controller when they share it (the plugin's ``pytest_configure_node``)."""
    ds = drill_session(config)
    if ds.target_name == "embedded" or config.option.collectonly or not names_features(config):
        return
    try:
        ds.start_target()
    except DrDrillError as exc:
        ds.journal.usage_errors.append(str(exc))
        with interrupts.shielded("writing the report"):
            write_reports(ds)  # pytest_sessionfinish does not run after a failed sessionstart
        raise pytest.UsageError(str(exc)) from None


def names_features(config: pytest.Config) -> bool:
    """Whether the run's paths hold a ``.feature`` file: a session that runs no drill stays inert."""
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        if path.suffix == ".feature" or (path.is_dir() and next(path.rglob("*.feature"), None) is not None):
            return True
    return False
