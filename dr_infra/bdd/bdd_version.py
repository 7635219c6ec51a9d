"""Which pytest-bdd versions drdrill's collector supports, checked without importing pytest-bdd.

Why a module of its own: ``drdrill run`` checks the version before it starts pytest, and importing pytest-bdd
before pytest loads its plugins makes pytest warn that pytest_bdd "cannot be rewritten" (PytestAssertRewriteWarning)
in the middle of the run's output. The internals themselves are in :mod:`dr_infra.bdd.bdd_internals`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from dr_infra.errors import ConfigError

SUPPORTED_PYTEST_BDD = ">=8.1,<10"
"""The pytest-bdd versions these internals were checked against; the same range as pyproject.toml's."""


class UnsupportedPytestBdd(ConfigError):
    """The installed pytest-bdd is not one drdrill's collector was written against."""


def check_version(installed: str | None = None) -> str:
    """The installed pytest-bdd's version, or :class:`UnsupportedPytestBdd` naming it and what to install."""
    fix = f"install a supported one: pip install 'pytest-bdd{SUPPORTED_PYTEST_BDD}'"
    if installed is None:
        try:
            installed = version("pytest-bdd")
        except PackageNotFoundError:
            raise UnsupportedPytestBdd(f"pytest-bdd is not installed; {fix}") from None
    try:
        parsed = Version(installed)
    except InvalidVersion:
        raise UnsupportedPytestBdd(f"pytest-bdd {installed!r} is not a version drdrill can check; {fix}") from None
    if parsed not in SpecifierSet(SUPPORTED_PYTEST_BDD):
        raise UnsupportedPytestBdd(
            f"pytest-bdd {installed} is installed, but drdrill supports pytest-bdd{SUPPORTED_PYTEST_BDD} "
            f"(it relies on internals that change between releases); {fix}"
        )
    return installed
