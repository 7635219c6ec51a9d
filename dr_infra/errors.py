"""drdrill's error types and the exit codes they map to.

Exit codes are a public contract of ``drdrill run`` (scripts and CI rely on them):
0 every guarantee met, 1 a guarantee violated, 2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class DrDrillError(Exception):
    """Base class: every drdrill error has a one-line message that says what is wrong and how to fix it."""

    exit_code = EXIT_USAGE


class ConfigError(DrDrillError):
    """Bad input from the user: an option, a policy file, an environment variable, a feature file."""


class TargetUnavailable(ConfigError):
    """The chosen target cannot be reached or used (unreachable endpoint, missing credentials)."""


class AccountNotAllowed(ConfigError):
    """The aws target refused an account that is not explicitly allowed."""


class UnsafeOperation(DrDrillError):
    """A destructive step aimed at a resource drdrill did not create (no drdrill tags)."""


class WaitTimeout(DrDrillError):
    """A wait gave up; the message names the phase that stalled and the last state seen."""

    exit_code = EXIT_VIOLATED

    def __init__(self, phase: str, last_state: str, waited: float) -> None:
        super().__init__(f"{phase} did not finish within {waited:.1f} s (last state seen: {last_state})")
        self.phase = phase
        self.last_state = last_state
        self.waited = waited


class RestoreFailed(DrDrillError):
    """A restore job ended FAILED or ABORTED; the message quotes its StatusMessage."""

    exit_code = EXIT_VIOLATED
