"""On the aws target the posture check asks IAM's simulator; its answers map to decisions, never to a false pass."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dr_infra.targets.iam_evaluator import Decision
from dr_infra.verify.effective_permissions import SimulatedPermissions

ROLE = "arn:aws:iam::111122223333:role/monitor"
TABLE = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"


def _simulate(result: dict[str, Any], context: dict[str, str] | None = None) -> Any:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    expected = {
        "PolicySourceArn": ROLE,
        "ActionNames": ["dynamodb:DeleteTable"],
        "ResourceArns": [TABLE],
        "ContextEntries": [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in (context or {}).items()
        ],
    }
    base = {"EvalActionName": "dynamodb:DeleteTable", "EvalResourceName": TABLE}
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", {"EvaluationResults": [{**base, **result}]}, expected)
        return SimulatedPermissions(iam, ROLE).evaluate("dynamodb:DeleteTable", TABLE, context)


def test_allowed_names_the_matched_statement() -> None:
    answer = _simulate(
        {
            "EvalDecision": "allowed",
            "MatchedStatements": [{"SourcePolicyId": "AdministratorAccess", "StartPosition": {"Line": 3, "Column": 5}}],
        }
    )
    assert answer.decision is Decision.ALLOWED
    assert answer.explain() == "allowed by AdministratorAccess line 3"


@pytest.mark.parametrize(
    ("result", "decision"),
    [
        ({"EvalDecision": "explicitDeny"}, Decision.EXPLICIT_DENY),
        ({"EvalDecision": "implicitDeny"}, Decision.IMPLICIT_DENY),
        ({"EvalDecision": "implicitDeny", "MissingContextValues": ["aws:SourceIp"]}, Decision.UNDECIDABLE),
    ],
)
def test_denials_and_missing_context(result: dict[str, Any], decision: Decision) -> None:
    assert _simulate(result, {"iam:PassedToService": "backup.amazonaws.com"}).decision is decision


def _per_resource(decision: str, missing: list[str]) -> dict[str, Any]:
    """IAM's answer when ResourceArns names the resource: the keys it lacked are listed per resource."""
    return {
        "EvalDecision": decision,
        "ResourceSpecificResults": [
            {"EvalResourceName": TABLE, "EvalResourceDecision": decision, "MissingContextValues": missing}
        ],
    }


@pytest.mark.parametrize("decision", ["implicitDeny", "allowed"])
def test_context_the_simulator_lacked_for_the_resource_is_undecidable_not_a_pass(decision: str) -> None:
    # e.g. an Allow of dynamodb:* on the table under a condition on aws:SourceVpc: judged without the key it is
    # "implicitDeny", and "DeleteTable denied" would pass although the role deletes the table from that VPC
    answer = _simulate(_per_resource(decision, ["aws:SourceVpc"]))
    assert answer.decision is Decision.UNDECIDABLE
    assert "aws:SourceVpc" in answer.explain()


def test_an_explicit_deny_holds_whatever_context_was_missing() -> None:
    answer = _simulate(_per_resource("explicitDeny", ["aws:SourceVpc"]))
    assert answer.decision is Decision.EXPLICIT_DENY


def test_per_resource_results_without_missing_context_are_decided() -> None:
    assert _simulate(_per_resource("implicitDeny", [])).decision is Decision.IMPLICIT_DENY
    assert _simulate(_per_resource("allowed", [])).decision is Decision.ALLOWED
