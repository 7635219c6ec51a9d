"""The ``drdrill`` command line: every subcommand, its options, their defaults and help texts.

``drdrill run``'s options are the drill options of :mod:`dr_infra.bdd.options` (the table the pytest plugin's
``--dr-*`` options come from too); the other commands' are records of the same type below, a drill option's
:meth:`~dr_infra.bdd.options.Option.variant` where they mean the same thing.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import NoReturn

from dr_infra.bdd import options as drill
from dr_infra.bdd.options import Option
from dr_infra.errors import EXIT_USAGE


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


#: The other commands' own options.
_Serve = partial(Option, commands=("serve",))
_Report = partial(Option, commands=("report",))
_Verify = partial(Option, commands=("verify",))
_Plan = partial(Option, commands=("plan",))
_Janitor = partial(Option, commands=("janitor",))

SERVE = (_Serve("port", "port on 127.0.0.1, 0-65535 (default: a free port)", ("--port",), type=_port, default=0),)

REPORT = (
    _Report("journal", "the journal (report.json) to re-render", type=Path, nargs="?"),
    _Report(
        "merge",
        "combine these journals (shards of one run) into one report; exits with the merged verdict",
        ("--merge",),
        type=Path,
        nargs="+",
        metavar="JOURNAL",
    ),
    _Report(
        "format",
        "a format to write; repeatable (default: all five)",
        ("--format",),
        kind="append",
        choices=("html", "md", "json", "junit", "csv"),
    ),
    _Report("out", "folder to write into (default: the journal's)", ("--out",), type=Path),
    _Report("redact", "mask account ids and ARNs in every file", ("--redact",), kind="flag"),
    _Report("history_dir", "earlier journals, for the trend charts", ("--history-dir",), type=Path),
)

VERIFY = (_Verify("report_dir", "a folder drdrill wrote a report into", type=Path, metavar="REPORT_DIR"),)

PLAN = (
    drill.TARGET.variant(
        "plan", help="the target to plan for (required: names, costs differ)", required=True, env=None, default=None
    ),
    drill.REGION.variant(
        "plan", help="region to show in ARNs and price (default us-east-1)", env=None, default="us-east-1"
    ),
    _Plan("account", "account id to show in ARNs", ("--account",), default="123456789012"),
    _Plan("table_gb", "table size for the cost estimate", ("--table-gb",), type=float, default=1.0),
    _Plan("format", "json: one document for scripts", ("--format",), choices=("text", "json"), default="text"),
    drill.PATHS.variant("plan", help="feature files or folders to count (default: the shipped features)"),
    drill.KEYWORD.variant("plan"),
    drill.TAGS.variant("plan"),
    drill.WORKERS.variant("plan", help="parallel workers the run would use (stacks at once)"),
    drill.STACK.variant("plan", help="stack definition TOML: plan the stack it describes"),
    drill.STACK_FROM.variant(
        "plan", help="plan a drill of the deployed stack a CloudFormation stack names: what it would touch"
    ),
    drill.CLEANUP_RESTORED.variant("plan", help="deployed stacks: plan the deletion of restored tables", env=None),
    drill.MAX_DURATION.variant(
        "plan", help=f"wall-time budget (e.g. 60m): print the -n that fits it ({drill.MAX_DURATION.env})"
    ),
    drill.EMBEDDED_PROFILE.variant(
        "plan", help=f"embedded: the latency profile ({drill.EMBEDDED_PROFILE.env})", choices=("instant", "aws-scaled")
    ),
    drill.EMBEDDED_SCALE.variant(
        "plan", help=f"aws-scaled: wall seconds per AWS second to estimate (default 0.01; {drill.EMBEDDED_SCALE.env})"
    ),
    _Plan("shards", "split the feature files over N runners (job matrix)", ("--shards",), type=int),
)

JANITOR = (
    drill.TARGET.variant(
        "janitor",
        help="where to look (required: a janitor of the wrong target finds nothing and says so)",
        required=True,
        env=None,
        default=None,
    ),
    _Janitor("older_than", "only runs older than this (e.g. 30m, 2h, 1d)", ("--older-than",), default="2h"),
    _Janitor("yes", "delete (without it, only list)", ("--yes",), kind="flag"),
    drill.ALLOW_ACCOUNT.variant("janitor", help="aws: account id it may touch; repeatable"),
    drill.REGION.variant("janitor", env=None),
)

#: Each command: its help, then its options in the order of its own help.
COMMANDS: dict[str, tuple[str, tuple[Option, ...]]] = {
    "run": ("run DR scenarios and write the report", tuple(o for o in drill.OPTIONS if "run" in o.commands)),
    "serve": ("run the embedded target as a standalone server in the foreground", SERVE),
    "report": ("re-render a report from a journal", REPORT),
    "verify": ("check a report folder against its SHA256SUMS (exit 0 intact, 1 altered, 2 not a report)", VERIFY),
    "plan": ("show what a run would create and what it would cost, touching nothing", PLAN),
    "janitor": ("remove resources left by interrupted runs (tagged drdrill:managed)", JANITOR),
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``drdrill`` and its subcommands, each option from its record (defaults read from the
    environment now)."""
    parser = _Parser(
        prog="drdrill",
        description="Prove that a DynamoDB table's disaster-recovery guarantees hold.",
        epilog="Exit codes: 0 guarantees met, 1 violated, 2 usage or configuration error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"drdrill {_version()}", help="print the version")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,serve,report,verify,plan,janitor}")
    for command, (help_text, options) in COMMANDS.items():
        command_parser = sub.add_parser(command, help=help_text)
        for option in options:
            assert command in option.commands, f"{option.dest} does not say it is a {command} option"
            names, kwargs = option.cli_arguments()
            command_parser.add_argument(*names, **kwargs)
    return parser
