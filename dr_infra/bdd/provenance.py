"""Where a run came from, for the journal: the command line, the features' git commit and the CI run.

Why: a verdict an auditor signs must say what was run, from which version of the scenarios, by whom and where.
The journal records the command line (``argv``), the git commit of the repository holding the feature files (and
whether those files had uncommitted changes), and the CI provider's run URL and actor when the run happened in CI
(GitHub Actions' default variables, https://docs.github.com/en/actions/reference/variables-reference#default-environment-variables;
GitLab's predefined variables, https://docs.gitlab.com/ci/variables/predefined_variables/). Every probe is best
effort: no git, no repository or an unknown CI gives ``None`` fields, never a failed run.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

GIT_TIMEOUT_S = 5.0


def _git(cwd: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", str(cwd), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info(paths: Sequence[str | Path]) -> dict[str, Any] | None:
    """The commit of the git repository holding the first feature path, and whether the paths are modified.

    ``None`` when the features are not in a git repository (an installed wheel's bundled features, a tarball).
    """
    existing = [Path(p).resolve() for p in paths if Path(p).exists()]
    if not existing:
        return None
    first = existing[0]
    cwd = first if first.is_dir() else first.parent
    commit = _git(cwd, "rev-parse", "HEAD")
    if not commit:
        return None
    top = _git(cwd, "rev-parse", "--show-toplevel")
    status = _git(cwd, "status", "--porcelain", "--", *(str(p) for p in existing))
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    return {
        "commit": commit,
        "dirty": bool(status),
        "repository": _strip_credentials(remote) if remote else (Path(top).name if top else None),
    }


def _strip_credentials(url: str) -> str:
    """A remote URL without user:password@ (a token in a clone URL must never reach a report)."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


def ci_info(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The CI run this drill ran in, from the provider's environment variables; ``None`` outside CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repository, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
        url = f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else None
        if url and env.get("GITHUB_RUN_ATTEMPT"):
            url += f"/attempts/{env['GITHUB_RUN_ATTEMPT']}"
        return {
            "provider": "github-actions",
            "run_url": url,
            "actor": env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR"),
            "workflow": env.get("GITHUB_WORKFLOW"),
            "event": env.get("GITHUB_EVENT_NAME"),
            "ref": env.get("GITHUB_REF"),
            "sha": env.get("GITHUB_SHA"),
        }
    if env.get("GITLAB_CI") == "true":
        return {
            "provider": "gitlab-ci",
            "run_url": env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL"),
            "actor": env.get("GITLAB_USER_LOGIN"),
            "workflow": env.get("CI_JOB_NAME"),
            "event": env.get("CI_PIPELINE_SOURCE"),
            "ref": env.get("CI_COMMIT_REF_NAME"),
            "sha": env.get("CI_COMMIT_SHA"),
        }
    if env.get("CI", "").lower() in {"1", "true", "yes"}:
        return {"provider": "unknown", "run_url": None, "actor": None, "workflow": None, "event": None}
    return None


def file_sha256(path: str | Path) -> str | None:
    """The SHA-256 of a file's bytes (hex), ``None`` when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def relative(path: str | Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (the working folder) when inside it, else as given: reports name files the
    way the person who ran the drill sees them, not by a machine's absolute layout."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to((base or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(path)


def collect(paths: Sequence[str | Path], env: Mapping[str, str]) -> dict[str, Any]:
    """The journal's ``provenance``: ``git`` (the features' repository) and ``ci`` (the CI run)."""
    return {"git": git_info(paths), "ci": ci_info(env)}
