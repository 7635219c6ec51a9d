"""Which scenarios ``drdrill run PATHS [-k ...] [--tags ...]`` would run, read from the feature files alone."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dr_infra.bdd.needs import skip_reason, starts_restore
from dr_infra.errors import ConfigError

__all__ = ["PlannedScenario", "plan_scenarios"]

_NORECURSE = frozenset({"build", "dist", "node_modules", "venv", "CVS", "_darcs", "{arch}"})
"""Folders pytest's default ``norecursedirs`` skips (with hidden ones and ``*.egg``), so plan counts what run runs."""


@dataclass(frozen=True)
class PlannedScenario:
    """One scenario a run would execute: one stack, and maybe a restore."""

    feature_file: str
    name: str
    restores: bool
    steps: tuple[tuple[str, str], ...] = ()
    """``(type, text)`` of every step, Examples filled in: what the skip marks and time estimate read."""
    test_name: str = ""
    """The pytest test the collector makes of it (``test_<scenario name>``; an Outline's rows share it)."""

    def skipped_on(self, target: str, capabilities: Collection[str] | None) -> str | None:
        """Why ``target`` skips this scenario before its first step (``None``: it runs, or cannot be known)."""
        return None if capabilities is None else skip_reason(self.steps, target, capabilities)


def _feature_files(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"no such feature file or folder: {raw}")
        if path.is_file():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*.feature")):
            folders = candidate.relative_to(path).parts[:-1]
            if any(p.startswith(".") or p in _NORECURSE or p.endswith(".egg") for p in folders):
                continue
            found.append(candidate)
    return list(dict.fromkeys(found))


def _compile(expression: str | None, option: str) -> Any:
    """A pytest ``-k`` / ``-m`` expression, compiled by pytest's own parser (what ``drdrill run`` passes on)."""
    if expression is None or not expression.strip():
        return None
    from dr_infra.bdd.bdd_internals import Expression

    try:
        return Expression.compile(expression)
    except SyntaxError as exc:  # pytest's ParseError before 8.4, SyntaxError since
        reason = " ".join(str(getattr(exc, "msg", None) or exc).split())
        raise ConfigError(f"{option} {expression!r} is not a valid expression: {reason}") from None


@dataclass(frozen=True)
class _KeywordMatch:
    """``-k``: a case-insensitive substring of any of the (lower-cased) names, as pytest's KeywordMatcher."""

    names: list[str]

    def __call__(self, sub: str, /, **_: Any) -> bool:
        return any(sub.lower() in name for name in self.names)


@dataclass(frozen=True)
class _TagMatch:
    """``--tags`` (pytest ``-m``): a tag name present on the scenario or its feature."""

    tags: set[str]

    def __call__(self, tag: str, /, **_: Any) -> bool:
        return tag in self.tags


def plan_scenarios(
    paths: Sequence[str], keyword: str | None = None, tags: str | None = None, root: Path | None = None
) -> list[PlannedScenario]:
    """The scenarios ``drdrill run PATHS [-k ...] [--tags ...]`` would run, from the feature files alone.

    Parsed with drdrill's own collector (:func:`~dr_infra.bdd.collect.load_feature` and its lint), so a
    malformed feature is the same one-line usage error. ``-k`` matches, as pytest does, a case-insensitive
    substring of the scenario's test name (``test_<scenario name>``), its feature file's name, the folders
    below ``root`` (default: the current directory, run's rootdir) and its tags; ``--tags`` matches tag names.
    Each row of a Scenario Outline's Examples is one scenario.
    """
    from dr_infra.bdd.bdd_internals import make_python_name
    from dr_infra.bdd.collect import FeatureUsageError, lint_feature, load_feature

    keyword_expr, tags_expr = _compile(keyword, "-k"), _compile(tags, "--tags")
    root = (root or Path.cwd()).resolve()
    planned: list[PlannedScenario] = []
    for path in _feature_files(paths):
        try:
            feature = load_feature(path)
            lint_feature(path, feature)
        except FeatureUsageError as exc:
            raise ConfigError(str(exc)) from None
        resolved = path.resolve()
        folders = resolved.parent.relative_to(root).parts if resolved.is_relative_to(root) else resolved.parent.parts
        used: set[str] = set()
        for name, template in feature.scenarios.items():
            base = f"test_{make_python_name(name) or 'scenario'}"
            test_name, n = base, 1
            while test_name in used:
                n += 1
                test_name = f"{base}_{n}"
            used.add(test_name)
            marks = set(template.tags) | set(feature.tags)
            names = [n.lower() for n in (test_name, path.name, *folders, *marks)]
            if keyword_expr is not None and not keyword_expr.evaluate(_KeywordMatch(names)):
                continue
            if tags_expr is not None and not tags_expr.evaluate(_TagMatch(marks)):
                continue
            contexts: list[dict[str, Any]] = [
                dict(context) for examples in template.examples for context in examples.as_contexts()
            ] or [{}]
            for context in contexts:
                scenario = template.render(context)
                steps = [(step.type, step.name) for step in scenario.steps]
                planned.append(
                    PlannedScenario(str(path), scenario.name, starts_restore(steps), tuple(steps), test_name)
                )
    return planned
