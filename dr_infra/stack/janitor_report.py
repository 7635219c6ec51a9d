"""``drdrill janitor`` on the command line: the sweep as readable lines, and the CLI entry with its exit code."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from dr_infra.errors import EXIT_OK, EXIT_VIOLATED
from dr_infra.stack.janitor import KINDS, JanitorResult, parse_older_than, sweep
from dr_infra.targets import make_target


def human_duration(delta: timedelta) -> str:
    """``2h``, ``1d 3h``, ``45m``: how people write the thresholds they pass."""
    minutes = int(delta.total_seconds() // 60)
    parts = [(minutes // 1440, "d"), (minutes // 60 % 24, "h"), (minutes % 60, "m")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or f"{int(delta.total_seconds())}s"


#: Said with an empty sweep of the embedded target, lest "no leftovers" read as an all-clear about anything else.
EMBEDDED_SCOPE = (
    "(embedded target: this janitor swept an embedded target of its own process, which holds only what that "
    "process made; an earlier drdrill run's embedded resources ended with its process. Leftovers on AWS or "
    "LocalStack: --target aws or --target localstack)"
)


def render(result: JanitorResult, delete: bool, now: datetime | None = None, target: str | None = None) -> str:
    """The sweep as readable lines: what was found (with age), then what was deleted or failed."""
    now = now or datetime.now(UTC)
    out: list[str] = []
    threshold = human_duration(result.older_than)
    if result.found:
        out.append(f"{len(result.found)} drdrill leftover(s) older than {threshold}:")
        ordered = sorted(result.found, key=lambda r: (r.run_id, KINDS.index(r.kind), r.name))
        out += [f"  {r.describe()}, age {human_duration(now - r.started_at)}" for r in ordered]
    else:
        out.append(f"no drdrill leftovers older than {threshold}")
        if target == "embedded":
            out.append(EMBEDDED_SCOPE)
    if result.kept_recent:
        out.append(f"left alone: {len(result.kept_recent)} tagged resource(s) of runs newer than {threshold}")
    if result.kept_unknown_run:
        out.append("left alone (drdrill:managed=true but a run id drdrill did not make):")
        out += [f"  {line}" for line in result.kept_unknown_run]
    out += [f"error: {line}" for line in result.listing_failed]
    if delete:
        out += [f"deleted: {line.removeprefix('delete ')}" for line in result.deleted]
        out += [f"FAILED: {line}" for line in result.failed]
        if result.found:
            out.append(f"{len(result.deleted)} deleted, {len(result.failed)} failed")
    elif result.found:
        out.append("nothing was deleted: run again with --yes to delete")
    return "\n".join(out)


def janitor(args: argparse.Namespace) -> int:
    """The CLI entry: 0 when nothing is left to do (or only listing), 1 when a listing or deletion failed."""
    older_than = parse_older_than(str(args.older_than))
    allowed = None
    if args.target == "aws" and args.allow_account:
        from dr_infra.targets.aws import parse_allow_list

        allowed = parse_allow_list(args.allow_account)  # without the option, the aws target reads its env var
    target = make_target(args.target, args.region, allowed)
    try:
        target.start()
        result = sweep(target, older_than, delete=bool(args.yes))
    finally:
        target.stop()
    print(render(result, bool(args.yes), target=str(args.target)))
    return EXIT_OK if result.ok else EXIT_VIOLATED
