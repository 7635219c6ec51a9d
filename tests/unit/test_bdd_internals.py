"""pytest-bdd's internals are fenced in dr_infra/bdd/bdd_internals.py behind a version check that says what to do."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dr_infra.bdd import bdd_internals
from dr_infra.bdd.bdd_internals import SUPPORTED_PYTEST_BDD, UnsupportedPytestBdd, check_version
from dr_infra.errors import EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
FENCE = ROOT / "dr_infra" / "bdd" / "bdd_internals.py"


def test_the_installed_pytest_bdd_is_supported() -> None:
    from importlib.metadata import version

    assert check_version() == version("pytest-bdd")


@pytest.mark.parametrize("installed", ["8.1.0", "9.0.1", "9.99"])
def test_versions_in_the_range_pass(installed: str) -> None:
    assert check_version(installed) == installed


@pytest.mark.parametrize("installed", ["8.0.0", "10.0.0", "11.2"])
def test_a_version_outside_the_range_is_one_line_naming_it_and_the_fix(installed: str) -> None:
    with pytest.raises(UnsupportedPytestBdd) as info:
        check_version(installed)
    message = str(info.value)
    assert f"pytest-bdd {installed} is installed" in message
    assert f"pip install 'pytest-bdd{SUPPORTED_PYTEST_BDD}'" in message
    assert "\n" not in message and info.value.exit_code == EXIT_USAGE


def test_a_version_that_is_not_one_is_refused() -> None:
    with pytest.raises(UnsupportedPytestBdd, match="not a version"):
        check_version("nine")


def test_the_range_is_the_one_pyproject_installs() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d.removeprefix("pytest-bdd") for d in dependencies if d.startswith("pytest-bdd")]
    assert spec == SUPPORTED_PYTEST_BDD


def _internal_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n.startswith(("pytest_bdd.", "_pytest"))
        ]
    return found


def test_no_module_but_the_fence_imports_pytest_bdd_or_pytest_internals() -> None:
    files = [p for folder in ("dr_infra", "steps", "tests", "bench") for p in (ROOT / folder).rglob("*.py")]
    found = [line for path in files if path != FENCE for line in _internal_imports(path)]
    assert not found, "import these through dr_infra.bdd.bdd_internals:\n" + "\n".join(found)
    assert _internal_imports(FENCE), "the fence itself imports them (else this test sees nothing)"


def test_the_fence_exports_what_drdrill_uses() -> None:
    for name in bdd_internals.__all__:
        assert getattr(bdd_internals, name) is not None


def test_drdrill_run_with_an_unsupported_pytest_bdd_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Black box: the installed version reads 10.0.0; the run stops before any target starts or report is written."""
    report = tmp_path / "report"
    script = (
        "import importlib.metadata as metadata, sys\n"
        "real = metadata.version\n"
        "metadata.version = lambda name: '10.0.0' if name == 'pytest-bdd' else real(name)\n"
        "from dr_infra.app.cli import main\n"
        f"sys.exit(main(['run', 'features/deletion', '--report-dir', {str(report)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_USAGE, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("drdrill: pytest-bdd 10.0.0 is installed, but drdrill supports")
    assert "Traceback" not in done.stderr and not report.exists()
