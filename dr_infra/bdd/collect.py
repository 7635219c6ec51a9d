"""Collect ``.feature`` files directly, and refuse the Gherkin mistakes pytest-bdd would let pass.

Users run their own feature files with ``drdrill run path/`` (or plain pytest) without writing binder
modules: each feature file becomes a synthetic test module whose tests are pytest-bdd scenarios.

Guarded pitfalls (each a usage error with one line that names the file and line):

* a scenario without a Then step (pytest-bdd would pass it: it proves nothing);
* a Gherkin step line folded into a description (e.g. ``Then: x`` or a step before the first Scenario):
  pytest-bdd treats it as prose and the scenario passes without it;
* a step whose keyword is mistyped (``Gven a DR-protected table ...``) or missing, or a mistyped block keyword
  (``Scenaro:``): Gherkin reads such a line as description prose, so the step would silently never run;
* a step text no step definition matches (the nearest known steps are suggested);
* malformed Gherkin (the parser's complaint, with the line and what it expected, in one line).
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gherkin.errors import CompositeParserException
from gherkin.parser import Parser
from pytest_bdd import scenario

from dr_infra.bdd.bdd_internals import (
    Feature,
    GherkinParseError,
    ScenarioTemplate,
    fixture_manager,
    get_feature,
    get_fixture_names,
    getfixturedefs,
    make_python_name,
    scenario_wrapper_template_registry,
)
from dr_infra.bdd.step_checks import argument_problems

STEP_WORDS = re.compile(r"^\s*(Given|When|Then|And|But)\b")
STEP_KEYWORDS = ("Given", "When", "Then", "And", "But")
PROSE_WORDS = frozenset(
    {"the", "ten", "an", "any", "give", "gives", "hen", "them", "than", "thin", "then", "when", "and", "but"}
    | {"given", "end", "bet", "bit", "wen", "band", "hand", "land", "sand", "bout", "bust", "about", "even"}
    | {"seven", "driven"}
)
"""English words within a typo of a step keyword: a description line starting with one is prose unless the
rest of the line is exactly a known step."""
BLOCK_KEYWORDS = ("Feature", "Rule", "Background", "Scenario", "Scenario Outline", "Scenario Template", "Examples")
STEPDEF_PREFIX = "pytestbdd_stepdef_"


class FeatureUsageError(Exception):
    """A mistake in a feature file: reported as a usage error (exit code 2), never as a pass or a fail."""


def load_feature(path: Path) -> Feature:
    """Parse ``path``; malformed Gherkin becomes a one-line :class:`FeatureUsageError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FeatureUsageError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise FeatureUsageError(f"{path}: cannot read the feature file: {exc.strerror or exc}") from None
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        raise FeatureUsageError(f"{path}: empty feature file (no Feature: line); start it with 'Feature: <name>'")
    try:
        return get_feature(str(path.parent), path.name)
    except GherkinParseError as exc:
        raise FeatureUsageError(_parse_error(path, exc)) from None
    except KeyError:  # pytest-bdd's KeyError 'feature': a document with no Feature line
        raise FeatureUsageError(f"{path}: no Feature: line; start the file with 'Feature: <name>'") from None
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise FeatureUsageError(f"{path}: malformed Gherkin: {message}") from None


_TOKENS = {
    "#StepLine": "a step (Given/When/Then/And/But)",
    "#ScenarioLine": "Scenario:",
    "#ExamplesLine": "Examples:",
    "#BackgroundLine": "Background:",
    "#RuleLine": "Rule:",
    "#FeatureLine": "Feature:",
    "#TagLine": "a tag (@name)",
    "#TableRow": "a table row (| a | b |)",
    "#DocStringSeparator": 'a doc string delimiter (""")',
    "#EOF": "the end of the file",
    "#Other": "text",
}
_PARSER_COMPLAINT = re.compile(r"^\((\d+):\d+\):\s*(.*)$")
_EXPECTED_GOT = re.compile(r"^(?:(unexpected end of file), )?expected: (.*?)(?:, got '(.*)')?$")


def _parse_error(path: Path, exc: GherkinParseError) -> str:
    """One line from the Gherkin parser's own complaint: ``file:line: malformed Gherkin: ...``."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None) if isinstance(cause, CompositeParserException) else None
    raw = str(errors[0]) if errors else str(exc.message).removeprefix("Unknown parsing error: ")
    raw = raw.strip().removeprefix("Parser errors:").strip().splitlines()[0] if raw.strip() else ""
    line: int | None = exc.line
    match = _PARSER_COMPLAINT.match(raw)
    if match:
        line, raw = int(match.group(1)) or line, match.group(2)
    where = f"{path}:{line}" if line else str(path)
    expected = _EXPECTED_GOT.match(raw)
    if expected is None:
        return f"{where}: malformed Gherkin: {raw or exc.message}"
    listed = {t.strip() for t in expected.group(2).split(",")}
    tokens = [text for name, text in _TOKENS.items() if name in listed and (name != "#EOF" or len(listed) == 1)]
    wanted = ", ".join(tokens[:-1]) + f" or {tokens[-1]}" if len(tokens) > 1 else "".join(tokens)
    got = expected.group(3)
    found = "the file ends too early" if expected.group(1) or got is None else f"found {got.strip()!r}"
    message = f"{where}: malformed Gherkin: {found}, expected {wanted or expected.group(2)}"
    hint = _keyword_hint(got or "")
    return message + (f"; {hint}" if hint else "")


def _keyword_hint(text: str) -> str:
    if re.match(r"^(Given|When|Then|And|But)\s*:", text, re.IGNORECASE):
        return "write steps without a colon after the keyword"
    word = text.split(" ", 1)[0].rstrip(":") if text.strip() else ""
    keyword = _near_keyword(word, STEP_KEYWORDS) or _near_keyword(word, BLOCK_KEYWORDS)
    if keyword:
        return f"{word!r} is not a Gherkin keyword: did you mean {keyword!r}?"
    return ""


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


def _near_keyword(word: str, keywords: tuple[str, ...], cutoff: float = 0.75) -> str | None:
    """The Gherkin keyword ``word`` looks like a typo of (edit distance via difflib), or ``None``."""
    if not word or word in keywords:
        return None
    titled = word[:1].upper() + word[1:].lower()
    close = difflib.get_close_matches(titled, keywords, n=1, cutoff=cutoff)
    if not close or titled == close[0] + "s":  # "Rules: ..." in prose is a plural, not a typo
        return None
    return close[0]


def _shape(text: str) -> str:
    """A step text or a readable step pattern reduced to its words: values and placeholders become ``_``."""
    text = text.lower()
    text = re.sub(r'"[^"]*"', '"_"', text)
    text = re.sub(r"<\w+>|\{[^}]*\}|-?\d+", "_", text)
    text = re.sub(r"\((\w+)\)", r"\1", text)
    return " ".join(text.split())


def _description_lines(path: Path) -> list[tuple[int, str, str]]:
    """``(line number, text, where)`` of every non-blank description line in ``path`` (feature, rule,
    background, scenario and examples descriptions: the lines Gherkin keeps as prose and never runs)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        document = Parser().parse("\n".join(lines) + "\n")
    except (OSError, UnicodeDecodeError, CompositeParserException):
        return []
    feature: dict[str, Any] = dict(document.get("feature") or {})  # the AST as plain dicts
    found: list[tuple[int, str, str]] = []
    for node, where in _described_nodes(feature):
        found += _located(lines, node, where)
    return found


def _described_nodes(feature: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """The feature and every rule, background, scenario and examples under it, with how a message names it."""
    yield feature, "the feature description"
    yield from _described_children(feature)


def _described_children(node: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    for child in node.get("children", []):
        if "rule" in child:
            yield child["rule"], f"the description of rule {child['rule'].get('name', '')!r}"
            yield from _described_children(child["rule"])
        elif "background" in child:
            yield child["background"], "the Background description"
        elif "scenario" in child:
            scenario = child["scenario"]
            yield scenario, f"the description of scenario {scenario.get('name', '')!r}"
            for examples in scenario.get("examples", []):
                yield examples, f"the Examples description of scenario {scenario.get('name', '')!r}"


def _located(lines: list[str], node: dict[str, Any], where: str) -> list[tuple[int, str, str]]:
    """Each non-blank line of ``node``'s description with its line number: the first match after its keyword."""
    found: list[tuple[int, str, str]] = []
    cursor = int(node.get("location", {}).get("line", 0))  # the keyword line, 1-based
    for text in str(node.get("description") or "").splitlines():
        if not text.strip():
            continue
        for index in range(cursor, len(lines)):
            if lines[index].strip() == text.strip():
                found.append((index + 1, text.strip(), where))
                cursor = index + 1
                break
    return found


def hidden_steps(path: Path, contexts: list[Any]) -> list[str]:
    """One line per description line of ``path`` that is really a step (its keyword mistyped or missing)
    or a mistyped ``Scenario:``-like keyword. Gherkin keeps such lines as prose, so they would never run.

    Prose stays prose: a line is reported only if, after its first word, it reads as a known step (exactly,
    or close to one when that first word is itself close to a step keyword), if the whole line is exactly a
    known step, or if it starts with a near-miss of a block keyword followed by a colon.
    """

    def matches(text: str) -> bool:
        return any(c.parser.is_matching(text) for c in contexts)

    shapes = sorted({_shape(_readable_pattern(c)) for c in contexts})
    problems = []
    for number, text, where in _description_lines(path):
        if STEP_WORDS.match(text):
            continue  # reported by lint_feature at collection
        first, _, rest = text.partition(" ")
        rest = rest.strip()
        word = first.rstrip(":")
        step_keyword = _near_keyword(word, STEP_KEYWORDS, cutoff=0.6)
        head = text.split(":", 1)[0] if ":" in text else ""
        block_keyword = _near_keyword(head, BLOCK_KEYWORDS, cutoff=0.8) if 0 < len(head) <= 20 else None
        fix = ""
        if block_keyword:
            fix = f"{head!r} is not a Gherkin keyword: write {block_keyword + ':'!r}"
        elif matches(text):
            fix = "it is a step without its keyword: start it with Given, When, Then, And or But"
        elif step_keyword and rest and matches(rest):
            fix = f"{word!r} is not a Gherkin keyword: write {step_keyword + ' ' + rest!r}"
        elif (
            step_keyword
            and rest
            and word.lower() not in PROSE_WORDS
            and difflib.SequenceMatcher(None, word.lower(), step_keyword.lower()).ratio() >= 0.75
            and difflib.get_close_matches(_shape(rest), shapes, n=1, cutoff=0.8)
        ):
            fix = f"{word!r} is not a Gherkin keyword: did you mean {step_keyword!r}?"
        if fix:
            problems.append(f"{path}:{number}: {text!r} is read as prose in {where}, so it would never run; {fix}")
    return problems


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
    manager = fixture_manager(session)
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


def _readable_pattern(context: Any) -> str:
    parser = context.parser
    text = getattr(parser, "name", str(parser))
    text = getattr(parser, "format", None) or getattr(parser, "regex", None) or text
    return _readable(str(getattr(text, "pattern", text)))


def _describe(context: Any) -> str:
    return f"{(context.type or 'step').capitalize()} {_readable_pattern(context)}"


def _readable(pattern: str) -> str:
    """A step regex as a user would write it: ``(?P<count>-?\\d+) items? (?:is|are) deleted`` ->
    ``<count> item(s) is/are deleted``."""
    text = pattern.strip("^$")
    text = re.sub(r"\(\?P<(\w+)>[^()]*\)", r"<\1>", text)
    text = re.sub(r"\(\?:([^()]*)\)", lambda m: m.group(1).replace("|", "/"), text)
    text = re.sub(r"(\w)\?", r"(\1)", text)
    return text.replace("\\", "")


def unknown_steps(session: pytest.Session, items: list[pytest.Item]) -> list[str]:
    """One line per step text that no visible definition matches, with the nearest known steps, per step
    hidden in a description (:func:`hidden_steps`), and per step argument its checks refuse
    (:mod:`dr_infra.bdd.step_checks`)."""
    problems: list[str] = []
    cache: dict[str, list[Any]] = {}
    seen: set[tuple[str, int]] = set()
    linted: set[str] = set()
    for item in items:
        template = template_of(item)
        if template is None:
            continue
        key = str(item.path.parent)
        contexts = cache.get(key)
        if contexts is None:
            contexts = cache[key] = visible_step_contexts(session, item)
        if str(item.path) not in linted:
            linted.add(str(item.path))
            problems.extend(hidden_steps(Path(str(item.path)), contexts))
        known = sorted({_describe(c) for c in contexts})
        for step in template.steps:
            if (str(item.path), step.line_number) in seen:
                continue
            matched = next(
                (c for c in contexts if c.type in (step.type, None) and c.parser.is_matching(step.name)), None
            )
            if matched is not None:
                seen.add((str(item.path), step.line_number))
                where = f"{item.path}:{step.line_number}"
                problems.extend(argument_problems(where, step.keyword, step.name, matched))
                continue
            if "<" in step.name and template.examples:
                continue  # an outline's placeholders are filled per example row
            seen.add((str(item.path), step.line_number))
            wanted = f"{step.type.capitalize()} {step.name}"
            nearest = difflib.get_close_matches(wanted, known, n=3, cutoff=0.3)
            hint = "; nearest known steps: " + " | ".join(nearest) if nearest else ""
            problems.append(f"{item.path}:{step.line_number}: unknown step {step.keyword} {step.name!r}{hint}")
    return problems
