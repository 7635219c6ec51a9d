"""The plugin's command-line options, each with its environment variable (``--dr-*`` / ``DRDRILL_*``)."""

from __future__ import annotations

import os

import pytest

from dr_infra.stack import safety
from dr_infra.targets import TARGET_NAMES
from dr_infra.targets.aws import ALLOW_ENV


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drdrill", "drdrill: DynamoDB disaster-recovery drills")
    group.addoption(
        "--dr-target",
        default=os.environ.get("DRDRILL_TARGET", "embedded"),
        help=f"where drills run: {', '.join(TARGET_NAMES)} (env DRDRILL_TARGET; default embedded)",
    )
    group.addoption(
        "--dr-report-dir",
        default=os.environ.get("DRDRILL_REPORT_DIR"),
        help="folder for the journal and report (env DRDRILL_REPORT_DIR; default reports/<run-id>)",
    )
    group.addoption(
        "--dr-policy", default=os.environ.get("DRDRILL_POLICY"), help="DR policy TOML file (env DRDRILL_POLICY)"
    )
    group.addoption(
        "--dr-allow-account",
        action="append",
        default=None,
        help=f"AWS account id the aws target may use; repeatable (env {ALLOW_ENV}, comma-separated)",
    )
    group.addoption("--dr-region", default=os.environ.get("DRDRILL_REGION"), help="AWS region (env DRDRILL_REGION)")
    group.addoption(
        "--dr-redact",
        action="store_true",
        default=env_flag("DRDRILL_REDACT"),
        help="mask account ids and ARNs in every report file (env DRDRILL_REDACT=1)",
    )
    group.addoption(
        "--dr-stack",
        default=os.environ.get("DRDRILL_STACK") or None,
        help="stack definition TOML: what every 'a DR-protected table' step creates (env DRDRILL_STACK)",
    )
    group.addoption(
        "--dr-stack-from",
        default=os.environ.get("DRDRILL_STACK_FROM") or None,
        help="cloudformation:STACK_NAME: drill that deployed stack in place (env DRDRILL_STACK_FROM)",
    )
    group.addoption(
        "--dr-cleanup-restored",
        action="store_true",
        default=env_flag("DRDRILL_CLEANUP_RESTORED"),
        help="deployed stacks: also delete the tables their recovery restored in response to the drill "
        "(env DRDRILL_CLEANUP_RESTORED=1)",
    )
    group.addoption("--dr-run-id", default=os.environ.get("DRDRILL_RUN_ID"), help="reuse a run id (xdist workers)")
    group.addoption(
        "--dr-progress",
        default=os.environ.get("DRDRILL_PROGRESS", "off"),
        choices=("auto", "live", "plain", "off"),
        help="show long waits: live on a terminal, plain lines in CI (env DRDRILL_PROGRESS; drdrill run: auto)",
    )
    group.addoption(
        "--dr-history-dir", default=os.environ.get("DRDRILL_HISTORY_DIR"), help="earlier journals for trends"
    )
    group.addoption(
        "--dr-stop-alarm",
        default=os.environ.get(safety.STOP_ALARM_ENV) or None,
        help="CloudWatch alarm: once seen in ALARM, the run stops (no further step, canaries halt) "
        "(env DRDRILL_STOP_ALARM)",
    )
    group.addoption(
        "--dr-embedded-profile",
        default=os.environ.get("DRDRILL_EMBEDDED_PROFILE") or None,
        help="embedded target timing: instant (default) or aws-scaled, AWS's latencies times --dr-embedded-scale "
        "(env DRDRILL_EMBEDDED_PROFILE)",
    )
    group.addoption(
        "--dr-embedded-scale",
        default=os.environ.get("DRDRILL_EMBEDDED_SCALE") or None,
        help="aws-scaled: wall seconds per AWS second, 0.001-1 (default 0.01; env DRDRILL_EMBEDDED_SCALE)",
    )
    group.addoption(
        "--dr-share-target",
        default=os.environ.get("DRDRILL_SHARE_TARGET", "auto"),
        choices=("auto", "always", "never"),
        help="embedded with -n: workers share one server (auto: when there are more workers than cores) "
        "(env DRDRILL_SHARE_TARGET)",
    )
    group.addoption(
        "--dr-max-cost",
        default=os.environ.get(safety.MAX_COST_ENV) or None,
        help="refuse an aws run whose estimated cost exceeds this many USD (env DRDRILL_MAX_COST)",
    )
