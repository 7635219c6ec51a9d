"""The aws target: a real account, reached through the standard credential chain, behind an allow-list.

Safety first: drdrill refuses to run against an account unless its id (from ``sts get-caller-identity``)
is explicitly allowed with ``--dr-allow-account`` or ``DRDRILL_ALLOWED_ACCOUNTS`` (comma-separated).
Refusal happens in :meth:`AwsTarget.start`, before anything is created.
"""

from __future__ import annotations

import os
import re

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from dr_infra.errors import AccountNotAllowed, TargetUnavailable
from dr_infra.targets.base import ClientFactory, Target
from dr_infra.targets.capabilities import AWS_CAPABILITIES

ALLOW_ENV = "DRDRILL_ALLOWED_ACCOUNTS"
ACCOUNT_ID = re.compile(r"^\d{12}$")
NO_REGION = "no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION, or pass --region (pytest: --dr-region)"


def parse_allow_list(values: list[str] | str | None) -> frozenset[str]:
    """Account ids from option values and/or a comma-separated string; rejects anything not 12 digits."""
    if values is None:
        return frozenset()
    items = [values] if isinstance(values, str) else list(values)
    accounts = {part.strip() for item in items for part in item.split(",") if part.strip()}
    bad = sorted(a for a in accounts if not ACCOUNT_ID.match(a))
    if bad:
        raise AccountNotAllowed(
            f"allowed account {bad[0]!r} is not a 12-digit AWS account id; fix --allow-account "
            f"(pytest: --dr-allow-account) / {ALLOW_ENV}"
        )
    return frozenset(accounts)


class AwsTarget(Target):
    """A real AWS account in one region."""

    name = "aws"

    def __init__(
        self,
        region: str | None = None,
        allowed_accounts: frozenset[str] | None = None,
        session: boto3.Session | None = None,
    ) -> None:
        # botocore reads AWS_DEFAULT_REGION (and the profile) but not AWS_REGION, which the AWS CLI v2, the other
        # SDKs and aws-actions/configure-aws-credentials use and which takes precedence over AWS_DEFAULT_REGION.
        region = region or os.environ.get("AWS_REGION", "").strip() or None
        self._session = session or boto3.Session(region_name=region)
        super().__init__(region or self._session.region_name or "")
        self.allowed_accounts = (
            allowed_accounts if allowed_accounts is not None else parse_allow_list(os.environ.get(ALLOW_ENV))
        )

    @property
    def capabilities(self) -> frozenset[str]:
        return AWS_CAPABILITIES

    def start(self) -> None:
        if not self.allowed_accounts:
            raise AccountNotAllowed(
                "the aws target needs an explicit account allow-list: pass --allow-account 123456789012 "
                "(pytest: --dr-allow-account) "
                f"or set {ALLOW_ENV}"
            )
        if not self.region:
            raise TargetUnavailable(NO_REGION)
        clients = ClientFactory(self._session)
        try:
            identity = clients("sts").get_caller_identity()
        except NoCredentialsError:
            raise TargetUnavailable(
                "no AWS credentials found: configure a profile (AWS_PROFILE), environment credentials or a role"
            ) from None
        except NoRegionError:
            raise TargetUnavailable(NO_REGION) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise TargetUnavailable(
                f"AWS refused the credentials ({code}): refresh them (aws sso login, new session token) and retry"
            ) from None
        except BotoCoreError as exc:
            raise TargetUnavailable(f"cannot reach AWS STS: {exc}") from None
        account = str(identity["Account"])
        if account not in self.allowed_accounts:
            raise AccountNotAllowed(
                f"account {account} is not in the allow-list ({', '.join(sorted(self.allowed_accounts))}); "
                "add it with --allow-account (pytest: --dr-allow-account) or "
                f"{ALLOW_ENV} only if it is a staging account"
            )
        self._account_id = account
        self._caller_arn = str(identity.get("Arn") or "") or None
        self._clients = clients
