"""``drdrill plan`` validates steps exactly as ``drdrill run`` does: by collecting the same paths with pytest and
drdrill's plugin, touching no target.

Why not a second checker: a plan that prices a feature whose steps ``run`` would reject (an unknown step, ``When 0
items are deleted``) is a plan of nothing. Collection runs drdrill's own checks (:func:`dr_infra.bdd.collect.
unknown_steps`, which includes the step argument checks of :mod:`dr_infra.bdd.step_checks`) with ``--collect-only``,
so the target is never started, and the first problem is the plan's one-line usage error (exit 2).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError

TABLE_STEP = re.compile(r'^a DR-protected table "(?P<name>[^"]*)"')


def table_of(steps: Sequence[tuple[str, str]]) -> str | None:
    """The logical table a scenario protects (its ``Given a DR-protected table "NAME" ...`` step)."""
    for kind, text in steps:
        match = TABLE_STEP.match(text)
        if kind == "given" and match:
            return match.group("name")
    return None


class _Problems:
    """Collects the usage errors drdrill's plugin records during collection."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_collection_finish(self, session: Any) -> None:
        from dr_infra.bdd.session import SESSION_KEY

        ds = session.config.stash.get(SESSION_KEY, None)
        self.lines.extend(getattr(getattr(ds, "journal", None), "usage_errors", None) or [])


def validate_steps(paths: Sequence[str], target: str) -> None:
    """Raise :class:`ConfigError` with ``run``'s own line when ``run`` would refuse these scenarios' steps."""
    import pytest

    argv = [*paths, "--collect-only", "-q", "-p", "no:cacheprovider", "-o", "python_files=", f"--dr-target={target}"]
    argv += ["--rootdir", str(Path.cwd()), "--dr-progress=off"]
    # -k/--tags are not passed: every scenario of the given files is checked (plan_scenarios applied the
    # filters already), so a plan never passes a file that a differently filtered run of it would refuse
    problems = _Problems()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = pytest.main(argv, plugins=[problems])
    if problems.lines:
        raise ConfigError(problems.lines[0])
    if code == pytest.ExitCode.USAGE_ERROR:
        errors = [line.removeprefix("ERROR: ") for line in out.getvalue().splitlines() if line.startswith("ERROR: ")]
        raise ConfigError(errors[0] if errors else "the features cannot be collected (run drdrill run to see why)")
