"""Output is checked before work starts and written so that a crash never loses or truncates it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dr_infra import report as report_package
from dr_infra.drill.policy import load_policy
from dr_infra.errors import ConfigError
from dr_infra.report import render_all
from dr_infra.report.files import check_report_dir
from tests.cli.conftest import POSTURE, run_drdrill
from tests.cli.test_cli_usage_errors import assert_usage_error

AWS_WITHOUT_ACCESS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}


def test_a_report_dir_that_is_a_file_is_refused_before_any_aws_call(tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("mine", encoding="utf-8")
    # the aws target would fail on its STS call (no allow-list, an endpoint nobody listens on): the report
    # folder's line comes first, so nothing was called
    result = run_drdrill(
        "run", str(POSTURE), "--target", "aws", "--report-dir", str(blocker), cwd=tmp_path, env=AWS_WITHOUT_ACCESS
    )
    assert_usage_error(result, str(blocker), "is a file")
    assert blocker.read_text(encoding="utf-8") == "mine"


def test_a_report_dir_inside_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("mine", encoding="utf-8")
    result = run_drdrill("run", str(POSTURE), "--report-dir", str(blocker / "run1"), cwd=tmp_path)
    assert_usage_error(result, "cannot be created", str(blocker))


@pytest.mark.parametrize("where", ["reports/latest", "reports/latest/again"])
def test_latest_or_inside_it_is_refused(tmp_path: Path, where: str) -> None:
    result = run_drdrill("run", str(POSTURE), "--report-dir", where, cwd=tmp_path)
    assert_usage_error(result, "latest", "overwrite the previous run")
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a folder without write permission")
def test_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            check_report_dir(locked / "run1")
    finally:
        locked.chmod(0o700)


def test_a_new_folder_under_a_writable_parent_is_fine(tmp_path: Path) -> None:
    assert check_report_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"


def test_a_renderer_crash_keeps_the_journal_and_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    journal = {"schema": "drdrill-journal/1", "run_id": "r1", "status": "met", "scenarios": []}

    def explode(data: object, out: Path, history: object) -> Path:
        (out / "report.md").parent.mkdir(exist_ok=True)
        raise OverflowError("cannot format 1e400")

    monkeypatch.setitem(report_package.FORMATS, "md", explode)
    with pytest.raises(OverflowError):
        render_all(journal, tmp_path / "out")
    out = tmp_path / "out"
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["run_id"] == "r1"  # written first
    assert not list(out.glob(".*.tmp")) and not (out / "report.md").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_policy_numbers_must_be_finite(tmp_path: Path, value: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[defaults]\nrto_seconds = {value}\nrpo_seconds = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"defaults\.rto_seconds must be a non-negative number"):
        load_policy(str(policy))
