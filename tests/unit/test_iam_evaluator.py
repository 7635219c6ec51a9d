"""IAM's evaluation logic as drdrill models it: Deny wins, NotAction/NotResource, ARN segments, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from dr_infra.targets.iam_evaluator import (
    PERMISSIONS_BOUNDARY,
    SESSION_POLICY,
    Decision,
    NamedPolicy,
    arn_like,
    evaluate,
    evaluate_effective,
)

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
ADMIN = NamedPolicy("AdministratorAccess", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _policy(*statements: dict[str, Any], name: str = "p") -> NamedPolicy:
    return NamedPolicy(name, {"Version": "2012-10-17", "Statement": list(statements)})


def test_an_attached_admin_policy_allows_and_is_named() -> None:
    result = evaluate([_policy(name="inline"), ADMIN], "dynamodb:DeleteTable", TABLE)
    assert result.decision is Decision.ALLOWED
    assert result.statements == ("AdministratorAccess#1",)
    assert evaluate([_policy()], "dynamodb:DeleteTable", TABLE).decision is Decision.IMPLICIT_DENY


def test_explicit_deny_in_any_policy_wins_and_is_named() -> None:
    deny = _policy({"Sid": "NoDelete", "Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"}, name="guard")
    result = evaluate([ADMIN, deny], "dynamodb:DeleteTable", TABLE)
    assert result.decision is Decision.EXPLICIT_DENY
    assert result.explain() == "explicitly denied by guard#1 (NoDelete)"
    assert evaluate([ADMIN, deny], "dynamodb:PutItem", TABLE).allowed


def test_not_action_allows_everything_else() -> None:
    policy = _policy({"Effect": "Allow", "NotAction": ["iam:*", "dynamodb:DeleteTable"], "Resource": "*"})
    assert evaluate([policy], "dynamodb:PutItem", TABLE).allowed
    assert not evaluate([policy], "dynamodb:DeleteTable", TABLE).allowed
    assert not evaluate([policy], "iam:PassRole", "arn:aws:iam::1:role/x").allowed
    deny_all_but = _policy({"Effect": "Deny", "NotAction": "dynamodb:GetItem", "Resource": "*"})
    assert evaluate([ADMIN, deny_all_but], "dynamodb:PutItem", TABLE).decision is Decision.EXPLICIT_DENY
    assert evaluate([ADMIN, deny_all_but], "dynamodb:GetItem", TABLE).allowed


def test_not_resource_allows_everything_but_the_resource() -> None:
    policy = _policy({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": TABLE})
    assert evaluate([policy], "dynamodb:PutItem", TABLE + "-other").allowed
    assert not evaluate([policy], "dynamodb:PutItem", TABLE).allowed


def test_wildcards_do_not_cross_arn_segments() -> None:
    assert arn_like("arn:aws:dynamodb:*:*:table/orders*", TABLE + "-restored-1")
    assert arn_like(
        "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/p-*", "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/p-f:x"
    )
    assert not arn_like("arn:aws:dynamodb:us-*", TABLE)  # the region segment does not swallow the rest
    assert not arn_like("arn:aws:*:table/orders", TABLE)


@pytest.mark.parametrize(
    ("condition", "context", "allowed"),
    [
        (
            {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            {"iam:PassedToService": "backup.amazonaws.com"},
            True,
        ),
        (
            {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            {"iam:PassedToService": "lambda.amazonaws.com"},
            False,
        ),
        ({"StringNotEquals": {"iam:PassedToService": ["a", "b"]}}, {"iam:PassedToService": "c"}, True),
        ({"StringNotEquals": {"iam:PassedToService": ["a", "b"]}}, {"iam:PassedToService": "b"}, False),
        (
            {"StringLike": {"lambda:FunctionArn": "arn:aws:lambda:*:*:function:dr-*"}},
            {"lambda:FunctionArn": "arn:aws:lambda:r:1:function:dr-x"},
            True,
        ),
        ({"StringEqualsIfExists": {"iam:PassedToService": "x"}}, {"iam:PassedToService": "x"}, True),
        ({"Null": {"iam:PassedToService": "false"}}, {"iam:PassedToService": "x"}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
        (
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/*"}},
            {"aws:PrincipalArn": "arn:aws:iam::1:role/m"},
            True,
        ),
        ({"NumericLessThan": {"iam:X": "5"}}, {"iam:X": "3"}, True),
    ],
)
def test_supported_conditions(condition: dict[str, Any], context: dict[str, str], allowed: bool) -> None:
    policy = _policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": condition})
    assert evaluate([policy], "iam:PassRole", "arn:aws:iam::1:role/r", context).allowed is allowed


def test_a_missing_key_fails_a_condition_and_passes_a_negated_one() -> None:
    pos = _policy(
        {
            "Effect": "Allow",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "x"}},
        }
    )
    neg = _policy(
        {
            "Effect": "Allow",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PassedToService": "x"}},
        }
    )
    # iam: keys are never in a dynamodb request context
    assert not evaluate([pos], "dynamodb:GetItem", TABLE).allowed
    assert evaluate([neg], "dynamodb:GetItem", TABLE).allowed


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
        },
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"dynamodb:LeadingKeys": "x"}},
        },
        {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:dynamodb:*:*:table/${aws:username}"},
    ],
)
def test_a_deny_that_cannot_be_evaluated_makes_the_answer_undecidable_with_the_reason(
    statement: dict[str, Any],
) -> None:
    result = evaluate([ADMIN, _policy(statement, name="guard")], "dynamodb:GetItem", TABLE)
    assert result.decision is Decision.UNDECIDABLE
    assert not result.allowed
    assert result.reasons[0].startswith("guard#1: ")
    assert "cannot be evaluated" in result.explain()


def test_an_undecidable_allow_does_not_matter_when_another_statement_allows() -> None:
    odd = _policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "x"}}}
    )
    assert evaluate([odd], "dynamodb:GetItem", TABLE).decision is Decision.UNDECIDABLE
    assert evaluate([odd, ADMIN], "dynamodb:GetItem", TABLE).allowed


def test_documents_as_iam_returns_them() -> None:
    assert NamedPolicy.parse("p", '{"Statement": []}').document == {"Statement": []}
    assert NamedPolicy.parse("p", "%7B%22Statement%22%3A%20%5B%5D%7D").document == {"Statement": []}


def test_a_permissions_boundary_and_a_session_policy_cap_and_are_named() -> None:
    reads = _policy({"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": "*"}, name="boundary")
    capped = evaluate_effective([ADMIN], "dynamodb:DeleteTable", TABLE, boundary=reads)
    assert capped.decision is Decision.IMPLICIT_DENY and capped.policy_type == PERMISSIONS_BOUNDARY
    assert capped.explain() == "no statement of the permissions boundary allows it"
    assert evaluate_effective([ADMIN], "dynamodb:GetItem", TABLE, boundary=reads).allowed
    # a boundary grants nothing by itself
    assert not evaluate_effective([_policy()], "dynamodb:GetItem", TABLE, boundary=reads).allowed
    deny = _policy({"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*"}, name="session")
    refused = evaluate_effective([ADMIN], "dynamodb:GetItem", TABLE, boundary=reads, session=deny)
    assert refused.decision is Decision.EXPLICIT_DENY and refused.policy_type == SESSION_POLICY


def test_a_sure_refusal_needs_no_guess_about_a_boundary_it_cannot_evaluate() -> None:
    odd = _policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        name="boundary",
    )
    assert evaluate_effective([_policy()], "dynamodb:PutItem", TABLE, boundary=odd).decision is Decision.IMPLICIT_DENY
    assert evaluate_effective([ADMIN], "dynamodb:PutItem", TABLE, boundary=odd).decision is Decision.UNDECIDABLE
