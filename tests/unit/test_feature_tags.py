"""The shipped features carry the tags the README's selection examples use (issue 20)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STRATEGY = re.compile(r'restores with the "(\w+)" strategy')
#: the fault-switch steps (embedded target only)
CHAOS = re.compile(r"throttled|restore jobs (take|fail)|is denied|fails its next|times out|is disabled")


def _scenarios(path: Path) -> list[tuple[list[str], str]]:
    """(tag lines above it, body) per scenario of a feature file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"\s*Scenario( Outline)?:", line)]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        tags = lines[start - 1].split() if lines[start - 1].lstrip().startswith("@") else []
        out.append((tags, "\n".join(lines[start:end])))
    return out


def test_every_shipped_feature_is_tagged_with_its_guarantee_and_strategy() -> None:
    features = sorted((REPO / "features").glob("*/*.feature"))
    assert features
    for path in features:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert f"@{path.parent.name}" in first.split(), path
        for tags, body in _scenarios(path):
            strategy = STRATEGY.search(body)
            if strategy:
                assert f"@{strategy.group(1)}" in tags, (path, body.splitlines()[0])
            chaos = re.search(
                r"throttled|restore jobs (take|fail)|is denied|fails its next|times out|is disabled", body
            )
            assert ("@chaos" in tags) == bool(chaos), (path, body.splitlines()[0])


def test_every_shipped_guarantee_has_a_title_in_words() -> None:
    """The report's sign-off scope and headings name each guarantee in words, not as its folder ("Plan rpo")."""
    from dr_infra.report.words import GUARANTEES, guarantee_title

    folders = {path.parent.name for path in (REPO / "features").glob("*/*.feature")}
    assert folders and folders <= set(GUARANTEES), sorted(folders - set(GUARANTEES))
    assert guarantee_title("not_shipped") == "Not shipped"  # a user's folder still gets a readable name
