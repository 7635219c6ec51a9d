"""The ``drdrill`` command line: every subcommand, its options, their defaults and help texts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn

from dr_infra.errors import EXIT_USAGE
from dr_infra.targets import TARGET_NAMES


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    import dr_infra

    return str(dr_infra.__version__)


def _port(text: str) -> int:
    """argparse type of ``serve --port``: a TCP port number, 0 meaning one the OS chooses."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use 1-65535, or 0 for a free one") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number: use 1-65535, or 0 for a free one")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``drdrill`` and its subcommands."""
    parser = _Parser(
        prog="drdrill",
        description="Prove that a DynamoDB table's disaster-recovery guarantees hold.",
        epilog="Exit codes: 0 guarantees met, 1 violated, 2 usage or configuration error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"drdrill {_version()}", help="print the version")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,serve,report,verify,plan,janitor}")

    run = sub.add_parser("run", help="run DR scenarios and write the report")
    run.add_argument("paths", nargs="*", help="feature files or folders (default: the shipped features)")
    run.add_argument(
        "--target",
        default=os.environ.get("DRDRILL_TARGET", "embedded"),
        choices=TARGET_NAMES,
        help="where the drill runs (default embedded; DRDRILL_TARGET)",
    )
    run.add_argument("--policy", default=os.environ.get("DRDRILL_POLICY"), help="DR policy TOML file")
    run.add_argument("--report-dir", default=os.environ.get("DRDRILL_REPORT_DIR"), help="default reports/<run-id>")
    run.add_argument("--allow-account", action="append", help="AWS account id the aws target may use")
    run.add_argument("--region", default=None, help="AWS region (default AWS_REGION, then the profile's)")
    run.add_argument("--redact", action="store_true", help="mask account ids and ARNs in the report")
    run.add_argument("--history-dir", default=None, help="earlier journals, for trends in the report")
    run.add_argument("-k", dest="keyword", default=None, help="only scenarios matching this pytest -k expression")
    run.add_argument("--tags", default=None, help="only scenarios whose tags match this pytest -m expression")
    run.add_argument("-n", dest="workers", default=None, help="parallel workers (pytest-xdist)")
    run.add_argument("--stop-alarm", default=None, help="CloudWatch alarm that stops injection (DRDRILL_STOP_ALARM)")
    run.add_argument("--max-cost", default=None, help="aws: refuse above this estimated cost, USD (DRDRILL_MAX_COST)")
    run.add_argument(
        "--embedded-profile",
        default=None,
        help="embedded timing: instant (default) or aws-scaled, AWS's latencies scaled (DRDRILL_EMBEDDED_PROFILE)",
    )
    run.add_argument(
        "--embedded-scale",
        default=None,
        help="aws-scaled: wall seconds per AWS second (default 0.01; DRDRILL_EMBEDDED_SCALE)",
    )
    run.add_argument(
        "--max-duration",
        default=os.environ.get("DRDRILL_MAX_DURATION") or None,
        help="refuse a run whose estimated wall time (drdrill plan's) exceeds this, e.g. 60m (DRDRILL_MAX_DURATION)",
    )
    run.add_argument(
        "--stack",
        default=os.environ.get("DRDRILL_STACK"),
        help="stack definition TOML for every 'a DR-protected table' (a [deployed] one drills that stack in place)",
    )
    run.add_argument(
        "--stack-from",
        default=os.environ.get("DRDRILL_STACK_FROM") or None,
        metavar="cloudformation:STACK_NAME",
        help="drill the deployed stack whose parts a CloudFormation stack's resources name (DRDRILL_STACK_FROM)",
    )
    run.add_argument(
        "--cleanup-restored",
        action="store_true",
        help="deployed stacks: also delete the tables their recovery restored in response to the drill",
    )
    run.add_argument(
        "--cucumberjson",
        default=None,
        metavar="FILE",
        help="also write pytest-bdd's Cucumber JSON, each scenario's RTO and RPO embedded",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no scenario lines or progress; only the result")
    run.add_argument(
        "-v", "--verbose", action="store_true", help="pytest's own output and tracebacks (for debugging a step)"
    )

    serve = sub.add_parser("serve", help="run the embedded target as a standalone server in the foreground")
    serve.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1, 0-65535 (default: a free port)")

    report = sub.add_parser("report", help="re-render a report from a journal")
    report.add_argument("journal", type=Path, nargs="?", help="the journal (report.json) to re-render")
    report.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="JOURNAL",
        help="combine these journals (shards of one run) into one report; exits with the merged verdict",
    )
    report.add_argument(
        "--format",
        choices=("html", "md", "json", "junit", "csv"),
        action="append",
        help="a format to write; repeatable (default: all five)",
    )
    report.add_argument("--out", type=Path, default=None, help="folder to write into (default: the journal's)")
    report.add_argument("--redact", action="store_true", help="mask account ids and ARNs in every file")
    report.add_argument("--history-dir", type=Path, default=None, help="earlier journals, for the trend charts")

    verify = sub.add_parser(
        "verify", help="check a report folder against its SHA256SUMS (exit 0 intact, 1 altered, 2 not a report)"
    )
    verify.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="a folder drdrill wrote a report into")

    plan = sub.add_parser("plan", help="show what a run would create and what it would cost, touching nothing")
    plan.add_argument(
        "--target", required=True, choices=TARGET_NAMES, help="the target to plan for (required: names, costs differ)"
    )
    plan.add_argument("--region", default="us-east-1", help="region to show in ARNs and price (default us-east-1)")
    plan.add_argument("--account", default="123456789012", help="account id to show in ARNs")
    plan.add_argument("--table-gb", type=float, default=1.0, help="table size for the cost estimate")
    plan.add_argument("--format", choices=("text", "json"), default="text", help="json: one document for scripts")
    plan.add_argument("paths", nargs="*", help="feature files or folders to count (default: the shipped features)")
    plan.add_argument("-k", dest="keyword", default=None, help="only scenarios matching this pytest -k expression")
    plan.add_argument("--tags", default=None, help="only scenarios whose tags match this pytest -m expression")
    plan.add_argument("-n", dest="workers", default=None, help="parallel workers the run would use (stacks at once)")
    plan.add_argument(
        "--stack", default=os.environ.get("DRDRILL_STACK"), help="stack definition TOML: plan the stack it describes"
    )
    plan.add_argument(
        "--stack-from",
        default=os.environ.get("DRDRILL_STACK_FROM") or None,
        metavar="cloudformation:STACK_NAME",
        help="plan a drill of the deployed stack a CloudFormation stack names: what it would touch",
    )
    plan.add_argument(
        "--cleanup-restored", action="store_true", help="deployed stacks: plan the deletion of restored tables"
    )
    plan.add_argument("--max-duration", default=None, help="wall-time budget (e.g. 60m): print the -n that fits it")
    plan.add_argument(
        "--embedded-profile", default=None, choices=("instant", "aws-scaled"), help="embedded: the latency profile"
    )
    plan.add_argument("--shards", type=int, default=None, help="split the feature files over N runners (job matrix)")

    janitor = sub.add_parser("janitor", help="remove resources left by interrupted runs (tagged drdrill:managed)")
    janitor.add_argument(
        "--target",
        required=True,
        choices=TARGET_NAMES,
        help="where to look (required: a janitor of the wrong target finds nothing and says so)",
    )
    janitor.add_argument("--older-than", default="2h", help="only runs older than this (e.g. 30m, 2h, 1d)")
    janitor.add_argument("--yes", action="store_true", help="delete (without it, only list)")
    janitor.add_argument("--allow-account", action="append", help="aws: account id it may touch; repeatable")
    janitor.add_argument("--region", default=None, help="AWS region (default AWS_REGION, then the profile's)")
    return parser
