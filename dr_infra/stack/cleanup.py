"""LIFO cleanups that never swallow a failure: one failed deletion is recorded and the rest still run.

Modelled on LocalStack's ``cleanups`` fixture, minus its silence: every failure lands in the journal, so a
leak is visible in the report instead of in next month's bill.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

NOT_FOUND_CODES = frozenset(
    {"ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException", "NotFoundException", "404"}
)


@dataclass
class Cleanups:
    """A stack of ``(description, callable)`` run in reverse order of registration."""

    _actions: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def add(self, description: str, action: Callable[[], object]) -> None:
        """Register ``action`` to undo something just created."""
        self._actions.append((description, action))

    def run(self) -> list[str]:
        """Run every action, newest first; returns (and keeps) the failures as readable lines."""
        while self._actions:
            description, action = self._actions.pop()
            try:
                action()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in NOT_FOUND_CODES:
                    self.done.append(f"{description} (already gone)")
                    continue
                self.failed.append(f"{description}: {code}: {exc.response.get('Error', {}).get('Message', '')}")
                log.warning("cleanup failed: %s", self.failed[-1])
            except Exception as exc:
                self.failed.append(f"{description}: {type(exc).__name__}: {exc}")
                log.warning("cleanup failed: %s", self.failed[-1])
            else:
                self.done.append(description)
        return list(self.failed)

    def __len__(self) -> int:
        return len(self._actions)
