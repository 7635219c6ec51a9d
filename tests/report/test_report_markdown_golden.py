"""report.md and the CI step summary, byte for byte, for a corpus of journals (golden files).

Why golden files: report.md is rendered from Jinja2 templates (``dr_infra/report/templates/md/``); the goldens were
written by the renderer the templates replaced, so they pin that the move changed no byte, and any later change to
the Markdown shows up here as a reviewed diff. The corpus covers a met run, a violated one, the trend history,
hostile text, real embedded runs (expected violations included), a run whose evidence does not fit in a comment,
an empty journal and a usage-error run with leaks. ``python -m tests.report.test_report_markdown_golden`` rewrites
the goldens after an intended change.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dr_infra.report.markdown import MAX_BYTES, render_markdown, render_summary
from tests.report import journals

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "markdown"
REPORT_PATH = "reports/dd-golden"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def corpus() -> dict[str, dict[str, Any]]:
    """Every journal of the corpus by name (the report tests' samples plus the ones kept beside the goldens)."""
    found = {
        "passed": _load(journals.FIXTURES / "passed.json"),
        "violated": _load(journals.FIXTURES / "violated.json"),
    }
    found |= {p.stem: _load(p) for p in sorted((journals.FIXTURES / "history").glob("*.json"))}
    found |= {p.stem: _load(p) for p in sorted(GOLDEN.glob("*.json"))}
    big = copy.deepcopy(found["violated"])
    big["run_id"] = "dd-oversized"
    big["scenarios"] = [
        dict(copy.deepcopy(s), name=f"{s.get('name')} #{i}") for i in range(30) for s in found["violated"]["scenarios"]
    ]
    found["oversized"] = big
    return found


def renderings(data: dict[str, Any]) -> dict[str, str]:
    """The three Markdown texts drdrill writes for a journal: report.md, the summary with and without a path."""
    return {
        "md": render_markdown(copy.deepcopy(data)),
        "summary.md": render_summary(copy.deepcopy(data), REPORT_PATH),
        "summary-nopath.md": render_summary(copy.deepcopy(data)),
    }


CORPUS = corpus()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_markdown_is_byte_for_byte_the_golden(name: str) -> None:
    for kind, text in renderings(CORPUS[name]).items():
        golden = GOLDEN / f"{name}.{kind}"
        assert golden.is_file(), f"no golden {golden.name}: run python -m tests.report.test_report_markdown_golden"
        expected = golden.read_bytes().decode("utf-8")
        assert text == expected, f"{golden.name} differs"


def test_the_corpus_reaches_every_section() -> None:
    """The goldens are worth something only if the corpus renders every part of the report."""
    reports = {name: renderings(data)["md"] for name, data in CORPUS.items()}
    every = "\n".join(reports.values())
    for part in (
        "> **Simulation, not AWS.**",
        "### Usage errors",
        "### Leaked resources",
        "No scenario was recorded in this run.",
        "## Skipped scenarios",
        "## Stack posture checks",
        "**RTO phases**",
        "**Restore jobs**",
        "**Recovery points**",
        "**Change monitor decisions",
        "**Data comparison:**",
        "**Steps**",
        "<summary>DR policy</summary>",
        "does not all fit in a comment",
    ):
        assert part in every, part
    assert all(len(text.encode("utf-8")) < MAX_BYTES for text in reports.values())


def write_goldens() -> None:
    for name, data in CORPUS.items():
        for kind, text in renderings(data).items():
            (GOLDEN / f"{name}.{kind}").write_bytes(text.encode("utf-8"))


if __name__ == "__main__":
    write_goldens()
