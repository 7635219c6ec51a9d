"""Writing a run's report folder, and pointing ``reports/latest`` at the newest one."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from dr_infra.bdd.session import DrillSession


def write_reports(ds: DrillSession) -> Path | None:
    """Write the journal and every report format, if this run ran any drill (or hit a usage error)."""
    journal = ds.journal
    if not journal.scenarios and not journal.usage_errors:
        return None
    journal.finish(interrupted=ds.interrupted)
    out = ds.report_dir()
    from dr_infra.report import render_all

    history = ds.config.getoption("--dr-history-dir")
    if history is None and not ds.config.getoption("--dr-report-dir"):
        history = str(out.parent)  # reports/: earlier runs' journals give the trend with no set-up
    render_all(
        journal, out, history_dir=Path(history) if history else None, redact=bool(ds.config.getoption("--dr-redact"))
    )
    if not journal.usage_errors:  # a run that could not start leaves reports/latest on the last real report
        point_latest(out, default_layout=not ds.config.getoption("--dr-report-dir"))
    ds.config.stash[REPORT_DIR_KEY] = out
    return out


REPORT_DIR_KEY = pytest.StashKey[Path]()


def drdrill_latest(latest: Path) -> bool:
    """Whether ``latest`` is one drdrill made: a symlink to a sibling folder's name, or the text file written
    where links are not allowed (one line naming a sibling folder that holds a journal)."""
    try:
        if latest.is_symlink():
            target = str(latest.readlink())
            return bool(target) and Path(target).name == target  # a sibling's name, not a path elsewhere
        if latest.is_file() and latest.stat().st_size <= 256:
            name = latest.read_text(encoding="utf-8").strip()
            return bool(name) and Path(name).name == name and (latest.parent / name / "report.json").is_file()
    except (OSError, UnicodeDecodeError):
        return False
    return False


def point_latest(out: Path, *, default_layout: bool) -> None:
    """``reports/latest`` points at the newest run (a symlink; a text file where links are not allowed).

    Maintained only in drdrill's own layout: the default ``reports/<run-id>``, or a folder where drdrill already
    keeps a ``latest``. A ``--report-dir`` elsewhere gets no ``latest`` beside it, and a user's own file or folder
    named ``latest`` is never replaced.
    """
    latest = out.parent / "latest"
    ours = drdrill_latest(latest)
    if not (default_layout or ours):
        return
    with contextlib.suppress(OSError):
        if latest.is_symlink() or (ours and latest.is_file()):
            latest.unlink()
        elif latest.exists():
            return  # a user's regular file or folder: keep it
        try:
            latest.symlink_to(out.name, target_is_directory=True)
        except OSError:
            latest.write_text(out.name + "\n", encoding="utf-8")
