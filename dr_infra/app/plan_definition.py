"""``drdrill plan`` for a stack definition: what the user's table, monitor, plan and selection make a drill create.

The same code provisioning uses fills the user's files in (:mod:`dr_infra.stack.user_stack`, the placeholders of
:mod:`dr_infra.stack.placeholders`), on a :class:`~dr_infra.stack.provision.Stack` that is never provisioned, so the
plan shows the documents a run would send. The stream ARN does not exist before the table does, so it is shown as
a placeholder.
"""

from __future__ import annotations

import json
from typing import Any

from dr_infra.stack import placeholders, user_stack
from dr_infra.stack.handles import Stack, placeholder_values
from dr_infra.stack.spec import StackSpec

STREAM_ARN_LATER = "<the table's stream ARN, known once the table exists>"


def _sample(stack: Stack) -> Stack:
    stack.stream_arn = stack.stream_arn or STREAM_ARN_LATER
    return stack


def adjust(resources: list[dict[str, Any]], spec: StackSpec, stack: Stack) -> list[dict[str, Any]]:
    """The seed stack's resource list, changed where the definition changes it (``resources`` is not modified)."""
    definition = spec.definition
    if definition is None:
        return resources
    stack = _sample(stack)
    out: list[dict[str, Any]] = []
    for resource in resources:
        kind, name = resource["kind"], resource.get("name")
        if kind == "dynamodb table" and name == stack.names.table:
            resource = {
                **resource,
                "settings": {
                    **spec.table.create_table_arguments(),
                    "TimeToLiveAttribute": spec.table.ttl_attribute,
                    "StreamViewType": resource["settings"]["StreamViewType"],
                    "PointInTimeRecovery": "enabled",
                },
                "definition": str(definition.path),
            }
        elif kind == "dynamodb table" and name == stack.names.ledger_table and spec.user_monitor:
            continue  # the incident ledger is drdrill's own monitor's
        elif kind == "dynamodb table (created by restores)" and spec.user_monitor:
            resource = {
                **resource,
                "name": "<named by the user's monitor>",
                "role": "restored copies; deleted by teardown when RestoreSummary.SourceTableArn is the drill's table",
            }
        elif kind == "backup plan" and definition.backup is not None:
            resource = {
                **resource,
                "settings": user_stack.plan_document(stack),
                "from": str(definition.backup.plan_file),
            }
        elif kind == "backup selection" and definition.backup is not None:
            resource = {
                **resource,
                "settings": user_stack.selection_document(stack),
                "from": str(definition.backup.selection_file),
            }
        elif spec.user_monitor and (
            kind == "eventbridge rule"
            or name in {stack.names.reprotect_function, stack.names.log_group(stack.names.reprotect_function)}
        ):
            continue  # re-protection is drdrill's own monitor's
        elif spec.user_monitor and kind == "lambda function" and name == stack.names.monitor_function:
            monitor = definition.monitor
            assert monitor is not None
            settings: dict[str, Any] = {
                "Runtime": monitor.runtime,
                "Handler": monitor.handler,
                "Role": resource["settings"]["Role"],
                "Timeout": monitor.timeout_seconds,
                "MemorySize": 256,
                "Code": str(monitor.source),
                "Environment": placeholders.fill(monitor.environment, placeholder_values(stack)),
                "log_pattern": monitor.log_pattern,
            }
            resource = {**resource, "role": "the user's change monitor", "settings": settings}
        out.append(resource)
    return out


def monitor_permissions(spec: StackSpec, stack: Stack, default: dict[str, Any]) -> dict[str, Any]:
    """The monitor role's inline policy: the definition's role_policy filled in, else drdrill's."""
    definition = spec.definition
    if definition is None or definition.monitor is None or definition.monitor.role_policy is None:
        return default
    filled: dict[str, Any] = json.loads(
        json.dumps(placeholders.fill(definition.monitor.role_policy, placeholder_values(_sample(stack))))
    )
    return filled


def scenario_definition(feature_file: str, steps: tuple[tuple[str, str], ...]) -> str | None:
    """The definition file a scenario's ``... as defined in "FILE"`` step names (resolved), else ``None``."""
    from dr_infra.bdd.definitions import STEP, resolve

    for kind, text in steps:
        found = STEP.match(text.strip()) if kind == "given" else None
        if found:
            return str(resolve(feature_file, found.group("path")).resolve())
    return None


def referenced(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every definition the plan's scenarios name, loaded and validated (a bad one is one line, exit 2), described."""
    from dr_infra.bdd.definitions import run_definition

    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        path = row.get("stack_definition")
        if path and path not in found:
            definition = run_definition(path)
            assert definition is not None
            found[path] = definition.describe()
    return found
