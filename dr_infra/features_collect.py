"""Collect ``.feature`` files directly, and refuse the Gherkin mistakes pytest-bdd would let pass.

Users run their own feature files with ``drdrill run path/`` (or plain pytest) without writing binder
modules: each feature file becomes a synthetic test module whose tests are pytest-bdd scenarios.

Guarded pitfalls (each a usage error with one line that names the file and line):

* a scenario without a Then step (pytest-bdd would pass it: it proves nothing);
* a Gherkin step line folded into a description (e.g. ``Then: x`` or a step before the first Scenario):
  pytest-bdd treats it as prose and the scenario passes without it;
* a step text no step definition matches (the nearest known steps are suggested);
* malformed Gherkin (the parser's message, shortened to one line).
"""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import scenario
from pytest_bdd.compat import get_fixture_names, getfixturedefs
from pytest_bdd.exceptions import FeatureError, GherkinParseError
from pytest_bdd.feature import get_feature
from pytest_bdd.parser import Feature, ScenarioTemplate
from pytest_bdd.scenario import make_python_name, scenario_wrapper_template_registry

STEP_WORDS = re.compile(r"^\s*(Given|When|Then|And|But)\b")
STEPDEF_PREFIX = "pytestbdd_stepdef_"


class FeatureUsageError(Exception):
    """A mistake in a feature file: reported as a usage error (exit code 2), never as a pass or a fail."""


def load_feature(path: Path) -> Feature:
    """Parse ``path``; malformed Gherkin becomes a one-line :class:`FeatureUsageError`."""
    try:
        return get_feature(str(path.parent), path.name)
    except GherkinParseError as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        content = (exc.line_content or "").strip()
        hint = ""
        if re.match(r"^(Given|When|Then|And|But)\s*:", content, re.IGNORECASE):
            hint = "; write steps without a colon after the keyword"
        near = f" (near {content!r})" if content else ""
        raise FeatureUsageError(f"{where}: malformed Gherkin: {exc.message}{near}{hint}") from None
    except FeatureError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FeatureUsageError(f"{path}: malformed Gherkin: {first}") from None
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise FeatureUsageError(f"{path}: malformed Gherkin: {message}") from None


def lint_feature(path: Path, feature: Feature) -> None:
    """Reject scenarios without Then and step lines hidden in descriptions."""
    if not feature.scenarios:
        raise FeatureUsageError(f"{path}: no Scenario found (a feature needs at least one 'Scenario:')")
    for line in (feature.description or "").splitlines():
        if STEP_WORDS.match(line):
            raise FeatureUsageError(
                f"{path}: the line {line.strip()!r} is in the feature description, not in a scenario; "
                "put steps under a 'Scenario:' and write them without a colon after the keyword"
            )
    for name, template in feature.scenarios.items():
        for line in (template.description or "").splitlines():
            if STEP_WORDS.match(line):
                raise FeatureUsageError(
                    f"{path}:{template.line_number}: scenario {name!r} has {line.strip()!r} in its description, "
                    "so it would never run; write it as a step (no colon after the keyword)"
                )
        if not any(step.type == "then" for step in template.steps):
            raise FeatureUsageError(
                f"{path}:{template.line_number}: scenario {name!r} has no Then step; "
                "a scenario without a Then proves nothing"
            )


class FeatureFile(pytest.Module):
    """A ``.feature`` file collected as a module of pytest-bdd scenario tests."""

    def _getobj(self) -> types.ModuleType:
        feature = load_feature(self.path)
        lint_feature(self.path, feature)
        tags = set(feature.tags).union(*(template.tags for template in feature.scenarios.values()))
        for tag in sorted(tags):
            # Gherkin tags become pytest markers: register them so --strict-markers and -m/--tags accept them.
            self.config.addinivalue_line("markers", f"{tag}: Gherkin tag from {self.path.name}")
        module = types.ModuleType(f"drdrill_feature_{make_python_name(str(self.path))}")
        module.__file__ = str(self.path)
        for scenario_name in feature.scenarios:

            @scenario(str(self.path), scenario_name, features_base_dir=str(self.path.parent))
            def _scenario() -> None:
                """Bound by drdrill's feature collector."""

            base = f"test_{make_python_name(scenario_name) or 'scenario'}"
            test_name, n = base, 1
            while hasattr(module, test_name):
                n += 1
                test_name = f"{base}_{n}"
            setattr(module, test_name, _scenario)
        return module

    def _register_setup_module_fixture(self) -> None:
        return

    def _register_setup_function_fixture(self) -> None:
        return


def template_of(item: pytest.Item) -> ScenarioTemplate | None:
    """The pytest-bdd scenario behind a test item, or ``None`` for an ordinary test."""
    function = getattr(item, "obj", None)
    if function is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(function)
    except TypeError:
        return None


def visible_step_contexts(session: pytest.Session, item: pytest.Item) -> list[Any]:
    """Every step definition visible to ``item`` (pytest-bdd registers step definitions as fixtures)."""
    manager = session._fixturemanager
    contexts = []
    for name in get_fixture_names(manager):
        if not name.startswith(STEPDEF_PREFIX):
            continue
        for definition in getfixturedefs(manager, name, item) or ():
            try:
                contexts.append(definition.func())
            except TypeError:
                continue
    return contexts


def _describe(context: Any) -> str:
    parser = context.parser
    text = getattr(parser, "name", str(parser))
    text = getattr(parser, "format", None) or getattr(parser, "regex", None) or text
    pattern = _readable(str(getattr(text, "pattern", text)))
    return f"{(context.type or 'step').capitalize()} {pattern}"


def _readable(pattern: str) -> str:
    """A step regex as a user would write it: ``(?P<count>-?\\d+) items? (?:is|are) deleted`` ->
    ``<count> item(s) is/are deleted``."""
    text = pattern.strip("^$")
    text = re.sub(r"\(\?P<(\w+)>[^()]*\)", r"<\1>", text)
    text = re.sub(r"\(\?:([^()]*)\)", lambda m: m.group(1).replace("|", "/"), text)
    text = re.sub(r"(\w)\?", r"(\1)", text)
    return text.replace("\\", "")


def unknown_steps(session: pytest.Session, items: list[pytest.Item]) -> list[str]:
    """One line per step text that no visible definition matches, with the nearest known steps."""
    problems: list[str] = []
    cache: dict[str, list[Any]] = {}
    seen: set[tuple[str, int]] = set()
    for item in items:
        template = template_of(item)
        if template is None:
            continue
        key = str(item.path.parent)
        contexts = cache.get(key)
        if contexts is None:
            contexts = cache[key] = visible_step_contexts(session, item)
        known = sorted({_describe(c) for c in contexts})
        for step in template.steps:
            if (str(item.path), step.line_number) in seen:
                continue
            if any(c.type in (step.type, None) and c.parser.is_matching(step.name) for c in contexts):
                continue
            if "<" in step.name and template.examples:
                continue  # an outline's placeholders are filled per example row
            seen.add((str(item.path), step.line_number))
            wanted = f"{step.type.capitalize()} {step.name}"
            nearest = difflib.get_close_matches(wanted, known, n=3, cutoff=0.3)
            hint = "; nearest known steps: " + " | ".join(nearest) if nearest else ""
            problems.append(f"{item.path}:{step.line_number}: unknown step {step.keyword} {step.name!r}{hint}")
    return problems
