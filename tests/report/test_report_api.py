"""render_all, FORMATS, history loading and the view model's wording."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dr_infra.report import FORMATS, journal_dict, render_all
from dr_infra.report.fmt import fmt_seconds, fmt_time
from dr_infra.report.history import load_history
from dr_infra.report.model import build
from tests.report import journals
from tests.report.journals import FILES


def test_formats_names() -> None:
    assert list(FORMATS) == ["html", "md", "json", "junit", "csv"]


def test_render_all_writes_five_files_from_a_journal_object(tmp_path: Path) -> None:
    paths = render_all(journals.violated_journal(), tmp_path / "out")
    assert [p.name for p in paths] == list(FILES)
    assert all(p.stat().st_size > 0 for p in paths)


def test_render_subset_and_unknown_format(tmp_path: Path, fixtures_dir: Path) -> None:
    paths = render_all(fixtures_dir / "passed.json", tmp_path, formats=["csv", "md"])
    assert [p.name for p in paths] == ["report.md", "restore-jobs.csv"]
    assert [p.name for p in render_all(fixtures_dir / "passed.json", tmp_path, formats="csv")] == ["restore-jobs.csv"]
    with pytest.raises(ValueError, match="unknown report format"):
        render_all(fixtures_dir / "passed.json", tmp_path / "x", formats=["pdf"])
    assert not (tmp_path / "x").exists()


def test_each_renderer_alone(tmp_path: Path, passed_data: dict) -> None:
    for name, renderer in FORMATS.items():
        if name == "html":
            continue  # covered by the session renders; keeps this test fast
        path = renderer(passed_data, tmp_path, [])
        assert path.parent == tmp_path and path.stat().st_size > 0


def test_journal_dict_stringifies_objects(passed_data: dict, tmp_path: Path) -> None:
    passed_data["scenarios"][0]["evidence"]["notes"] = [datetime(2025, 1, 1, tzinfo=UTC)]
    assert journal_dict(passed_data)["scenarios"][0]["evidence"]["notes"] == ["2025-01-01 00:00:00+00:00"]
    not_a_journal = tmp_path / "list.json"
    not_a_journal.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON object"):
        journal_dict(not_a_journal)


def test_history_skips_junk_and_the_current_run(tmp_path: Path, history_dir: Path) -> None:
    for path in history_dir.iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}), encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "report.json").write_text(
        json.dumps(journals.as_dict(journals.passed_journal("dd-nested", base=journals.T0))), encoding="utf-8"
    )
    runs = load_history(tmp_path, exclude_run_id="dd-hist-2")
    assert [r["run_id"] for r in runs] == ["dd-hist-1", "dd-hist-3", "dd-nested"]
    assert load_history(tmp_path / "missing") == [] and load_history(None) == []


def test_wording() -> None:
    assert [fmt_seconds(v) for v in (None, 0, 0.25, 12.34, 245, 7380)] == [
        "-",
        "0 s",
        "250 ms",
        "12.3 s",
        "4 min 05 s",
        "2 h 03 min",
    ]
    assert fmt_time("2025-03-01T10:15:00.000+00:00") == "2025-03-01 10:15:00 UTC"
    assert fmt_time("2025-03-01T10:15:00.250Z") == "2025-03-01 10:15:00.250 UTC"
    assert fmt_time("yesterday") == "yesterday" and fmt_time(None) == "-"
    view = build(journals.as_dict(journals.violated_journal()))
    assert view.headline == "DR guarantees violated"
    assert [g.verdict[0] for g in view.guarantees] == [
        "Violated",
        "Violated",
        "Met",
        "Error",
        "Not measured",
        "Violated",
    ]
    assert view.scenarios[0].rto.verdict == "over target" and view.scenarios[2].rto.verdict == "within target"
