"""The DR compliance report: render a run journal into HTML, Markdown, JSON, JUnit XML and CSV.

Reports render from the journal alone, never from a target, so ``drdrill report JOURNAL.json`` can
re-render any past run anywhere (an auditor's laptop, a CI artefact) and every format says the same
thing. ``--dr-redact`` is applied once, to the journal dict, before any renderer sees it.

Public API:

* :func:`render_all` writes the chosen formats (default: all five) into a folder;
* :data:`FORMATS` maps a format name (``html``, ``md``, ``json``, ``junit``, ``csv``) to its renderer,
  each called as ``renderer(journal_dict, out_dir, history)`` and returning the written path;
* :func:`journal_dict` turns a :class:`~dr_infra.journal.Journal`, a dict or a path into plain JSON data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dr_infra.journal import Journal
from dr_infra.report.history import load_history
from dr_infra.report.html import write_html
from dr_infra.report.junit import write_junit
from dr_infra.report.markdown import write_markdown
from dr_infra.report.redact import redact_journal
from dr_infra.report.restore_csv import write_csv
from dr_infra.report.schema import journal_schema

JSON_FILENAME = "report.json"

#: A renderer: (journal dict, output folder, earlier runs' journals) -> the file it wrote.
Renderer = Callable[[Mapping[str, Any], Path, Sequence[Mapping[str, Any]]], Path]


def write_json(data: Mapping[str, Any], out_dir: Path, history: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write the journal itself as ``report.json`` (schema ``drdrill-journal/1``, redacted if asked)."""
    path = out_dir / JSON_FILENAME
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


FORMATS: dict[str, Renderer] = {
    "html": lambda data, out, history: write_html(data, out, history),
    "md": lambda data, out, history: write_markdown(data, out),
    "json": write_json,
    "junit": lambda data, out, history: write_junit(data, out),
    "csv": lambda data, out, history: write_csv(data, out),
}


def journal_dict(journal: Journal | Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Plain JSON data of a journal given as a :class:`Journal`, a dict or the path of a JSON file.

    A round trip through JSON makes the data exactly what ``report.json`` holds (datetimes and other
    objects a step may have put into evidence become strings), so every format renders the same data.
    """
    if isinstance(journal, Journal):
        raw: Any = journal.to_dict()
    elif isinstance(journal, str | Path):
        raw = json.loads(Path(journal).read_text(encoding="utf-8"))
    else:
        raw = dict(journal)
    data = json.loads(json.dumps(raw, default=str))
    if not isinstance(data, dict):
        raise ValueError("a journal must be a JSON object")
    return data


def render_all(
    journal: Journal | Mapping[str, Any] | str | Path,
    out_dir: str | Path,
    history_dir: str | Path | None = None,
    redact: bool = False,
    formats: Iterable[str] | None = None,
) -> list[Path]:
    """Render ``journal`` into ``out_dir``; return the written files in :data:`FORMATS` order.

    ``history_dir``: a folder of earlier runs' journals (``*.json``) for the trend charts; the current
    run is left out of it by run id. ``redact``: mask account ids and ARN accounts in every output.
    ``formats``: names from :data:`FORMATS` (default: all); an unknown name raises ``ValueError`` before
    anything is written.
    """
    if isinstance(formats, str):
        formats = [formats]  # one name, not its letters
    wanted = list(FORMATS) if formats is None else list(dict.fromkeys(formats))
    unknown = [name for name in wanted if name not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    data = journal_dict(journal)
    history: list[dict[str, Any]] = []
    if "html" in wanted and history_dir is not None:
        history = load_history(Path(history_dir), exclude_run_id=str(data.get("run_id") or ""))
    if redact:
        data = redact_journal(data)
        history = [redact_journal(run) for run in history]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [FORMATS[name](data, out, history) for name in FORMATS if name in wanted]


__all__ = [
    "FORMATS",
    "JSON_FILENAME",
    "Renderer",
    "journal_dict",
    "journal_schema",
    "render_all",
    "write_json",
]
