"""``reports/latest`` is kept only in drdrill's own layout, and never replaces a user's file or folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr_infra.bdd.report_output import point_latest

UNKNOWN_STEP = """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    Then the moon is full
"""


def _run_dir(parent: Path, name: str) -> Path:
    out = parent / name
    out.mkdir(parents=True)
    (out / "report.json").write_text("{}", encoding="utf-8")
    return out


def test_default_layout_points_latest_at_the_newest_run(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    point_latest(_run_dir(reports, "run-1"), default_layout=True)
    point_latest(_run_dir(reports, "run-2"), default_layout=True)
    assert (reports / "latest").is_symlink()
    assert str((reports / "latest").readlink()) == "run-2"


@pytest.mark.parametrize("default_layout", [True, False])
def test_a_users_regular_file_named_latest_is_never_replaced(tmp_path: Path, default_layout: bool) -> None:
    mine = tmp_path / "latest"
    mine.write_text("my notes about the latest release\n", encoding="utf-8")
    point_latest(_run_dir(tmp_path, "run-1"), default_layout=default_layout)
    assert not mine.is_symlink()
    assert mine.read_text(encoding="utf-8") == "my notes about the latest release\n"


@pytest.mark.parametrize("default_layout", [True, False])
def test_a_users_folder_named_latest_is_never_replaced(tmp_path: Path, default_layout: bool) -> None:
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "keep.txt").write_text("x", encoding="utf-8")
    point_latest(_run_dir(tmp_path, "run-1"), default_layout=default_layout)
    assert not (tmp_path / "latest").is_symlink()
    assert (tmp_path / "latest" / "keep.txt").read_text(encoding="utf-8") == "x"


def test_an_explicit_report_dir_gets_no_latest_beside_it(tmp_path: Path) -> None:
    point_latest(_run_dir(tmp_path, "nightly"), default_layout=False)
    assert not (tmp_path / "latest").exists() and not (tmp_path / "latest").is_symlink()


def test_an_explicit_report_dir_in_a_folder_drdrill_keeps_updates_its_latest(tmp_path: Path) -> None:
    point_latest(_run_dir(tmp_path, "run-1"), default_layout=True)
    point_latest(_run_dir(tmp_path, "custom"), default_layout=False)
    assert str((tmp_path / "latest").readlink()) == "custom"


def test_the_text_file_written_where_links_are_not_allowed_is_drdrills_own(tmp_path: Path) -> None:
    _run_dir(tmp_path, "run-1")
    (tmp_path / "latest").write_text("run-1\n", encoding="utf-8")  # what drdrill writes without symlinks
    point_latest(_run_dir(tmp_path, "run-2"), default_layout=False)
    assert str((tmp_path / "latest").readlink()) == "run-2"


def test_a_symlink_elsewhere_is_not_drdrills_outside_the_default_layout(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    parent = tmp_path / "out"
    parent.mkdir()
    (parent / "latest").symlink_to(elsewhere)
    point_latest(_run_dir(parent, "run-1"), default_layout=False)
    assert (parent / "latest").resolve() == elsewhere.resolve()


def test_drdrill_run_with_report_dir_keeps_a_users_latest_file(drdrill, feature, tmp_path: Path) -> None:
    """End to end: the audit's case, a regular file ``latest`` beside ``--report-dir``."""
    path = feature(UNKNOWN_STEP)  # a usage error still writes the report, cheaply
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "latest"
    mine.write_text("mine\n", encoding="utf-8")
    result = drdrill("run", str(path), "--report-dir", str(out / "run"))
    assert result.code == 2, result.stderr
    assert (out / "run" / "report.json").is_file()
    assert not mine.is_symlink() and mine.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["latest", "run"]


def test_drdrill_run_with_report_dir_leaves_no_stray_latest(drdrill, feature, tmp_path: Path) -> None:
    path = feature(UNKNOWN_STEP)
    result = drdrill("run", str(path), "--report-dir", str(tmp_path / "out" / "run"))
    assert result.code == 2, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["run"]


def test_drdrill_run_default_layout_keeps_reports_latest(drdrill, feature, tmp_path: Path) -> None:
    """A usage error still writes its report, but reports/latest stays on the last run that ran (issue 20)."""
    reports = tmp_path / "reports"
    point_latest(_run_dir(reports, "20261201t000000-real"), default_layout=True)
    path = feature(UNKNOWN_STEP)
    result = drdrill("run", str(path))
    assert result.code == 2, result.stderr
    runs = [p for p in reports.iterdir() if p.name not in {"latest", "20261201t000000-real"}]
    assert len(runs) == 1 and (runs[0] / "report.json").is_file()
    assert str((reports / "latest").readlink()) == "20261201t000000-real"
