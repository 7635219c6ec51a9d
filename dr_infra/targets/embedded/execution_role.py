"""A function's execution role: Lambda must be trusted to assume it, and the function acts with its credentials.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs,
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions):

* ``CreateFunction`` refuses a role whose trust policy does not let ``lambda.amazonaws.com`` call
  ``sts:AssumeRole``: ``InvalidParameterValueException`` "The role defined for the function cannot be assumed
  by Lambda."
* The function's code gets temporary credentials of that role in ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` (session named after the function), so every call it
  makes is authorized against the role's policies.
* Its output reaches CloudWatch Logs only if the role allows ``logs:CreateLogStream`` and
  ``logs:PutLogEvents`` (and ``logs:CreateLogGroup`` when the group does not exist yet); otherwise the
  function runs and its logs are lost.
* An event source mapping reads a DynamoDB stream with the role's permissions: ``dynamodb:DescribeStream``,
  ``GetShardIterator``, ``GetRecords`` on the stream and ``dynamodb:ListStreams``. ``CreateEventSourceMapping``
  without them is ``InvalidParameterValueException`` "Cannot access stream <arn>. Please ensure the role can
  perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."

What is modelled: all of the above, evaluated by :mod:`dr_infra.targets.iam_evaluator` over the role's
inline and attached managed policies, capped by its permissions boundary (a trust policy with a condition
is evaluated too; an undecidable one does not trust). Credentials come from moto's STS backend
(``STSBackend.assume_role``), so the embedded target's authorizer recognises them as the role's session.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.sts.models import sts_backends

from dr_infra.targets.embedded import principals
from dr_infra.targets.iam_evaluator import Evaluation, NamedPolicy, evaluate_effective, trusts_service

HOOKED_INTERNALS: tuple[str, ...] = ("moto.sts.models.STSBackend.assume_role",)

LAMBDA_SERVICE = "lambda.amazonaws.com"
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
SESSION_SECONDS = 12 * 3600
STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords")


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """The variables Lambda sets for them."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


def _account_of(role_arn: str, default: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else default


def role_exists(role_arn: str, account: str) -> bool:
    return principals.role_trust_policy(_account_of(role_arn, account), role_arn) is not None


def lambda_may_assume(role_arn: str, account: str) -> bool:
    """Does the role exist and trust ``lambda.amazonaws.com`` with ``sts:AssumeRole``?"""
    trust = principals.role_trust_policy(_account_of(role_arn, account), role_arn)
    return trust is not None and trusts_service(trust, LAMBDA_SERVICE, {"aws:SourceAccount": account})


def credentials(role_arn: str, function_name: str, region: str, account: str) -> RoleCredentials:
    """Temporary credentials of the role, as Lambda gives the function (session named after it)."""
    backend = sts_backends[_account_of(role_arn, account)][principals.PARTITION]
    session = backend.assume_role(
        region_name=region,
        role_session_name=function_name[:64],
        role_arn=role_arn,
        policy="",
        duration=SESSION_SECONDS,
        external_id="",
    )
    return RoleCredentials(session.access_key_id, session.secret_access_key, session.session_token)


def _policies(role_arn: str, account: str) -> tuple[NamedPolicy, ...]:
    return principals.role_policies(_account_of(role_arn, account), role_arn)


def role_allows(role_arn: str, account: str, region: str, action: str, resource: str) -> Evaluation:
    """The role's decision on ``action`` / ``resource`` (with the principal keys its session would carry)."""
    context = {
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": _account_of(role_arn, account),
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
        "aws:SecureTransport": "true",  # Lambda's own calls to AWS use TLS
    }
    role_account = _account_of(role_arn, account)
    boundary = principals.role_boundary(role_account, role_arn)
    return evaluate_effective(_policies(role_arn, account), action, resource, context, boundary=boundary)


def can_write_logs(role_arn: str, account: str, region: str, group: str, stream: str, group_exists: bool) -> bool:
    """May the function's output reach ``group``/``stream``?"""
    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream_arn = f"{group_arn}:log-stream:{stream}"
    needed = [("logs:CreateLogStream", stream_arn), ("logs:PutLogEvents", stream_arn)]
    if not group_exists:
        needed.append(("logs:CreateLogGroup", group_arn))
    return all(role_allows(role_arn, account, region, a, r).allowed for a, r in needed)


def stream_access_problem(role_arn: str, account: str, region: str, stream_arn: str) -> str | None:
    """AWS's message when the role cannot read ``stream_arn``; ``None`` when it can."""
    needed = [(a, stream_arn) for a in STREAM_ACTIONS] + [("dynamodb:ListStreams", "*")]
    if all(role_allows(role_arn, account, region, a, r).allowed for a, r in needed):
        return None
    return (
        f"Cannot access stream {stream_arn}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
    )
