"""Where drdrill's shipped features live: the source checkout's ``features/``, or the wheel's bundled copy."""

from __future__ import annotations

import re
from pathlib import Path

from dr_infra.errors import DrDrillError


def shipped_features() -> Path:
    """The features shipped with drdrill (the source checkout's, or the wheel's bundled copy)."""
    here = Path(__file__).resolve().parents[1]  # dr_infra/
    for candidate in (here.parent / "features", here / "_bundled" / "features"):
        if candidate.is_dir():
            return candidate
    raise DrDrillError("cannot find drdrill's shipped features; pass feature paths explicitly")


_TAG = re.compile(r"(?<!\S)@([^\s@]+)")


def shipped_tags() -> set[str]:
    """Every Gherkin tag the shipped features use.

    pytest 9 refuses a ``-m``/``--tags`` expression naming a marker nobody registered, and a feature's tags are
    registered only when that feature is collected: ``drdrill run features/deletion --tags "not chaos"`` was refused
    because no deletion feature carries ``@chaos``. drdrill's own tags are known words whatever is collected; a tag
    that appears nowhere (a typo) is still refused. Only tag lines are read (cheap; no Gherkin parse)."""
    try:
        folder = shipped_features()
    except DrDrillError:
        return set()
    tags: set[str] = set()
    for path in folder.rglob("*.feature"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("@"):
                tags.update(_TAG.findall(line.split("#", 1)[0]))
    return tags
