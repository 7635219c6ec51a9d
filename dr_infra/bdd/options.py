"""The option table: one record per drill option, from which ``drdrill run``'s and the pytest plugin's are built.

Each :class:`Option` says how ``drdrill run`` spells it, how the plugin spells it (``--dr-*``), its environment
variable (``DRDRILL_*``) and default, its choices and help texts. The plugin's options (:func:`pytest_addoption`),
``drdrill run``'s (dr_infra.app.parser) and the arguments ``drdrill run`` hands on to pytest (:func:`pytest_args`)
are all generated from :data:`OPTIONS`, so a flag, its environment variable or its default cannot differ between
``drdrill run`` and plain pytest. The other commands' options (dr_infra.app.parser) are records of the same type;
those that share a meaning with a drill option are :meth:`Option.variant` of it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import pytest

from dr_infra.stack import safety
from dr_infra.targets import TARGET_NAMES
from dr_infra.targets.aws import ALLOW_ENV

#: How an option takes its value: ``value`` one string, ``flag`` none (true when given), ``append`` repeatable.
Kind = Literal["value", "flag", "append"]
#: The option group of ``pytest --help``.
GROUP = ("drdrill", "drdrill: DynamoDB disaster-recovery drills")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Option:
    """One option: its spellings, its environment default, and which parsers take it.

    An environment variable set to the empty string counts as unset. A ``flag`` is set by ``1``, ``true`` or
    ``yes``. An ``append`` option does not take its variable as its default (a value given on the command line
    replaces the variable's list, never adds to it): the code using it reads the variable when no value is given.
    """

    dest: str  # the attribute of drdrill's parsed arguments
    help: str  # drdrill's help text
    flags: tuple[str, ...] = ()  # drdrill's spellings; none: a positional argument (or the plugin's only option)
    plugin: str | None = None  # the plugin's option (``--dr-*``); None: drdrill's only
    plugin_help: str | None = None  # ``pytest --help``'s text, when it differs from drdrill's
    passes_as: str | None = None  # pytest's own (or xdist's, pytest-bdd's) option ``drdrill run`` hands it to
    env: str | None = None  # the environment variable that supplies the default
    default: Any = None  # the default without the environment variable
    kind: Kind = "value"
    choices: tuple[str, ...] | None = None
    plugin_checks: bool = False  # the plugin checks the value itself (pytest's parser gets no choices)
    type: Callable[[str], Any] | None = None
    nargs: str | None = None
    metavar: str | None = None  # drdrill's (``pytest --help`` shows the plugin's default one)
    required: bool = False
    commands: tuple[str, ...] = ("run",)  # drdrill's commands that take it; none: the plugin's only
    set_by_run: str | None = None  # a plugin-only option ``drdrill run`` sets itself: from what

    def default_value(self) -> Any:
        """The default, read from the environment now (parsers built later see a later environment)."""
        if self.kind == "flag":
            return env_flag(self.env) if self.env else bool(self.default)
        if self.kind == "value" and self.env:
            return os.environ.get(self.env) or self.default
        return self.default

    def variant(self, command: str, **changes: Any) -> Option:
        """This option as another command takes it (its own help or default): drdrill's only, never the plugin's."""
        return replace(self, commands=(command,), plugin=None, plugin_help=None, passes_as=None, **changes)

    def cli_arguments(self) -> tuple[tuple[str, ...], dict[str, Any]]:
        """``add_argument``'s arguments for drdrill's parser."""
        if not self.flags:
            return (self.dest,), _without_none(help=self.help, nargs=self.nargs, type=self.type, metavar=self.metavar)
        kwargs = self._common(self.help) | _without_none(type=self.type, metavar=self.metavar)
        if self.flags[0] != f"--{self.dest.replace('_', '-')}":
            kwargs["dest"] = self.dest
        if self.kind != "flag":
            kwargs |= _without_none(choices=self.choices, nargs=self.nargs)
        if self.required:
            kwargs = {"required": True} | {key: value for key, value in kwargs.items() if key != "default"}
        return self.flags, kwargs

    def plugin_arguments(self) -> dict[str, Any]:
        """``addoption``'s keyword arguments for the plugin's option."""
        kwargs = self._common(self.plugin_help or self.help)
        if self.kind != "flag" and not self.plugin_checks:
            kwargs |= _without_none(choices=self.choices)
        return kwargs

    def _common(self, help_text: str) -> dict[str, Any]:
        action = {"value": "store", "flag": "store_true", "append": "append"}[self.kind]
        kwargs: dict[str, Any] = {"default": self.default_value(), "help": help_text}
        return kwargs if action == "store" else {"action": action} | kwargs

    def to_pytest(self, value: Any) -> list[str]:
        """The pytest arguments that give the plugin (or pytest's own option) ``value``; none for an unset one."""
        option = self.plugin or self.passes_as
        if option is None or value is None or value is False or value == "" or value == []:
            return []
        if self.kind == "flag":
            return [option]
        values = value if self.kind == "append" else [value]
        if option.startswith("--"):
            return [f"{option}={item}" for item in values]
        return [part for item in values for part in (option, str(item))]


def _without_none(**kwargs: Any) -> dict[str, Any]:
    return {key: value for key, value in kwargs.items() if value is not None}


PATHS = Option("paths", "feature files or folders (default: the shipped features)", nargs="*")
TARGET = Option(
    "target",
    "where the drill runs (default embedded; DRDRILL_TARGET)",
    ("--target",),
    "--dr-target",
    f"where drills run: {', '.join(TARGET_NAMES)} (env DRDRILL_TARGET; default embedded)",
    env="DRDRILL_TARGET",
    default="embedded",
    choices=TARGET_NAMES,
    plugin_checks=True,  # an unknown DRDRILL_TARGET is one line naming the variable (dr_infra.bdd.session)
)
POLICY = Option(
    "policy",
    "DR policy TOML file",
    ("--policy",),
    "--dr-policy",
    "DR policy TOML file (env DRDRILL_POLICY)",
    env="DRDRILL_POLICY",
)
REPORT_DIR = Option(
    "report_dir",
    "default reports/<run-id>",
    ("--report-dir",),
    "--dr-report-dir",
    "folder for the journal and report (env DRDRILL_REPORT_DIR; default reports/<run-id>)",
    env="DRDRILL_REPORT_DIR",
)
ALLOW_ACCOUNT = Option(
    "allow_account",
    "AWS account id the aws target may use",
    ("--allow-account",),
    "--dr-allow-account",
    f"AWS account id the aws target may use; repeatable (env {ALLOW_ENV}, comma-separated)",
    env=ALLOW_ENV,
    kind="append",
)
REGION = Option(
    "region",
    "AWS region (default AWS_REGION, then the profile's)",
    ("--region",),
    "--dr-region",
    "AWS region (env DRDRILL_REGION)",
    env="DRDRILL_REGION",
)
REDACT = Option(
    "redact",
    "mask account ids and ARNs in the report",
    ("--redact",),
    "--dr-redact",
    "mask account ids and ARNs in every report file (env DRDRILL_REDACT=1)",
    env="DRDRILL_REDACT",
    kind="flag",
)
HISTORY_DIR = Option(
    "history_dir",
    "earlier journals, for trends in the report",
    ("--history-dir",),
    "--dr-history-dir",
    "earlier journals for trends",
    env="DRDRILL_HISTORY_DIR",
)
KEYWORD = Option("keyword", "only scenarios matching this pytest -k expression", ("-k",), passes_as="-k")
TAGS = Option("tags", "only scenarios whose tags match this pytest -m expression", ("--tags",), passes_as="-m")
WORKERS = Option(
    "workers",
    "drills at once (pytest-xdist workers); default: the plan's on embedded, else serial; 0: serial (DRDRILL_WORKERS)",
    ("-n",),
    passes_as="-n",
    env="DRDRILL_WORKERS",  # chosen by drdrill run before pytest starts (dr_infra.app.run_workers)
)
STOP_ALARM = Option(
    "stop_alarm",
    "CloudWatch alarm that stops injection (DRDRILL_STOP_ALARM)",
    ("--stop-alarm",),
    "--dr-stop-alarm",
    "CloudWatch alarm: once seen in ALARM, the run stops (no further step, canaries halt) (env DRDRILL_STOP_ALARM)",
    env=safety.STOP_ALARM_ENV,
)
MAX_COST = Option(
    "max_cost",
    "aws: refuse above this estimated cost, USD (DRDRILL_MAX_COST)",
    ("--max-cost",),
    "--dr-max-cost",
    "refuse an aws run whose estimated cost exceeds this many USD (env DRDRILL_MAX_COST)",
    env=safety.MAX_COST_ENV,
)
EMBEDDED_PROFILE = Option(
    "embedded_profile",
    "embedded timing: instant (default) or aws-scaled, AWS's latencies scaled (DRDRILL_EMBEDDED_PROFILE)",
    ("--embedded-profile",),
    "--dr-embedded-profile",
    "embedded target timing: instant (default) or aws-scaled, AWS's latencies times --dr-embedded-scale "
    "(env DRDRILL_EMBEDDED_PROFILE)",
    env="DRDRILL_EMBEDDED_PROFILE",
)
EMBEDDED_SCALE = Option(
    "embedded_scale",
    "aws-scaled: wall seconds per AWS second (default 0.01; DRDRILL_EMBEDDED_SCALE)",
    ("--embedded-scale",),
    "--dr-embedded-scale",
    "aws-scaled: wall seconds per AWS second, 0.001-1 (default 0.01; env DRDRILL_EMBEDDED_SCALE)",
    env="DRDRILL_EMBEDDED_SCALE",
)
MAX_DURATION = Option(
    "max_duration",
    "refuse a run whose estimated wall time (drdrill plan's) exceeds this, e.g. 60m (DRDRILL_MAX_DURATION)",
    ("--max-duration",),
    env="DRDRILL_MAX_DURATION",  # checked by drdrill run before pytest starts (dr_infra.app.plan)
)
STACK = Option(
    "stack",
    "stack definition TOML for every 'a DR-protected table' (a [deployed] one drills that stack in place)",
    ("--stack",),
    "--dr-stack",
    "stack definition TOML: what every 'a DR-protected table' step creates (env DRDRILL_STACK)",
    env="DRDRILL_STACK",
)
STACK_FROM = Option(
    "stack_from",
    "drill the deployed stack whose parts a CloudFormation stack's resources name (DRDRILL_STACK_FROM)",
    ("--stack-from",),
    "--dr-stack-from",
    "cloudformation:STACK_NAME: drill that deployed stack in place (env DRDRILL_STACK_FROM)",
    env="DRDRILL_STACK_FROM",
    metavar="cloudformation:STACK_NAME",
)
CLEANUP_RESTORED = Option(
    "cleanup_restored",
    "deployed stacks: also delete the tables their recovery restored in response to the drill",
    ("--cleanup-restored",),
    "--dr-cleanup-restored",
    "deployed stacks: also delete the tables their recovery restored in response to the drill "
    "(env DRDRILL_CLEANUP_RESTORED=1)",
    env="DRDRILL_CLEANUP_RESTORED",
    kind="flag",
)
CUCUMBERJSON = Option(
    "cucumberjson",
    "also write pytest-bdd's Cucumber JSON, each scenario's RTO and RPO embedded",
    ("--cucumberjson",),
    passes_as="--cucumberjson",
    metavar="FILE",
)
QUIET = Option("quiet", "no scenario lines or progress; only the result", ("-q", "--quiet"), kind="flag")
VERBOSE = Option(
    "verbose", "pytest's own output and tracebacks (for debugging a step)", ("-v", "--verbose"), kind="flag"
)
RUN_ID = Option(
    "run_id",
    "reuse a run id (xdist workers)",
    plugin="--dr-run-id",
    env="DRDRILL_RUN_ID",
    commands=(),
    set_by_run="its environment (DRDRILL_RUN_ID)",
)
PROGRESS = Option(
    "progress",
    "show long waits: live on a terminal, plain lines in CI (env DRDRILL_PROGRESS; drdrill run: auto)",
    plugin="--dr-progress",
    env="DRDRILL_PROGRESS",
    default="off",
    choices=("auto", "live", "plain", "off"),
    commands=(),
    set_by_run="-q (off; else auto)",
)
SHARE_TARGET = Option(
    "share_target",
    "embedded with -n: workers share one server (auto: when there are more workers than cores) "
    "(env DRDRILL_SHARE_TARGET)",
    plugin="--dr-share-target",
    env="DRDRILL_SHARE_TARGET",
    default="auto",
    choices=("auto", "always", "never"),
    commands=(),
    set_by_run="its environment (DRDRILL_SHARE_TARGET)",
)

#: Every drill option: ``drdrill run``'s in the order of its help, then the plugin's only ones. The plugin's
#: options are the records with ``plugin`` set, in this order (``pytest --help``'s).
OPTIONS: tuple[Option, ...] = (
    PATHS,
    TARGET,
    POLICY,
    REPORT_DIR,
    ALLOW_ACCOUNT,
    REGION,
    REDACT,
    HISTORY_DIR,
    KEYWORD,
    TAGS,
    WORKERS,
    STOP_ALARM,
    MAX_COST,
    EMBEDDED_PROFILE,
    EMBEDDED_SCALE,
    MAX_DURATION,
    STACK,
    STACK_FROM,
    CLEANUP_RESTORED,
    CUCUMBERJSON,
    QUIET,
    VERBOSE,
    RUN_ID,
    PROGRESS,
    SHARE_TARGET,
)


def plugin_options() -> Iterator[Option]:
    """The records the plugin registers, in the table's order."""
    return (option for option in OPTIONS if option.plugin)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(*GROUP)
    for option in plugin_options():
        assert option.plugin is not None
        group.addoption(option.plugin, **option.plugin_arguments())


def pytest_args(args: argparse.Namespace) -> list[str]:
    """``drdrill run``'s parsed options as pytest arguments: each value given (or its environment default) handed
    to the plugin's option or to pytest's own; the paths and the output options are ``drdrill run``'s business."""
    return [
        part
        for option in OPTIONS
        if "run" in option.commands
        for part in option.to_pytest(getattr(args, option.dest, None))
    ]
