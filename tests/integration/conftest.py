"""One embedded target for the integration tests, and a lister of everything a stack could leave behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedTarget]:
    target = EmbeddedTarget()
    target.start()
    yield target
    target.stop()


def leftovers(target: Any, prefix: str, plan_ids: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every resource whose name starts with ``prefix``, by kind (empty lists when clean)."""
    c = target.client
    found: dict[str, list[str]] = {}
    tables = [n for p in c("dynamodb").get_paginator("list_tables").paginate() for n in p["TableNames"]]
    found["tables"] = [n for n in tables if n.startswith(prefix)]
    roles = [r["RoleName"] for p in c("iam").get_paginator("list_roles").paginate() for r in p["Roles"]]
    found["roles"] = [n for n in roles if n.startswith(prefix)]
    functions = [
        f["FunctionName"] for p in c("lambda").get_paginator("list_functions").paginate() for f in p["Functions"]
    ]
    found["functions"] = [n for n in functions if n.startswith(prefix)]
    mappings = c("lambda").list_event_source_mappings()["EventSourceMappings"]
    found["mappings"] = [m["UUID"] for m in mappings if f":function:{prefix}" in m.get("FunctionArn", "")]
    vaults = c("backup").list_backup_vaults()["BackupVaultList"]
    found["vaults"] = [v["BackupVaultName"] for v in vaults if v["BackupVaultName"].startswith(prefix)]
    plans = c("backup").list_backup_plans()["BackupPlansList"]
    found["plans"] = [p["BackupPlanName"] for p in plans if p["BackupPlanName"].startswith(prefix)]
    found["selections"] = []
    for plan_id in plan_ids:
        try:
            selections = c("backup").list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
        except c("backup").exceptions.ResourceNotFoundException:
            continue
        found["selections"] += [s["SelectionName"] for s in selections]
    groups = c("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]
    found["log_groups"] = [g["logGroupName"] for g in groups]
    found["rules"] = [r["Name"] for r in c("events").list_rules(NamePrefix=prefix)["Rules"]]
    return found


def assert_clean(target: Any, prefix: str, plan_ids: tuple[str, ...] = ()) -> None:
    left = {kind: names for kind, names in leftovers(target, prefix, plan_ids).items() if names}
    assert not left, f"left behind: {left}"
