"""The pytest-bdd (and pytest) internals drdrill relies on, fenced in one module behind a version check.

Why: drdrill collects ``.feature`` files itself (one-line usage errors instead of tracebacks), finds the scenario
behind a test item and lists the step definitions visible to it, and ``drdrill plan`` names scenarios and matches
``-k``/``--tags`` exactly as a run would. pytest-bdd's public API (``scenario``, ``given``/``when``/``then``,
``parsers``) does none of that, so drdrill uses a few of its internals, as the embedded target uses moto's
(:mod:`dr_infra.targets.embedded.patches`). They may change in any release, so they are imported only here, and
only after :func:`check_version` accepted the installed pytest-bdd: an unsupported version is one clear line
(exit 2 from ``drdrill run``) instead of an ImportError or a silent misreading. Every other module imports from
here (``tests/unit/test_bdd_internals.py`` fails on any other import of ``pytest_bdd.*`` or ``_pytest``).
"""

from __future__ import annotations

from typing import Any

from dr_infra.bdd.bdd_version import SUPPORTED_PYTEST_BDD as SUPPORTED_PYTEST_BDD
from dr_infra.bdd.bdd_version import UnsupportedPytestBdd as UnsupportedPytestBdd
from dr_infra.bdd.bdd_version import check_version

check_version()  # before the internals below are imported: an unsupported version is this one line

from _pytest.mark.expression import Expression  # noqa: E402
from pytest_bdd.compat import get_fixture_names, getfixturedefs  # noqa: E402
from pytest_bdd.exceptions import GherkinParseError  # noqa: E402
from pytest_bdd.feature import get_feature  # noqa: E402
from pytest_bdd.parser import Feature, ScenarioTemplate  # noqa: E402
from pytest_bdd.scenario import make_python_name, scenario_wrapper_template_registry  # noqa: E402
from pytest_bdd.steps import step_function_context_registry  # noqa: E402

EXAMPLE_PARAM = "_pytest_bdd_example"
"""The callspec parameter pytest-bdd puts a Scenario Outline's Examples row under."""


def fixture_manager(session: Any) -> Any:
    """pytest's fixture manager of ``session`` (pytest-bdd registers step definitions as fixtures)."""
    return session._fixturemanager


def silence_keyboard_interrupt_banner(config: Any) -> None:
    """No "!!! KeyboardInterrupt !!!" banner, source line and "--full-trace" hint from pytest's terminal reporter:
    ``drdrill run`` says in its own line that the run was interrupted and what its teardown did."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and hasattr(reporter, "_report_keyboardinterrupt"):
        reporter._report_keyboardinterrupt = lambda: None


def silence_xdist_status(config: Any) -> None:
    """No "bringing up nodes..." lines from pytest-xdist's status reporter (its ``TerminalDistReporter``, which
    xdist's ``DSession`` also calls directly): ``drdrill run`` says how many drills run at once in its own line,
    and each scenario's line names its worker."""
    reporter = config.pluginmanager.get_plugin("terminaldistreporter")
    if reporter is not None:
        for name in ("write_line", "rewrite"):
            if hasattr(reporter, name):
                setattr(reporter, name, lambda *args, **kwargs: None)
    # DSession ends the (now silent) status line with a blank line of its own, once every worker has collected
    # (DSession.worker_collectionfinish): without the status it is a stray empty line atop the output, the one
    # difference between ``drdrill run -q`` serially and under -n. Its other lines (a worker crashed) stay.
    dsession = config.pluginmanager.get_plugin("dsession")
    if getattr(dsession, "terminal", None) is not None:
        dsession.terminal = _NoBlankLines(dsession.terminal)


class _NoBlankLines:
    """pytest's terminal reporter as pytest-xdist's DSession sees it, without the empty lines it writes."""

    def __init__(self, reporter: Any) -> None:
        self._reporter = reporter

    def write_line(self, line: str, **markup: bool) -> None:
        if line.strip():
            self._reporter.write_line(line, **markup)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reporter, name)


__all__ = [
    "EXAMPLE_PARAM",
    "SUPPORTED_PYTEST_BDD",
    "Expression",
    "Feature",
    "GherkinParseError",
    "ScenarioTemplate",
    "UnsupportedPytestBdd",
    "check_version",
    "fixture_manager",
    "get_feature",
    "get_fixture_names",
    "getfixturedefs",
    "make_python_name",
    "scenario_wrapper_template_registry",
    "silence_keyboard_interrupt_banner",
    "silence_xdist_status",
    "step_function_context_registry",
]
