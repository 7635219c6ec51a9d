"""``drdrill report --merge J1 J2 ...``: one report from the journals of a sharded run, as one run would give.

A staging drill too long for one runner is sharded over a job matrix (each shard ``drdrill run`` on some of the
features, each with its own journal); the merge job combines the journals with the same code that combines
xdist workers' records (:class:`dr_infra.bdd.xdist.Merger`), so the verdict is the one a single run of all
the scenarios would reach (:meth:`~dr_infra.report.journal.Journal.verdict`: a usage error, an interruption,
a violation or a leak in any shard decides it) and the scenarios are listed in collection order, the order
``drdrill run`` over all the shards' paths would run them (pytest collects a folder's entries sorted by name).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr_infra.bdd.xdist import Merger
from dr_infra.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATED, ConfigError
from dr_infra.report.journal import Journal, ScenarioRecord

__all__ = ["collection_key", "merge_journals", "merge_report"]


def collection_key(record: ScenarioRecord) -> tuple[str, ...]:
    """Where pytest collects ``record``'s feature file: its path parts (the node id's, relative to the rootdir,
    else the absolute feature file), compared part by part as pytest walks sorted folder entries."""
    path = record.id.split("::", 1)[0] if "::" in record.id else record.feature_file
    return Path(path or record.feature_file).parts


def merge_journals(journals: Sequence[dict[str, Any]], sources: Sequence[str]) -> Journal:
    """One journal from several (dicts as :func:`dr_infra.report.read_journal` returns them); its
    ``to_dict()`` plus ``merged_from`` (the run ids it combines) is the merged report.json.

    Refused with one line (:class:`ConfigError`): fewer than two journals, different targets or DR policies
    (their verdicts would not be one run's), or the same scenario in two journals (shards must be disjoint).
    """
    if len(journals) < 2:
        raise ConfigError("--merge needs two or more journals (report.json of each shard)")
    loaded = [Journal.from_dict(data) for data in journals]
    first = loaded[0]
    for journal, source in zip(loaded[1:], sources[1:], strict=True):
        if (journal.target or {}).get("name") != (first.target or {}).get("name"):
            raise ConfigError(
                f"{source} ran on target {(journal.target or {}).get('name')!r}, {sources[0]} on "
                f"{(first.target or {}).get('name')!r}: merge journals of one drill on one target"
            )
        if journal.policy != first.policy:
            raise ConfigError(
                f"{source} was judged by a different DR policy than {sources[0]}: run shards with one policy"
            )
    ranked: list[tuple[tuple[str, ...], int, int, ScenarioRecord]] = []
    for index, journal in enumerate(loaded):
        for position, record in enumerate(journal.scenarios):
            ranked.append((collection_key(record), index, position, record))
    ranked.sort(key=lambda entry: entry[:3])
    orders = {entry[3].id: rank for rank, entry in enumerate(ranked)}
    run_ids = list(dict.fromkeys(j.run_id for j in loaded))
    merged = Journal(
        run_id=run_ids[0] if len(run_ids) == 1 else f"{run_ids[0]}-merged",
        policy=dict(first.policy),
        started_at=min((j.started_at for j in loaded if j.started_at), default=None),
        argv=["drdrill", "report", "--merge", *sources],
    )
    merger = Merger(merged)
    for journal, source in zip(loaded, sources, strict=True):
        duplicates = merger.add_journal(journal, orders)
        if duplicates:
            raise ConfigError(
                f"scenario {duplicates[0]} is in {source} and an earlier journal: merge journals of disjoint shards"
            )
    merger.finish(sum(int((j.target or {}).get("workers") or 1) for j in loaded))
    merged.finished_at = max((j.finished_at for j in loaded if j.finished_at), default=None)
    merged.status = "finished"  # not "running": the verdict below is the finished run's
    merged.status = merged.verdict(merger.interrupted)
    if merged.started_at and merged.finished_at:
        from datetime import datetime

        span = datetime.fromisoformat(merged.finished_at) - datetime.fromisoformat(merged.started_at)
        merged.duration_s = round(span.total_seconds(), 3)
    return merged


def merge_report(args: argparse.Namespace) -> int:
    """``drdrill report --merge J1 J2 ... [--out DIR]``: one report; the exit code is the merged verdict's."""
    from dr_infra.report import NotAJournal, read_journal, render_all

    if args.journal is not None:
        raise ConfigError("give the journals either to --merge or as the one JOURNAL argument, not both")
    try:
        journals = [read_journal(path) for path in args.merge]
    except NotAJournal as exc:
        raise ConfigError(str(exc)) from None
    merged = merge_journals(journals, [str(path) for path in args.merge])
    document = {**merged.to_dict(), "merged_from": list(dict.fromkeys(str(j.get("run_id")) for j in journals))}
    out = args.out or Path("reports") / merged.run_id
    try:
        written = render_all(document, out, history_dir=args.history_dir, redact=args.redact, formats=args.format)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    for path in written:
        print(path)
    print(f"drdrill: merged {len(journals)} journals, {len(merged.scenarios)} scenarios (verdict: {merged.status})")
    codes = {"met": EXIT_OK, "interrupted": EXIT_INTERRUPTED, "usage-error": EXIT_USAGE}
    return codes.get(merged.status, EXIT_VIOLATED)
