"""Which stack definition a scenario drills: the step's own file (relative to the feature file) or the run's.

Definitions named by steps are loaded and validated at collection, with the rest of the feature lint, so a bad
file stops the run (one line, exit 2) before any stack is created; each file is loaded once per run.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from dr_infra.bdd.collect import template_of
from dr_infra.errors import ConfigError
from dr_infra.stack.definition import StackDefinition, from_cloudformation, load_definition

STEP = re.compile(
    r'^(?:a DR-protected table "[^"]*" (?:with -?\d+ items? )?'
    r'|the deployed table "[^"]*"(?: with -?\d+ items?)? )as defined in "(?P<path>[^"]*)"$'
)
STACK_ENV = "DRDRILL_STACK"


@cache
def _load(path: Path) -> StackDefinition:
    return load_definition(path)


def resolve(feature_file: str | Path, path: str) -> Path:
    """``path`` as a step writes it: relative to the feature file's folder (absolute paths stay)."""
    given = Path(path)
    return given if given.is_absolute() else Path(feature_file).resolve().parent / given


def definition_for(feature_file: str | Path, path: str) -> StackDefinition:
    if not path.strip():
        raise ConfigError(f"{feature_file}: 'as defined in \"\"' names no stack definition file")
    return _load(resolve(feature_file, path).resolve())


def run_definition(path: str | None, stack_from: str | None = None) -> StackDefinition | None:
    """The run's definition (``--dr-stack`` / ``DRDRILL_STACK`` / ``drdrill run --stack``), relative to the cwd, or
    a deployed stack read from CloudFormation (``--dr-stack-from`` / ``DRDRILL_STACK_FROM``); not both."""
    if path and stack_from:
        raise ConfigError(
            f"--stack {path} and --stack-from {stack_from} both name the stack: give one (a [deployed] definition "
            "or cloudformation:STACK_NAME)"
        )
    if stack_from:
        return from_cloudformation(stack_from)
    return _load(Path(path).resolve()) if path else None


def scenario_definition(
    feature_file: str | Path, steps: list[tuple[str, str]], run: StackDefinition | None
) -> StackDefinition | None:
    """The definition a scenario drills: the one its ``... as defined in "FILE"`` step names, else the run's."""
    for _, text in steps:
        found = STEP.match(text.strip())
        if found:
            return definition_for(feature_file, found.group("path"))
    return run


def check_referenced(items: list[pytest.Item]) -> list[str]:
    """One line per definition file a selected scenario names that does not load (missing, invalid)."""
    problems: list[str] = []
    for item in items:
        template = template_of(item)
        if template is None:
            continue
        for step in template.steps:
            found = STEP.match(step.name.strip())
            if not found:
                continue
            try:
                definition_for(str(item.path), found.group("path"))
            except ConfigError as exc:
                line = f"{item.path}:{step.line_number}: {exc}"
                if line not in problems:
                    problems.append(line)
    return problems
