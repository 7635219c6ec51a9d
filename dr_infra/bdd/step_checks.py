"""Step argument checks: the limits a step enforces, declared once and checked before any scenario runs.

Why: a step such as ``When 0 items are deleted`` used to be found wrong only when it ran, after its stack had
been provisioned (and on AWS, paid for). A step function declares its checks with :func:`checks`; collection
(:func:`argument_problems`, called for every matched step of every selected scenario) and ``drdrill plan`` run
the same checks on the Gherkin text, and the step runs them again on its arguments, so the three never differ.
A check is a callable taking the argument's text and raising :class:`~dr_infra.errors.ConfigError` with a
one-line message naming the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dr_infra.errors import ConfigError

Check = Callable[[str], object]
F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__drdrill_checks__"


def checks(**by_argument: Check) -> Callable[[F], F]:
    """Declare the checks of a step function's arguments (``@checks(count=harm_count)``)."""

    def mark(func: F) -> F:
        setattr(func, ATTRIBUTE, {**getattr(func, ATTRIBUTE, {}), **by_argument})
        return func

    return mark


def declared(step_func: Any) -> dict[str, Check]:
    return dict(getattr(step_func, ATTRIBUTE, {}) or {})


def argument_problems(where: str, keyword: str, text: str, context: Any) -> list[str]:
    """One line per argument of ``text`` (matched by the step definition ``context``) that its checks refuse."""
    rules = declared(getattr(context, "step_func", None))
    if not rules:
        return []
    try:
        arguments = context.parser.parse_arguments(text) or {}
    except Exception:
        return []
    problems = []
    for name, check in rules.items():
        value = arguments.get(name)
        if value is None or "<" in str(value):
            continue  # absent, or an outline placeholder filled per example row
        try:
            check(str(value))
        except ConfigError as exc:
            problems.append(f"{where}: {keyword} {text!r}: {exc}")
    return problems
