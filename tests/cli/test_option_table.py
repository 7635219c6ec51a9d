"""One option table (issue 13): every drill option reaches both ``drdrill run`` and plain pytest, and a value or an
environment default given to either arrives as the same value in the plugin.

pytest runs in a subprocess with a one-hook plugin that prints what pytest parsed and stops before the session
(no target starts): the real parser of the installed pytest, xdist and pytest-bdd, with drdrill's plugin loaded
through its entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dr_infra.app.parser import COMMANDS, build_parser
from dr_infra.app.run_command import _pytest_args
from dr_infra.bdd import options
from dr_infra.bdd.options import OPTIONS, Option
from tests.cli.conftest import run_drdrill

REPO = Path(__file__).resolve().parents[2]
PLUGIN_OPTIONS = [option for option in OPTIONS if option.plugin]
#: Options whose value ``drdrill run`` hands to pytest (the plugin's or pytest's own option).
PASSED_ON = [option for option in OPTIONS if "run" in option.commands and (option.plugin or option.passes_as)]
ENV_DEFAULTS = [option for option in OPTIONS if option.env and option.kind != "append"]

DUMP_PLUGIN = """
import json, os, pytest

@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    names = json.loads(os.environ["DUMP_OPTIONS"])
    with open(os.environ["DUMP_TO"], "w", encoding="utf-8") as handle:
        json.dump({name: config.getoption(name) for name in names}, handle)
    return 0
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "PYTEST_ADDOPTS"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env | extra


def _pytest_parses(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """What the plugin's (and pytest's) options are after pytest parsed ``argv`` in ``env``."""
    (tmp_path / "dump_options.py").write_text(DUMP_PLUGIN, encoding="utf-8")
    names = [option.plugin or option.passes_as for option in OPTIONS if option.plugin or option.passes_as]
    out = tmp_path / "parsed.json"
    extra = {"DUMP_OPTIONS": json.dumps(names), "DUMP_TO": str(out)}
    environ = _clean_env(**extra, **(env or {}))
    environ["PYTHONPATH"] = os.pathsep.join([str(tmp_path), environ["PYTHONPATH"]])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "dump_options", *argv],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    parsed: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return parsed


def _drdrill_run(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


def _help(command: str) -> str:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return str(action.choices[command].format_help())


@pytest.fixture(scope="module")
def pytest_help(tmp_path_factory: pytest.TempPathFactory) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=tmp_path_factory.mktemp("help"),
        env=_clean_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _drdrill_section(help_text: str) -> str:
    start = help_text.index(options.GROUP[1])
    end = help_text.find("\n\n", start)
    return help_text[start : end if end >= 0 else None]


def _sample(option: Option) -> str:
    """A value for the option that is not its default (a valid choice when it has choices)."""
    if option.choices:
        return next(choice for choice in option.choices if choice != option.default)
    return {"workers": "2", "keyword": "restore and not slow"}.get(option.dest, f"sample-{option.dest}")


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.dest)
def test_each_drill_option_is_in_drdrill_run_help_and_pytest_help(option: Option, pytest_help: str) -> None:
    run_help = _help("run")
    if "run" in option.commands:
        for flag in option.flags or (option.dest,):
            assert re.search(rf"(^|[\s\[]){re.escape(flag)}\b", run_help), f"{flag} not in drdrill run --help"
    if option.plugin:
        line = next((line for line in _drdrill_section(pytest_help).splitlines() if option.plugin in line), "")
        assert line, f"{option.plugin} not in the drdrill section of pytest --help"
    if option.plugin and "run" not in option.commands:
        assert option.set_by_run, f"{option.plugin}: drdrill run cannot set it; say how (set_by_run) or add a flag"


def test_the_drdrill_section_of_pytest_help_is_the_option_table(pytest_help: str) -> None:
    """An option registered by hand (not from the table) shows up here, and fails."""
    listed = re.findall(r"^\s+(--dr-[a-z-]+)", _drdrill_section(pytest_help), re.M)
    assert listed == [option.plugin for option in PLUGIN_OPTIONS]


