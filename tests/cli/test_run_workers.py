"""``drdrill run``'s default concurrency: the plan's workers on the embedded target, serial where it is not safe
or not worth it, and ``-n`` / ``DRDRILL_WORKERS`` always win (issue 19)."""

from __future__ import annotations

import pytest

from dr_infra.app.parser import build_parser
from dr_infra.app.run_workers import choose_workers
from tests.cli.conftest import REPO

FEATURES = str(REPO / "features")


def _args(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(["run", *argv])


def test_the_shipped_features_run_several_drills_at_once_on_the_embedded_target() -> None:
    choice = choose_workers(_args(FEATURES))
    assert choice.chosen and choice.workers is not None and int(choice.workers) > 1
    assert "-n 0" in choice.reason  # the line says how to get a serial run


def test_a_short_run_stays_serial() -> None:
    choice = choose_workers(_args(str(REPO / "features" / "posture")))
    assert choice.workers is None and "gain too little" in choice.reason


@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_other_targets_stay_serial_unless_asked(target: str) -> None:
    choice = choose_workers(_args(FEATURES, "--target", target))
    assert choice.workers is None and target in choice.reason


def test_a_stack_definition_stays_serial(tmp_path) -> None:  # type: ignore[no-untyped-def]
    choice = choose_workers(_args(FEATURES, "--stack", str(tmp_path / "stack.toml")))
    assert choice.workers is None and "in place" in choice.reason


def test_an_explicit_n_wins_and_zero_is_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_workers(_args(FEATURES, "-n", "3")).workers == "3"
    assert choose_workers(_args(FEATURES, "-n", "0")).workers is None
    monkeypatch.setenv("DRDRILL_WORKERS", "0")
    assert choose_workers(_args(FEATURES)).workers is None  # the environment's serial
    assert choose_workers(_args(FEATURES, "-n", "2")).workers == "2"  # a flag wins over it
