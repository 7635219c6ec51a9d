"""The DR compliance report: render a run journal into HTML, Markdown, JSON, JUnit XML and CSV.

Reports render from the journal alone, never from a target, so ``drdrill report JOURNAL.json`` can
re-render any past run anywhere (an auditor's laptop, a CI artefact) and every format says the same
thing. ``--dr-redact`` is applied once, to the journal dict, before any renderer sees it.

Public API:

* :func:`render_all` writes the chosen formats (default: all five) into a folder;
* :data:`FORMATS` maps a format name (``html``, ``md``, ``json``, ``junit``, ``csv``) to its renderer,
  each called as ``renderer(journal_dict, out_dir, history)`` and returning the written path;
* :func:`journal_dict` turns a :class:`~dr_infra.report.journal.Journal`, a dict or a path into plain JSON data;
* :func:`read_journal` reads a journal file for re-rendering, or says in one line why it cannot;
* every folder :func:`render_all` writes gets a ``SHA256SUMS`` over its files (:mod:`dr_infra.report.checksums`,
  checked by ``drdrill verify``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dr_infra.report.checksums import write_sums
from dr_infra.report.files import write_atomically
from dr_infra.report.history import SCHEMA_PREFIX, load_history
from dr_infra.report.html import write_html
from dr_infra.report.journal import Journal
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
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
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


class NotAJournal(ValueError):
    """A file ``drdrill report`` cannot render: missing, unreadable, not JSON, or not a drdrill journal.

    The message is one line naming the file and what is wrong with it.
    """


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def read_journal(path: str | Path) -> dict[str, Any]:
    """The journal in the JSON file ``path``, checked to be a drdrill journal before anything renders it.

    Raises :class:`NotAJournal` (one line naming the file) for a missing or unreadable file, invalid JSON,
    or JSON that is not a ``drdrill-journal/N`` document (no ``schema``, no ``run_id``, ``scenarios`` not
    a list of objects).
    """
    file = Path(path)
    data = _read_json(file)
    if not isinstance(data, dict):
        raise NotAJournal(f"{file} is not a drdrill journal: the document is {_kind(data)}, not an object")
    problem = _journal_problem(data)
    if problem:
        raise NotAJournal(f"{file} is not a drdrill journal: {problem}")
    return data


def _read_json(file: Path) -> Any:
    """The JSON document in ``file``; :class:`NotAJournal` when it is missing, unreadable or not JSON."""
    if not file.is_file():
        raise NotAJournal(f"no such journal file: {file}" if not file.exists() else f"{file} is not a file")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotAJournal(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise NotAJournal(f"{file} is not a drdrill journal: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAJournal(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _journal_problem(data: dict[str, Any]) -> str | None:
    """Why ``data`` is not a ``drdrill-journal/N`` document (None when it is one)."""
    schema = data.get("schema")
    if "schema" not in data:
        return "missing 'schema'"
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        return f"'schema' is {json.dumps(schema)[:60]}, expected '{SCHEMA_PREFIX}1'"
    if not isinstance(data.get("run_id"), str) or not data["run_id"]:
        return "missing 'run_id'"
    if not isinstance(data.get("scenarios", []), list):
        return f"'scenarios' is {_kind(data['scenarios'])}, not a list"
    if not all(isinstance(s, dict) for s in data.get("scenarios", [])):
        return "'scenarios' holds something that is not an object"
    return None


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
    # The journal first: if a renderer fails, everything the others render from is already safe on disk.
    order = sorted((name for name in FORMATS if name in wanted), key=lambda name: name != "json")
    files = {name: FORMATS[name](data, out, history) for name in order}
    written = [files[name] for name in FORMATS if name in files]
    write_sums(out)  # after every file is written: the sums cover the folder as the reader receives it
    return written


__all__ = [
    "FORMATS",
    "JSON_FILENAME",
    "NotAJournal",
    "Renderer",
    "journal_dict",
    "journal_schema",
    "read_journal",
    "render_all",
    "write_json",
]
