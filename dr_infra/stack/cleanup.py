"""LIFO cleanups that never swallow a failure: one failed deletion is recorded and the rest still run.

Modelled on LocalStack's ``cleanups`` fixture, minus its silence: every failure lands in the journal, so a
leak is visible in the report instead of in next month's bill.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from dr_infra.interrupts import TeardownAbandoned, shielded

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
        """Run every action, newest first; returns (and keeps) the failures as readable lines.

        Shielded from a first Ctrl-C (:mod:`dr_infra.interrupts`); when the operator abandons it, the action
        under way and every one not yet run stay registered (:meth:`pending`) for whoever reports the leak.
        """
        with shielded("tearing down the stack"):
            return self._run()

    def pending(self) -> list[str]:
        """What is still registered and not yet deleted, newest first."""
        return [description for description, _ in reversed(self._actions)]

    def _run(self) -> list[str]:
        while self._actions:
            description, action = self._actions[-1]
            try:
                action()
            except TeardownAbandoned:
                raise  # left registered: pending() names it
            except ClientError as exc:
                self._actions.pop()
                code = exc.response.get("Error", {}).get("Code", "")
                if code in NOT_FOUND_CODES:
                    self.done.append(f"{description} (already gone)")
                    continue
                self.failed.append(f"{description}: {code}: {exc.response.get('Error', {}).get('Message', '')}")
                log.warning("cleanup failed: %s", self.failed[-1])
            except Exception as exc:
                self._actions.pop()
                self.failed.append(f"{description}: {type(exc).__name__}: {exc}")
                log.warning("cleanup failed: %s", self.failed[-1])
            else:
                self._actions.pop()
                self.done.append(description)
        return list(self.failed)

    def __len__(self) -> int:
        return len(self._actions)
