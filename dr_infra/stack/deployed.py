"""The ``[deployed]`` section of a stack definition: a stack that exists, drilled in place (never provisioned).

The keys are a contract (issue 18)::

    [deployed]
    table = "orders"                          # required: the deployed table's name
    function = "disaster-recovery-function"   # optional: the deployed change monitor
    vault = "DynamoDRVault"                   # optional
    plan = "DynamoDRPlan"                     # optional: the backup plan's name
    drill_key_prefix = "drdrill-"             # optional: drdrill's own items have hash keys starting with this

What is left out is found from the account (:mod:`dr_infra.stack.deployed_discovery`): the function mapped to the
table's stream, the plan whose selection covers the table, the vault the plan's rules write to. A ``[deployed]``
definition describes what exists, so it cannot also carry ``[table]``, ``[monitor]`` or ``[backup]`` (what a drill
would create); ``[items]`` (sample and count of drdrill's own items) stays allowed. ``--stack-from
cloudformation:NAME`` makes the same definition from a CloudFormation stack's resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr_infra.errors import ConfigError
from dr_infra.stack.definition_check import Checker

DEFAULT_KEY_PREFIX = "drdrill-"
CREATES = ("table", "monitor", "backup")
"""Sections that describe resources a drill creates: meaningless for a stack that is already deployed."""
CLOUDFORMATION = "cloudformation:"


@dataclass(frozen=True)
class DeployedDefinition:
    """The parts of a deployed stack a definition names (``None``: found from the account)."""

    table: str | None
    function: str | None = None
    vault: str | None = None
    plan: str | None = None
    drill_key_prefix: str = DEFAULT_KEY_PREFIX
    cloudformation_stack: str | None = None
    """``--stack-from cloudformation:NAME``: the parts are read from this stack's resources."""

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "function": self.function,
            "vault": self.vault,
            "plan": self.plan,
            "drill_key_prefix": self.drill_key_prefix,
            "cloudformation_stack": self.cloudformation_stack,
        }


def deployed_section(check: Checker, document: dict[str, Any]) -> DeployedDefinition | None:
    """The validated ``[deployed]`` section (the schema checked each key's form), or ``None`` without one."""
    raw = document.get("deployed")
    if raw is None:
        return None
    for section in CREATES:
        if section in document:
            raise check.fail(
                section,
                "a [deployed] stack exists already, so there is nothing to create from this section",
                f"remove [{section}]: drdrill reads the deployed table, monitor and plan from the account",
            )
    return DeployedDefinition(
        table=str(raw["table"]),
        function=raw.get("function"),
        vault=raw.get("vault"),
        plan=raw.get("plan"),
        drill_key_prefix=str(raw.get("drill_key_prefix", DEFAULT_KEY_PREFIX)),
    )


def parse_stack_from(value: str) -> str:
    """``cloudformation:STACK_NAME`` -> STACK_NAME; anything else is one line naming the form (exit 2)."""
    if not value.startswith(CLOUDFORMATION) or not value[len(CLOUDFORMATION) :].strip():
        raise ConfigError(
            f"--stack-from {value!r}: write cloudformation:STACK_NAME (the deployed stack's CloudFormation name)"
        )
    name = value[len(CLOUDFORMATION) :].strip()
    if not all(c.isalnum() or c == "-" for c in name) or not name[0].isalpha() or len(name) > 128:
        raise ConfigError(
            f"--stack-from {value!r}: {name!r} is not a CloudFormation stack name "
            "(up to 128 letters, digits and '-', starting with a letter)"
        )
    return name
