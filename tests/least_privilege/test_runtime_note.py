"""The embedded target runs functions under drdrill's interpreter: a Runtime that differs is noted, not silent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dr_infra.stack.provision import RUNTIME
from tests.cli.conftest import POSTURE, run_drdrill


def test_the_journal_and_the_report_note_a_runtime_that_is_not_the_interpreter(tmp_path: Path) -> None:
    interpreter = f"python{sys.version_info.major}.{sys.version_info.minor}"
    result = run_drdrill(
        "run", str(POSTURE), "-k", "least_privilege", "--report-dir", str(tmp_path / "r"), cwd=tmp_path, timeout=300
    )
    assert result.code == 0, result.stderr[-2000:]
    journal = json.loads((tmp_path / "r" / "report.json").read_text())
    notes = [n for s in journal["scenarios"] for n in s["evidence"].get("notes", [])]
    mismatch = [n for n in notes if "runs functions under" in n]
    if interpreter == RUNTIME:  # nothing to say when they agree
        assert mismatch == []
        return
    assert mismatch == [
        f"the change monitor's Runtime is {RUNTIME}, but the embedded target runs functions under {interpreter} "
        "(the interpreter running drdrill): code that depends on the Python version can behave differently on AWS"
    ]
    shown = f"Runtime is {RUNTIME}, but the embedded target runs functions under {interpreter}"
    assert shown in (tmp_path / "r" / "report.md").read_text()  # the report says it too (markdown-escaped)
    assert shown in (tmp_path / "r" / "report.html").read_text()
