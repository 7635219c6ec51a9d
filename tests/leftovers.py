"""What a drill left behind on an endpoint: every resource kind a DR stack creates, found by name prefix.

Shared by the integration tests (an in-process target) and the contract tests (a loopback endpoint), so
"nothing left behind" means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def leftovers(client: Callable[[str], Any], prefix: str, plan_ids: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Resources whose names start with ``prefix``, by kind (every kind listed, empty when clean)."""
    found: dict[str, list[str]] = {}
    tables = [n for p in client("dynamodb").get_paginator("list_tables").paginate() for n in p["TableNames"]]
    found["tables"] = [n for n in tables if n.startswith(prefix)]
    roles = [r["RoleName"] for p in client("iam").get_paginator("list_roles").paginate() for r in p["Roles"]]
    found["roles"] = [n for n in roles if n.startswith(prefix)]
    functions = [
        f["FunctionName"] for p in client("lambda").get_paginator("list_functions").paginate() for f in p["Functions"]
    ]
    found["functions"] = [n for n in functions if n.startswith(prefix)]
    mappings = client("lambda").list_event_source_mappings()["EventSourceMappings"]
    found["mappings"] = [m["UUID"] for m in mappings if f":function:{prefix}" in m.get("FunctionArn", "")]
    vaults = client("backup").list_backup_vaults()["BackupVaultList"]
    found["vaults"] = [v["BackupVaultName"] for v in vaults if v["BackupVaultName"].startswith(prefix)]
    plans = client("backup").list_backup_plans()["BackupPlansList"]
    found["plans"] = [p["BackupPlanName"] for p in plans if p["BackupPlanName"].startswith(prefix)]
    found["selections"] = []
    for plan_id in plan_ids:
        try:
            selections = client("backup").list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
        except client("backup").exceptions.ResourceNotFoundException:
            continue
        found["selections"] += [s["SelectionName"] for s in selections]
    groups = client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]
    found["log_groups"] = [g["logGroupName"] for g in groups]
    found["rules"] = [r["Name"] for r in client("events").list_rules(NamePrefix=prefix)["Rules"]]
    return found
