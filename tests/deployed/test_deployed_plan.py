"""``drdrill plan`` for a deployed stack lists what a drill would touch, creating (and calling) nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import REPO, run_drdrill


def _plan(tmp_path: Path, *args: str) -> dict[str, object]:
    result = run_drdrill(
        "plan", "--target", "aws", str(REPO / "features" / "deletion"), "--format", "json", *args, cwd=tmp_path
    )
    assert result.code == 0, result.stdout[-2000:] + result.stderr
    plan: dict[str, object] = json.loads(result.stdout)
    return plan


def test_plan_of_a_deployed_definition_lists_reads_writes_and_nothing_created(tmp_path: Path) -> None:
    (tmp_path / "staging.toml").write_text(
        '[deployed]\ntable = "orders"\nfunction = "disaster-recovery-function"\ndrill_key_prefix = "dr-"\n',
        encoding="utf-8",
    )
    plan = _plan(tmp_path, "--stack", "staging.toml")
    deployed = plan["deployed"]
    assert isinstance(deployed, dict)
    assert plan["resources"] == [] and plan["iam"] == {} and deployed["creates"] == []
    assert deployed["parts"]["table"] == "orders"
    assert deployed["parts"]["function"] == "disaster-recovery-function"
    assert deployed["drill_key_prefix"].startswith("dr-")
    writes = " ".join(deployed["writes"])
    assert "whose hash key starts with dr-" in writes and "left in place" in writes
    assert "DeleteTable" in " ".join(deployed["never"])


def test_plan_with_cleanup_restored_and_stack_from(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "--stack-from", "cloudformation:orders-staging", "--cleanup-restored")
    deployed = plan["deployed"]
    assert isinstance(deployed, dict)
    assert "CloudFormation stack orders-staging" in deployed["source"]
    assert "deleted at the end (--cleanup-restored)" in " ".join(deployed["writes"])


def test_plan_without_a_deployed_definition_has_no_deployed_block(tmp_path: Path) -> None:
    assert "deployed" not in _plan(tmp_path)
