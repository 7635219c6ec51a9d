"""SHA256SUMS in every report folder and ``drdrill verify``: intact is 0, any change to the evidence is 1."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from dr_infra.report import render_all
from dr_infra.report.checksums import FILENAME, NotAReportFolder, verify
from tests.cli.conftest import run_drdrill
from tests.report import journals
from tests.report.journals import FILES


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "report"
    render_all(journals.FIXTURES / "violated.json", out)
    return out


def test_sums_cover_every_file_in_sha256sum_format(folder: Path) -> None:
    lines = (folder / FILENAME).read_text(encoding="utf-8").splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    assert sorted(listed) == sorted(FILES)
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):  # the coreutils tool agrees, so an auditor needs no drdrill
        done = subprocess.run(["sha256sum", "-c", FILENAME], cwd=folder, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_intact_folder_verifies(folder: Path) -> None:
    result = verify(folder)
    assert result.intact and result.checked == len(FILES)
    cli = run_drdrill("verify", str(folder), cwd=folder.parent)
    assert cli.code == 0, cli.stderr
    assert cli.stdout.startswith(f"intact: {len(FILES)} files")


def test_altered_file_is_detected(folder: Path) -> None:
    html = folder / "report.html"
    html.write_text(html.read_text(encoding="utf-8").replace("Violated", "Met", 1), encoding="utf-8")
    result = verify(folder)
    assert not result.intact and result.altered == ["report.html"]
    cli = run_drdrill("verify", str(folder), cwd=folder.parent)
    assert cli.code == 1
    assert cli.error_lines == ["altered: report.html (its SHA-256 differs from SHA256SUMS)"]


def test_missing_unlisted_and_malformed_are_altered(folder: Path) -> None:
    (folder / "junit.xml").unlink()
    (folder / "extra.txt").write_text("planted", encoding="utf-8")
    with (folder / FILENAME).open("a", encoding="utf-8") as sums:
        sums.write("not a checksum line\n")
    result = verify(folder)
    assert result.missing == ["junit.xml"] and result.unlisted == ["extra.txt"] and result.malformed
    assert run_drdrill("verify", str(folder), cwd=folder.parent).code == 1


def test_not_a_report_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(NotAReportFolder):
        verify(tmp_path)
    for where in (tmp_path, tmp_path / "nope"):
        cli = run_drdrill("verify", str(where), cwd=tmp_path)
        assert cli.code == 2 and len(cli.error_lines) == 1, cli.stderr
        assert cli.error_lines[0].startswith("drdrill: ") and "Traceback" not in cli.stderr


def test_rerendering_rewrites_the_sums(folder: Path) -> None:
    render_all(folder / "report.json", folder, formats=["md"])
    assert verify(folder).intact
