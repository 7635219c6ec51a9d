"""``drdrill run --stack-from cloudformation:STACK_NAME``: the deployed table and monitor are read from the stack's
resources (ListStackResources), the plan and vault found from the account, and the drill leaves the stack exactly as
it was. A stack that does not exist is one line, exit 2."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from dr_infra.targets.embedded import EmbeddedTarget
from tests.cli.conftest import run_drdrill
from tests.deployed.cfn_deploy import deploy_from_template
from tests.deployed.user_deploy import snapshot

FEATURE = """Feature: The CloudFormation stack recovers
  Scenario: Deleted drill items come back
    Given a DR-protected table "orders" with 15 items
    And a recovery point of the table exists
    When 3 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
"""


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = EmbeddedTarget()
    embedded.start()
    yield embedded
    embedded.stop()


def _run(target: EmbeddedTarget, folder: Path, stack_name: str, *extra: str) -> tuple[int, str, Path]:
    (folder / "cfn.feature").write_text(FEATURE, encoding="utf-8")
    result = run_drdrill(
        "run",
        "cfn.feature",
        "--stack-from",
        f"cloudformation:{stack_name}",
        "--report-dir",
        "r",
        "-q",
        *extra,
        cwd=folder,
        env={"DRDRILL_EMBEDDED_ENDPOINT": str(target.endpoint_url)},
        timeout=600,
    )
    return result.code, result.stdout + result.stderr, folder / "r" / "report.json"


def test_a_cloudformation_stack_is_drilled_from_its_resources(target: EmbeddedTarget, tmp_path: Path) -> None:
    suffix = secrets.token_hex(3)
    stack_name = f"orders-staging-{suffix}"
    deployed = deploy_from_template(target.client, stack_name, suffix)
    before = snapshot(target.client, deployed)
    code, output, report = _run(target, tmp_path, stack_name, "--cleanup-restored")
    assert code == 0, output[-3000:]
    scenario = json.loads(report.read_text(encoding="utf-8"))["scenarios"][0]
    found = scenario["evidence"]["stack"]["deployed"]
    assert (found["table"], found["function"], found["plan"], found["vault"]) == (
        deployed.table,
        deployed.function,
        deployed.plan,
        deployed.vault,
    )
    assert scenario["evidence"]["stack"]["definition"]["deployed"]["cloudformation_stack"] == stack_name
    assert scenario["evidence"]["diff"][0]["equal"]
    assert snapshot(target.client, deployed) == before


def test_a_missing_cloudformation_stack_is_one_line_exit_2(target: EmbeddedTarget, tmp_path: Path) -> None:
    code, output, _ = _run(target, tmp_path, "no-such-stack")
    assert code == 2, output
    assert "--stack-from cloudformation:no-such-stack: no such CloudFormation stack" in output
    assert "Traceback" not in output
