"""The journal's evidence of origin: git commit of the features, the CI run, the data digests of a comparison."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dr_infra.bdd.provenance import ci_info, file_sha256, git_info, relative
from dr_infra.verify.equivalence import DIGEST_METHOD, compare_streams


def _item(n: int, price: str = "1.5") -> dict:
    return {"pk": {"S": f"order-{n:04d}"}, "price": {"N": price}}


def test_equal_data_gives_equal_digests_whatever_the_order() -> None:
    items = [_item(n) for n in range(50)]
    diff = compare_streams(lambda: iter(items), lambda: iter(reversed(items)), ["pk"])
    assert diff.equal and diff.expected_digest == diff.actual_digest
    assert len(diff.expected_digest or "") == 64
    evidence = diff.to_dict()
    assert evidence["digest_method"] == DIGEST_METHOD and evidence["expected_digest"] == diff.expected_digest


def test_one_changed_attribute_changes_the_digest() -> None:
    expected = [_item(n) for n in range(50)]
    actual = [*expected[:-1], _item(49, price="0")]
    diff = compare_streams(lambda: iter(expected), lambda: iter(actual), ["pk"])
    assert diff.changed == 1 and diff.expected_digest != diff.actual_digest


def test_github_actions_run_url_and_actor() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/drills",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_ACTOR": "bot",
        "GITHUB_TRIGGERING_ACTOR": "alice",
        "GITHUB_EVENT_NAME": "schedule",
    }
    ci = ci_info(env)
    assert ci is not None
    assert (
        ci["provider"] == "github-actions"
        and ci["run_url"] == "https://github.com/acme/drills/actions/runs/42/attempts/2"
    )
    assert ci["actor"] == "alice" and ci["event"] == "schedule"


def test_no_ci_outside_ci() -> None:
    assert ci_info({}) is None
    assert ci_info({"CI": "true"})["provider"] == "unknown"  # type: ignore[index]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_and_dirty_features(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    git("remote", "add", "origin", "https://user:s3cret@example.com/acme/drills.git")
    features = tmp_path / "features"
    features.mkdir()
    (features / "a.feature").write_text("Feature: a\n", encoding="utf-8")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "features")
    info = git_info([features])
    assert info == {
        "commit": git("rev-parse", "HEAD"),
        "dirty": False,
        "repository": "https://example.com/acme/drills.git",
    }
    (features / "a.feature").write_text("Feature: changed\n", encoding="utf-8")
    assert git_info([features])["dirty"] is True  # type: ignore[index]


def test_no_repository_is_none(tmp_path: Path) -> None:
    (tmp_path / "x.feature").write_text("Feature: x\n", encoding="utf-8")
    assert git_info([tmp_path / "x.feature"]) is None


def test_policy_digest_and_relative_paths(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_bytes(b"[defaults]\n")
    assert file_sha256(policy) == "6c76c8a9f1cda0ce244533cd4f58ad82e5162784da8915544713fd4a0389f0d3"
    assert file_sha256(tmp_path / "missing.toml") is None
    assert relative(policy, tmp_path) == "policy.toml"
    assert relative("/elsewhere/x.feature", tmp_path) == "/elsewhere/x.feature"
