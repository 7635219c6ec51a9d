"""``drdrill report``: a file it cannot render is one line naming the file and what is wrong, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr_infra.report import NotAJournal, read_journal
from tests.cli.conftest import Result, run_drdrill
from tests.report import journals


def report(tmp_path: Path, *args: str) -> Result:
    return run_drdrill("report", *args, cwd=tmp_path, timeout=120)


def assert_one_line_usage_error(result: Result, name: str, *needles: str) -> None:
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    assert line.startswith("drdrill: ") and name in line, line
    for needle in needles:
        assert needle in line, line
    assert "Traceback" not in result.stderr and "__init__" not in line and "positional argument" not in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (json.dumps({"hello": 1}), ("not a drdrill journal", "missing 'schema'")),
        (json.dumps({"schema": "drdrill-journal/1", "status": "met"}), ("not a drdrill journal", "missing 'run_id'")),
        (json.dumps({"schema": "other/2", "run_id": "r"}), ("not a drdrill journal", "'schema' is \"other/2\"")),
        (json.dumps([1, 2]), ("not a drdrill journal", "a list, not an object")),
        ('{"schema": "drdrill-journal/1", ', ("not valid JSON", "line 1 column")),
        ("", ("not valid JSON",)),
    ],
    ids=["no-schema", "no-run-id", "other-schema", "list", "truncated", "empty"],
)
def test_a_file_that_is_not_a_journal(tmp_path: Path, content: str, needles: tuple[str, ...]) -> None:
    path = tmp_path / "input.json"
    path.write_text(content, encoding="utf-8")
    assert_one_line_usage_error(report(tmp_path, str(path)), "input.json", *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.json"]  # nothing rendered


def test_a_missing_file(tmp_path: Path) -> None:
    assert_one_line_usage_error(report(tmp_path, str(tmp_path / "absent.json")), "absent.json", "no such journal")


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    assert_one_line_usage_error(report(tmp_path, str(tmp_path / "dir.json")), "dir.json", "not a file")


def test_an_unwritable_output(tmp_path: Path) -> None:
    journal = tmp_path / "report.json"
    journal.write_text(json.dumps(journals.as_dict(journals.passed_journal())), encoding="utf-8")
    blocker = tmp_path / "out"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    result = report(tmp_path, str(journal), "--format", "md", "--out", str(blocker))
    assert_one_line_usage_error(result, "out", "cannot write the report")


def test_a_journal_with_newer_fields_still_renders(tmp_path: Path) -> None:
    data = journals.as_dict(journals.passed_journal())
    data["from_the_future"] = {"x": 1}
    data["scenarios"][0]["evidence"]["new_evidence"] = {"answer": 42}
    journal = tmp_path / "report.json"
    journal.write_text(json.dumps(data), encoding="utf-8")
    result = report(tmp_path, str(journal), "--format", "html", "--format", "json", "--out", str(tmp_path / "out"))
    assert result.code == 0, result.stderr
    assert "<li>answer: 42</li>" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8")) == data  # nothing dropped


def test_read_journal_in_process(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text(json.dumps({"schema": "drdrill-journal/1", "run_id": "r", "scenarios": {}}), encoding="utf-8")
    with pytest.raises(NotAJournal, match=r"j\.json is not a drdrill journal: 'scenarios' is an object, not a list"):
        read_journal(path)
    path.write_text(json.dumps({"schema": "drdrill-journal/1", "run_id": "r", "scenarios": [1]}), encoding="utf-8")
    with pytest.raises(NotAJournal, match="not an object"):
        read_journal(path)
    path.write_text(json.dumps({"schema": "drdrill-journal/1", "run_id": "r"}), encoding="utf-8")
    assert read_journal(path)["run_id"] == "r"
