"""A role's effective permissions, asked the way each target can answer truthfully.

A least-privilege claim is about what the role can *really* do: every inline policy and every attached
managed policy, an explicit Deny winning, NotAction/NotResource and conditions applied
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). Reading only the
inline policies (what drdrill once did) lets a role with ``AdministratorAccess`` attached pass "DeleteTable
denied".

* aws target: IAM's own policy simulator, ``SimulatePrincipalPolicy`` on the role ARN, which evaluates every
  policy attached to the role (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html). A result with
  ``MissingContextValues`` (top-level, or per resource in ``ResourceSpecificResults``, where IAM lists them when
  ``ResourceArns`` names the resource: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html)
  is undecidable, not a pass, whether the simulator said allowed or denied; only an explicit Deny is decided.
* every other target: the role's policies read back from IAM (``ListRolePolicies`` / ``GetRolePolicy``,
  ``ListAttachedRolePolicies`` / ``GetPolicy`` / ``GetPolicyVersion`` of the default version) and its
  permissions boundary (``GetRole``'s ``PermissionsBoundary``, which caps them:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), evaluated by
  :mod:`dr_infra.targets.iam_evaluator` - the evaluator the embedded target authorizes requests with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from dr_infra.targets.base import Target
from dr_infra.targets.iam_evaluator import Decision, Evaluation, NamedPolicy, evaluate_effective

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient


class PermissionSource(Protocol):
    """Answers "may this role do ``action`` on ``resource`` with this request context?"."""

    def evaluate(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> Evaluation: ...


def _managed_document(iam: IAMClient, arn: str) -> Any:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]


class RolePolicies:
    """The role's inline and attached managed policies, capped by its permissions boundary, read back from IAM
    and evaluated by drdrill."""

    def __init__(self, policies: list[NamedPolicy], boundary: NamedPolicy | None = None) -> None:
        self.policies = policies
        self.boundary = boundary

    @classmethod
    def read(cls, iam: IAMClient, role_name: str) -> RolePolicies:
        policies: list[NamedPolicy] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                policies.append(NamedPolicy.parse(name, document))
        for attached_page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            for attached in attached_page["AttachedPolicies"]:
                arn = attached["PolicyArn"]
                policies.append(NamedPolicy.parse(arn, _managed_document(iam, arn)))
        boundary_arn = (
            iam.get_role(RoleName=role_name)["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        )
        boundary = NamedPolicy.parse(boundary_arn, _managed_document(iam, boundary_arn)) if boundary_arn else None
        return cls(policies, boundary)

    def evaluate(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> Evaluation:
        return evaluate_effective(self.policies, action, resource, context, boundary=self.boundary)


class SimulatedPermissions:
    """IAM's policy simulator on a real account (every policy attached to the role)."""

    def __init__(self, iam: IAMClient, role_arn: str) -> None:
        self.iam = iam
        self.role_arn = role_arn

    def evaluate(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> Evaluation:
        entries: list[Any] = [
            {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
            for key, value in (context or {}).items()
        ]
        answer = self.iam.simulate_principal_policy(
            PolicySourceArn=self.role_arn, ActionNames=[action], ResourceArns=[resource], ContextEntries=entries
        )
        result = answer["EvaluationResults"][0]
        specific = list(result.get("ResourceSpecificResults", []))
        matched = list(result.get("MatchedStatements", [])) or [
            m for r in specific for m in r.get("MatchedStatements", [])
        ]
        statements = tuple(
            dict.fromkeys(
                f"{m.get('SourcePolicyId', '?')} line {m.get('StartPosition', {}).get('Line', '?')}" for m in matched
            )
        )
        # With ResourceArns given, IAM reports the keys it lacked per resource (ResourceSpecificResults), not at
        # the top: both are read. A missing key means a statement was judged without it, so only an explicit
        # Deny (which holds whatever else the request carries) is decided; allowed or not, the rest is unknown.
        missing = sorted(
            {str(k) for k in result.get("MissingContextValues", [])}
            | {str(k) for r in specific for k in r.get("MissingContextValues", [])}
        )
        decision = result["EvalDecision"]
        if decision == "explicitDeny" or any(r.get("EvalResourceDecision") == "explicitDeny" for r in specific):
            return Evaluation(Decision.EXPLICIT_DENY, statements)
        if missing:
            return Evaluation(Decision.UNDECIDABLE, reasons=(f"IAM's simulator lacked the context keys {missing}",))
        if decision == "allowed":
            return Evaluation(Decision.ALLOWED, statements)
        return Evaluation(Decision.IMPLICIT_DENY)


def of_role(target: Target, role_name: str, role_arn: str) -> PermissionSource:
    """The truthful source of ``role_name``'s effective permissions on ``target``."""
    iam = target.client("iam")
    if target.name == "aws":
        return SimulatedPermissions(iam, role_arn)
    return RolePolicies.read(iam, role_name)