def test_a_value_given_to_drdrill_run_reaches_the_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also pytest's own options drdrill run hands values to (-k, -m, xdist's -n, pytest-bdd's --cucumberjson):
    pytest refuses an option it does not know (exit 4), so each one is installed with drdrill."""
    for option in OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)
    argv: list[str] = [str(tmp_path)]
    expected: dict[str, Any] = {}
    for option in PASSED_ON:
        name = option.plugin or option.passes_as
        assert name is not None
        if option.kind == "flag":
            argv.append(option.flags[0])
            expected[name] = True
        elif option.kind == "append":
            argv += [option.flags[0], "111111111111", option.flags[0], "222222222222"]
            expected[name] = ["111111111111", "222222222222"]
        else:
            argv += [option.flags[0], _sample(option)]
            expected[name] = _sample(option)
    args = _drdrill_run(argv)
    parsed = _pytest_parses(tmp_path, _pytest_args(args))
    got = {name: parsed[name] if isinstance(parsed[name], bool | list) else str(parsed[name]) for name in expected}
    assert got == expected
    assert parsed["--dr-progress"] == "auto"  # PROGRESS.set_by_run: drdrill run without -q


def test_an_environment_default_is_the_same_for_drdrill_run_and_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {option.env: "yes" if option.kind == "flag" else _sample(option) for option in ENV_DEFAULTS if option.env}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = _drdrill_run([])
    parsed = _pytest_parses(tmp_path, [], env)
    for option in ENV_DEFAULTS:
        want = True if option.kind == "flag" else env[str(option.env)]
        if "run" in option.commands:
            assert getattr(args, option.dest) == want, f"drdrill run {option.flags[0]} ignores {option.env}"
        if option.plugin:
            assert parsed[option.plugin] == want, f"pytest {option.plugin} ignores {option.env}"
    # and drdrill run hands the environment's value on, so the plugin sees what drdrill run's checks saw
    handed_on = _pytest_args(argparse.Namespace(**{**vars(args), "paths": [str(tmp_path)]}))
    assert f"--dr-embedded-profile={env['DRDRILL_EMBEDDED_PROFILE']}" in handed_on


def test_an_empty_environment_variable_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {str(option.env): "" for option in ENV_DEFAULTS}
    for name in env:
        monkeypatch.setenv(name, "")
    args = _drdrill_run([])
    parsed = _pytest_parses(tmp_path, [], env)
    for option in ENV_DEFAULTS:
        want = bool(option.default) if option.kind == "flag" else option.default
        if "run" in option.commands:
            assert getattr(args, option.dest) == want, option.dest
        if option.plugin:
            assert parsed[option.plugin] == want, option.plugin


def test_no_spelling_or_destination_is_taken_twice() -> None:
    for command, (_, records) in COMMANDS.items():
        flags = [flag for option in records for flag in option.flags]
        dests = [option.dest for option in records]
        assert len(flags) == len(set(flags)), command
        assert len(dests) == len(set(dests)), command
    plugin = [option.plugin for option in PLUGIN_OPTIONS]
    assert len(plugin) == len(set(plugin)) and all(str(name).startswith("--dr-") for name in plugin)


def test_another_commands_variant_of_a_drill_option_is_never_the_plugins() -> None:
    plan = options.STACK.variant("plan", help="plan it")
    assert plan.plugin is None and plan.passes_as is None and plan.commands == ("plan",)
    assert plan.env == options.STACK.env  # the same variable unless the variant says otherwise


def test_max_duration_estimates_the_profile_the_run_will_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--max-duration`` is checked before pytest starts, from drdrill run's own arguments: with the environment
    default in them, ``DRDRILL_EMBEDDED_PROFILE=aws-scaled`` is estimated as aws-scaled (it was estimated as
    instant while only the plugin read the variable)."""
    from dr_infra.app.plan import check_max_duration

    for option in OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)
    argv = [str(REPO / "features" / "deletion"), "--max-duration", "10h"]
    instant = check_max_duration(_drdrill_run(argv))
    monkeypatch.setenv("DRDRILL_EMBEDDED_PROFILE", "aws-scaled")
    scaled = check_max_duration(_drdrill_run(argv))
    assert instant is not None and scaled is not None
    assert scaled > 2 * instant


def test_a_bad_profile_in_the_environment_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = run_drdrill(
        "run", str(REPO / "features" / "deletion"), cwd=tmp_path, env={"DRDRILL_EMBEDDED_PROFILE": "warp"}
    )
    assert result.code == 2
    assert len(result.error_lines) == 1 and "warp" in result.error_lines[0], result.stderr
    assert not (tmp_path / "reports").exists()


def test_the_timing_check_names_the_scales_own_variable() -> None:
    """dr_infra.targets.timing cannot import the option table (it imports pytest): its copy of the name must match."""
    from dr_infra.targets.timing import SCALE_ENV

    assert options.EMBEDDED_SCALE.env == SCALE_ENV
