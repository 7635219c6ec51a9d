"""The DR policy file: lookup order and one-line errors naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr_infra.drill.policy import Targets, load_policy, policies_dir
from dr_infra.errors import ConfigError

VALID = """
[backup]
frequency_hours = 6
retention_days = 90

[defaults]
rto_seconds = 300
rpo_seconds = 120

[guarantees.deletion]
rto_seconds = 90

[guarantees.deletion.pitr]
rto_seconds = 30
rpo_seconds = 2
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_policy_is_read(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, VALID))
    assert policy.frequency_hours == 6
    assert policy.retention_days == 90
    assert policy.source == str(tmp_path / "policy.toml")


def test_lookup_order_strategy_then_guarantee_then_defaults(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, VALID))
    pitr = policy.targets_for("deletion", "pitr")
    assert (pitr.rto_seconds, pitr.rpo_seconds) == (30, 2)
    backup = policy.targets_for("deletion", "backup")  # no [guarantees.deletion.backup]: the guarantee's
    assert (backup.rto_seconds, backup.rpo_seconds) == (90, 120)  # rpo falls back to defaults
    other = policy.targets_for("insertion", "pitr")
    assert (other.rto_seconds, other.rpo_seconds) == (300, 120)


def test_no_policy_file_gives_the_targets_shipped_policy() -> None:
    """Real AWS restores take 20+ minutes: the aws target must not judge them by the embedded seconds."""
    embedded, aws = load_policy(None, "embedded"), load_policy(None, "aws")
    assert load_policy(None) == embedded and load_policy(None, "localstack") == embedded
    assert embedded.source == "(default) embedded.toml" and aws.source == "(default) aws.toml"
    assert embedded.targets_for("deletion", "pitr") == Targets(30, 2)
    assert embedded.targets_for("anything", None) == Targets(60, 60)
    assert aws.targets_for("deletion", "pitr").rto_seconds == 2700  # 45 minutes
    assert aws.backup_job_timeout_seconds == 3600 > embedded.backup_job_timeout_seconds


@pytest.mark.parametrize("name", ["embedded.toml", "aws.toml"])
def test_shipped_policies_cover_every_shipped_guarantee_they_name(name: str) -> None:
    """A typo in a shipped policy's [guarantees.<folder>] would silently fall back to the defaults."""
    policy = load_policy(policies_dir() / name)
    folders = {p.name for p in (Path(__file__).resolve().parents[2] / "features").iterdir() if p.is_dir()}
    assert set(policy.guarantees) <= folders, set(policy.guarantees) - folders


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[defaults\nrto_seconds = 1\n", "not valid TOML"),
        ("[defaults]\nrto_seconds = 1\nbogus = 2\n", "defaults.bogus"),
        ("[defaults]\nrto_seconds = -5\n", "defaults.rto_seconds"),
        ("[guarantees.deletion]\nrpo_seconds = -1\n", "guarantees.deletion.rpo_seconds"),
        ("[guarantees.deletion.magic]\nrto_seconds = 1\n", "guarantees.deletion.magic"),
        ("[backup]\nretention_days = -3\n", "backup.retention_days"),
        ("[backup]\nfrequency_hours = 0\n", "backup.frequency_hours"),
        ("[backup]\njob_timeout_seconds = 0\n", "backup.job_timeout_seconds"),
        ("[backup]\nretention = 35\n", "backup.retention"),
        ("[surprise]\nx = 1\n", "[surprise]"),
        ('[defaults]\nrto_seconds = "fast"\n', "defaults.rto_seconds"),
    ],
)
def test_malformed_policy_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert "\n" not in message


def test_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.toml")
