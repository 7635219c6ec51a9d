"""``drdrill plan --stack FILE`` (a ``[deployed]`` definition) or ``--stack-from cloudformation:NAME``: what a drill of
the deployed stack would touch, and how, before it touches anything.

Like every plan it calls nothing: the parts the definition leaves out are named by how the run will find them. A
drill of a deployed stack creates no resource; it reads the parts, writes only its own items, takes on-demand
recovery points when a scenario asks for one, and causes the user's recovery to restore (see
:mod:`dr_infra.drill.deployed_items` and :mod:`dr_infra.stack.deployed_stack`).
"""

from __future__ import annotations

from typing import Any

from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID


def touches(definition: StackDefinition, run_id: str, cleanup_restored: bool) -> dict[str, Any]:
    """The JSON ``deployed`` block of the plan: the parts, then every read, write and clean-up a run makes."""
    deployed = definition.deployed
    assert deployed is not None
    source = (
        f"the resources of CloudFormation stack {deployed.cloudformation_stack} (ListStackResources)"
        if deployed.cloudformation_stack
        else str(definition.path)
    )
    table = deployed.table or "<the stack's AWS::DynamoDB::Table>"
    function = deployed.function or "<the function of the event source mapping on the table's stream>"
    plan = deployed.plan or "<the backup plan whose selection covers the table>"
    vault = deployed.vault or "<the vault the plan's rules write to>"
    prefix = f"{deployed.drill_key_prefix}{run_id}-<n>-"
    restored = (
        "deleted at the end (--cleanup-restored)"
        if cleanup_restored
        else "left in place and listed in the journal (add --cleanup-restored to delete them)"
    )
    return {
        "source": source,
        "parts": {"table": table, "function": function, "plan": plan, "vault": vault},
        "drill_key_prefix": prefix,
        "creates": [],
        "reads": [
            f"table {table}: DescribeTable, DescribeContinuousBackups, DescribeTimeToLive, Scan (equivalence)",
            f"event source mappings on its stream; function {function}: GetFunctionConfiguration",
            "the function's role: its inline and attached policies (IAM's policy simulator on aws)",
            f"backup plan {plan}: ListBackupPlans, GetBackupPlan, its selections; vault {vault}",
            f"the function's log group /aws/lambda/{function}, restore jobs and tables restored from the table",
        ],
        "writes": [
            f"items of {table} whose hash key starts with {prefix} only: seeded, harmed by the When steps, "
            "deleted at the end (DeleteItem with a begins_with condition, so nothing else can be deleted)",
            f"on-demand backup jobs of {table} into {vault} when a scenario asks for a recovery point (tagged "
            f"{TAG_RUN_ID}={run_id}, {TAG_MANAGED}=true; deleted at the end)",
            f"tables the deployed monitor restores from {table} in response (also to the clean-up's deletes): "
            f"{restored}; their restore jobs stay in AWS Backup's job history (no API deletes them)",
        ],
        "never": [
            f"DeleteTable or UpdateTable of {table}, or a write to an item without the prefix",
            "any change to the function, its mapping, its role, the backup plan, selection or vault",
            "fault switches, 'the change monitor's event source mapping is disabled' and table loss (refused)",
        ],
    }


def lines(block: dict[str, Any]) -> list[str]:
    """The block as the text plan prints it."""
    return [
        f"Deployed stack, drilled in place (from {block['source']}): nothing is created",
        *(f"  {kind}: {name}" for kind, name in block["parts"].items()),
        f"  drdrill's items: hash key {block['drill_key_prefix']}*",
        "  reads:",
        *(f"    - {line}" for line in block["reads"]),
        "  writes:",
        *(f"    - {line}" for line in block["writes"]),
        "  never:",
        *(f"    - {line}" for line in block["never"]),
    ]
