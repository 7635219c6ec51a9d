"""Checking a stack definition: the JSON Schema pass and the one-line error (file, key, fix) every check raises."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError
from dr_infra.stack import placeholders

SCHEMA_FILE = Path(__file__).with_name("definition.schema.json")


@cache
def schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def _key_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class Checker:
    """Collects nothing: the first problem raises, so the user gets exactly one line to act on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}; {fix}")

    # -- structure -----------------------------------------------------------------------------------------
    def validate(self, document: Any, schema: dict[str, Any], prefix: str = "") -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        validator = Draft202012Validator(schema)
        error = best_match(validator.iter_errors(document))
        if error is None:
            return
        key = _key_path([*([prefix] if prefix else []), *error.absolute_path])
        fix = str(error.schema.get("description") or "") if isinstance(error.schema, dict) else ""
        if error.validator == "additionalProperties" and isinstance(error.schema, dict):
            known = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
            fix = f"known keys here: {known}"
        elif error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in str(error.message) else ""
            sub = error.schema.get("properties", {}).get(missing, {}) if isinstance(error.schema, dict) else {}
            key = f"{key}.{missing}" if key != "(top level)" and missing else (missing or key)
            fix = str(sub.get("description") or fix)
        elif error.validator == "pattern" and error.path and error.schema.get("pattern") == "^[a-zA-Z][a-zA-Z0-9_]*$":
            fix = "environment names start with a letter and hold letters, digits and '_'"
        elif not fix and error.parent is not None and isinstance(error.parent.schema, dict):
            fix = str(error.parent.schema.get("description") or "")
        problem = str(error.message)
        if len(problem) > 160:
            problem = problem[:157] + "..."
        raise self.fail(key, problem, fix or "see the stack definition section of the README")

    def file(self, key: str, raw: str, *, kind: str = "file") -> Path:
        path = (self.base / raw).resolve()
        if kind == "file" and not path.is_file():
            raise self.fail(key, f"{raw!r} is not a file next to the definition ({path})", "fix the path")
        if kind == "source" and not (path.is_dir() or (path.is_file() and path.suffix == ".zip")):
            raise self.fail(key, f"{raw!r} is neither a folder nor a .zip file ({path})", "point it at the code")
        return path

    def json_file(self, key: str, path: Path) -> dict[str, Any]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise self.fail(key, f"{path.name} is not valid JSON ({exc})", "write one JSON object") from None
        if not isinstance(document, dict):
            raise self.fail(key, f"{path.name} holds a JSON {type(document).__name__}", "write one JSON object")
        self.placeholders(key, document, path.name)
        return document

    def placeholders(self, key: str, value: Any, where: str) -> None:
        bad = placeholders.unknown(value)
        if bad:
            raise self.fail(
                key, f"{where} uses the unknown placeholder {{{bad[0]}}}", f"use one of {placeholders.hint()}"
            )
