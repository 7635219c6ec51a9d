"""Drilling a stack the user deployed with plain boto3, through the real ``drdrill run --stack deployed.toml`` on an
embedded server the stack lives on (``DRDRILL_EMBEDDED_ENDPOINT``): the user's own monitor recovers the drill's
items, and afterwards every part of the user's stack is exactly as before (describe and full scan); a broken
monitor (mapping disabled, role without backup:StartRestoreJob) and a table the selection does not cover are
reported violated with the reason, before anything is written."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr_infra.targets.embedded import EmbeddedTarget
from tests.cli.conftest import REPO, Result, run_drdrill
from tests.deployed.user_deploy import REPAIRER, USER_ITEMS, Deployed, definition, deploy, snapshot

DRILL = """Feature: The deployed stack recovers
  Scenario: Deleted drill items come back through the deployed monitor's own restore
    Given the deployed table "{table}" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started
"""


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = EmbeddedTarget()
    embedded.start()
    yield embedded
    embedded.stop()


def _run(
    target: EmbeddedTarget, folder: Path, stack: Deployed, *extra: str, text: str = DRILL, **keys: str
) -> tuple[Result, Any]:
    feature = folder / "deployed.feature"
    feature.write_text(text.format(table=stack.table), encoding="utf-8")
    toml = definition(folder, stack, **keys)
    result = run_drdrill(
        "run",
        str(feature),
        "--stack",
        str(toml),
        "--report-dir",
        "r",
        "-q",
        *extra,
        cwd=folder,
        env={"DRDRILL_EMBEDDED_ENDPOINT": str(target.endpoint_url)},
        timeout=600,
    )
    report = folder / "r" / "report.json"
    journal = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return result, journal


def test_a_deployed_stack_recovers_and_is_left_exactly_as_it_was(target: EmbeddedTarget, tmp_path: Path) -> None:
    stack = deploy(target.client, secrets.token_hex(3))
    before = snapshot(target.client, stack)
    result, journal = _run(
        target, tmp_path, stack, "--cleanup-restored", function=stack.function, drill_key_prefix="drill-"
    )
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    scenario = journal["scenarios"][0]
    assert scenario["status"] == "passed"
    evidence = scenario["evidence"]
    assert evidence["stack"]["created"] == []  # nothing provisioned
    assert evidence["stack"]["deployed"]["function"] == stack.function
    diff = evidence["diff"][0]
    assert diff["equal"] and diff["compared_expected"] == 20
    assert diff["out_of_scope_items"] == USER_ITEMS  # the user's items were in the restore, not compared
    assert all(check["ok"] for check in scenario["posture"]) and len(scenario["posture"]) >= 6
    cleanup = evidence["deployed_cleanup"]
    assert cleanup["items_deleted"] == 18 and cleanup["restored_tables_deleted"]
    assert scenario["cleanup"]["failed"] == []
    after = snapshot(target.client, stack)
    assert after == before


def test_without_cleanup_restored_the_restored_tables_are_listed_and_left(
    target: EmbeddedTarget, tmp_path: Path
) -> None:
    stack = deploy(target.client, secrets.token_hex(3))
    before = snapshot(target.client, stack)
    result, journal = _run(target, tmp_path, stack)
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    left = journal["scenarios"][0]["evidence"]["deployed_cleanup"]["restored_tables_left"]
    assert left and all(name.startswith(f"{stack.table}-restored-") for name in left)
    after = snapshot(target.client, stack)
    assert sorted(after.pop("tables")) == sorted(before.pop("tables") + left)
    assert after == before  # everything else of the user's is as it was


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"mapping_enabled": False}, "a mapping that is not Enabled reads no stream records"),
        ({"restore_allowed": False}, "the monitor cannot start the restore it exists for"),
        ({"covered": False}, "backup selection covers the table"),
    ],
    ids=["mapping-disabled", "role-without-StartRestoreJob", "table-not-selected"],
)
def test_a_broken_deployed_stack_is_violated_with_the_reason_and_untouched(
    target: EmbeddedTarget, tmp_path: Path, broken: dict[str, bool], reason: str
) -> None:
    stack = deploy(target.client, secrets.token_hex(3), **broken)
    before = snapshot(target.client, stack)
    keys = {"plan": stack.plan} if broken.get("covered") is False else {}
    result, journal = _run(target, tmp_path, stack, **keys)
    assert result.code == 1, result.stdout[-3000:] + result.stderr[-3000:]
    scenario = journal["scenarios"][0]
    assert scenario["status"] == "failed"
    failed = [c for c in scenario["posture"] if not c["ok"]]
    assert len(failed) == 1, failed
    assert reason in json.dumps(failed[0]) or reason in failed[0]["check"]
    assert reason in json.dumps(scenario)
    assert snapshot(target.client, stack) == before  # nothing written: posture fails before the first write


def test_the_shipped_posture_features_drill_the_deployed_stack_with_stack_file(
    target: EmbeddedTarget, tmp_path: Path
) -> None:
    """Every 'a DR-protected table' step of the shipped features is the deployed stack under --stack FILE: the
    posture steps read the user's parts (their mapping at LATEST, their role as they scoped it)."""
    stack = deploy(target.client, secrets.token_hex(3))
    before = snapshot(target.client, stack)
    toml = definition(tmp_path, stack)
    result = run_drdrill(
        "run",
        str(REPO / "features" / "posture"),
        "--stack",
        str(toml),
        "--report-dir",
        "r",
        "-q",
        cwd=tmp_path,
        env={"DRDRILL_EMBEDDED_ENDPOINT": str(target.endpoint_url)},
        timeout=600,
    )
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in journal["scenarios"]] == ["passed"] * 3
    for scenario in journal["scenarios"]:
        assert scenario["evidence"]["stack"]["table"] == stack.table
        assert scenario["evidence"]["deployed_cleanup"]["items_deleted"] == 20
    assert snapshot(target.client, stack) == before


REPAIR = """Feature: The deployed monitor repairs in place
  Scenario: Deleted drill items are written back by the deployed monitor
    Given the deployed table "{table}" with 10 items
    And the change monitor restores with the "item" strategy
    When 2 items are deleted
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
"""


def test_in_place_repair_is_verified_on_the_live_table_and_items_it_writes_back_are_reported(
    target: EmbeddedTarget, tmp_path: Path
) -> None:
    """The live table is compared (the drill's items only); a monitor that repairs every deletion also writes back
    what the clean-up deletes, and the clean-up says so instead of leaking silently."""
    stack = deploy(target.client, secrets.token_hex(3), code=REPAIRER)
    _result, journal = _run(target, tmp_path, stack, text=REPAIR)
    scenario = journal["scenarios"][0]
    assert [step["status"] for step in scenario["steps"]] == ["passed"] * 5, scenario["steps"]
    assert scenario["status"] == "error"  # the repair held, but the clean-up could not remove the drill's items
    diff = scenario["evidence"]["diff"][0]
    assert diff["table"] == stack.table and diff["equal"] and diff["compared_expected"] == 10
    assert diff["out_of_scope_items"] == USER_ITEMS
    failed = scenario["cleanup"]["failed"]
    assert len(failed) == 1 and "came back" in failed[0] and "in-place repair" in failed[0], failed
    items = target.client("dynamodb").scan(TableName=stack.table)["Items"]
    users = [i for i in items if i["pk"]["S"].startswith("customer-")]
    assert len(users) == USER_ITEMS  # the user's items were never touched
