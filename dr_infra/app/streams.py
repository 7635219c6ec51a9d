"""The stand-ins for stdout and stderr while ``drdrill run`` runs pytest: a usage error is one drdrill line."""

from __future__ import annotations

import io
from typing import TextIO

__all__ = ["HeldStdout", "PytestErrorFilter"]


class PytestErrorFilter(io.TextIOBase):
    """Stands in for stderr during ``pytest.main``: passes everything through live except pytest's own
    ``ERROR: <usage error>`` block, which drdrill reports as one ``drdrill:`` line instead."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.usage_errors: list[str] = []
        self._swallow_newline = False

    def write(self, text: str) -> int:
        if text.startswith("ERROR: "):
            lines = text.removeprefix("ERROR: ").splitlines()
            self.usage_errors.extend(line for line in lines if line.strip())
            self._swallow_newline = True
            return len(text)
        if self._swallow_newline and not text.strip():
            return len(text)
        self._swallow_newline = False
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()


class HeldStdout(io.TextIOBase):
    """Stands in for stdout during ``pytest.main``: holds pytest's output until the first scenario starts, so
    a usage error found before any scenario runs is drdrill's one stderr line, not a pytest session on stdout.
    Once a scenario starts, everything held is written and the rest passes through live."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.held: list[str] | None = []

    def write(self, text: str) -> int:
        if self.held is not None:
            self.held.append(text)
            return len(text)
        return self.real.write(text)

    def release(self) -> None:
        held, self.held = self.held, None
        if held:
            self.real.write("".join(held))
            self.real.flush()

    def discard(self) -> None:
        if self.held is not None:
            self.held = []

    def flush(self) -> None:
        if self.held is None:
            self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()
