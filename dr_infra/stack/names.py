"""Run ids and resource names: unique per run so parallel drills never collide, and traceable by tag.

Every name starts with ``drdrill-<run id>``; the run id starts with the UTC start time so the janitor can
tell a run's age from its names and tags alone. Names respect each service's limits: IAM role and Lambda
function names are at most 64 characters, backup vault, plan and selection names at most 50.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from dr_infra.errors import ConfigError

TAG_RUN_ID = "drdrill:run-id"
TAG_MANAGED = "drdrill:managed"
TAG_CREATED_AT = "drdrill:created-at"
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
LOGICAL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,24}$")


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYmmddtHHMMSS-xxxx``: sortable by start time, unique by its random suffix."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dt%H%M%S}-{secrets.token_hex(2)}"


def run_started_at(run_id: str) -> datetime | None:
    """The start time encoded in a run id, or ``None`` for a run id drdrill did not make."""
    try:
        return datetime.strptime(run_id[:15], "%Y%m%dt%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def check_logical_table_name(name: str) -> str:
    """A scenario's table name becomes part of real table names, so DynamoDB's rules apply to it."""
    if not LOGICAL_NAME.match(name):
        raise ConfigError(
            f"table name {name!r} is not valid: use 1-24 characters of a-z, A-Z, 0-9, '_', '-', '.' "
            "(DynamoDB table-name rules; drdrill adds a run prefix)"
        )
    return name


@dataclass(frozen=True)
class StackNames:
    """Names of every resource of one DR stack."""

    run_id: str
    stack_no: int
    logical_table: str

    @property
    def prefix(self) -> str:
        return f"drdrill-{self.run_id}-{self.stack_no}"

    @property
    def table(self) -> str:
        return f"{self.prefix}-{self.logical_table}"

    @property
    def ledger_table(self) -> str:
        return f"{self.prefix}-ledger"

    @property
    def vault(self) -> str:
        return f"{self.prefix}-vault"

    @property
    def plan(self) -> str:
        return f"{self.prefix}-plan"

    @property
    def selection(self) -> str:
        return f"{self.prefix}-selection"

    @property
    def backup_role(self) -> str:
        return f"{self.prefix}-backup"

    @property
    def monitor_role(self) -> str:
        return f"{self.prefix}-monitor"

    @property
    def monitor_function(self) -> str:
        return f"{self.prefix}-monitor"

    @property
    def reprotect_function(self) -> str:
        return f"{self.prefix}-reprotect"

    @property
    def restore_rule(self) -> str:
        return f"{self.prefix}-restored"

    def log_group(self, function: str) -> str:
        return f"/aws/lambda/{function}"

    def tags(self) -> dict[str, str]:
        """The tags every taggable resource of the run carries."""
        return {TAG_RUN_ID: self.run_id, TAG_MANAGED: "true"}
