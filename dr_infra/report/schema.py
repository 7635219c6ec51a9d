"""The journal's JSON Schema (``journal.schema.json``, draft 2020-12), shipped as package data.

Why a schema file and not only the dataclasses: auditors and other tools read ``report.json`` without
Python; the schema is the published contract of schema ``drdrill-journal/1`` (add fields, never rename
them), and the tests validate every rendered ``report.json`` against it so the two cannot drift.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "journal.schema.json"


@cache
def _schema_text() -> str:
    return resources.files("dr_infra.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def journal_schema() -> dict[str, Any]:
    """The journal's JSON Schema as a dict (a fresh copy: callers may change it)."""
    schema = json.loads(_schema_text())
    assert isinstance(schema, dict)
    return schema
