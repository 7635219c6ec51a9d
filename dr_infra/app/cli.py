"""The ``drdrill`` command: run | serve | report | plan | janitor.

Exit codes (a public contract): 0 every guarantee met, 1 a guarantee violated (or nothing measured),
2 usage or configuration error, 130 interrupted. Bad input gives one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence

from dr_infra.app.parser import build_parser
from dr_infra.app.process_exit import exit_now
from dr_infra.app.run_command import run
from dr_infra.app.shipped import shipped_features as shipped_features
from dr_infra.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATED, DrDrillError


def serve(args: argparse.Namespace) -> int:
    import threading

    from dr_infra.targets.embedded.server import EmbeddedServer
    from dr_infra.targets.embedded.target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

    server = EmbeddedServer(port=args.port, log_requests=True)
    try:
        server.start()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            why = "is in use" if exc.errno == errno.EADDRINUSE else "is not allowed for this user"
            raise DrDrillError(
                f"port {args.port} on 127.0.0.1 {why}: pick another with --port or omit it for a free one"
            ) from None
        raise DrDrillError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    print(f"drdrill embedded target listening on {server.endpoint_url}", flush=True)
    print(
        f"  export AWS_ENDPOINT_URL={server.endpoint_url} AWS_ACCESS_KEY_ID={FAKE_ACCESS_KEY} "
        f"AWS_SECRET_ACCESS_KEY={FAKE_SECRET_KEY} AWS_DEFAULT_REGION=us-east-1",
        flush=True,
    )
    print(
        f"  control routes (/_drdrill/*) need the token {server.control_token} in the X-Drdrill-Token header:\n"
        f"  drdrill clients of this user read it from {server.token_file}, others from "
        f"DRDRILL_CONTROL_TOKEN={server.control_token}",
        flush=True,
    )
    print("  press Ctrl-C to stop", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
    from dr_infra.report import NotAJournal, read_journal, render_all

    if args.merge:
        from dr_infra.app.merge import merge_report

        return merge_report(args)
    if args.journal is None:
        raise DrDrillError("drdrill report needs a journal (report.json), or --merge J1 J2 ... for shards")
    try:
        journal = read_journal(args.journal)  # the dict itself: fields newer than this drdrill are kept
    except NotAJournal as exc:
        raise DrDrillError(str(exc)) from None
    out = args.out or args.journal.parent
    try:
        written = render_all(journal, out, history_dir=args.history_dir, redact=args.redact, formats=args.format)
    except OSError as exc:
        raise DrDrillError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    for path in written:
        print(path)
    return EXIT_OK


def verify(args: argparse.Namespace) -> int:
    """``drdrill verify REPORT_DIR``: 0 every file matches SHA256SUMS, 1 something changed, 2 not a report."""
    from dr_infra.report.checksums import NotAReportFolder
    from dr_infra.report.checksums import verify as check

    try:
        result = check(args.report_dir)
    except NotAReportFolder as exc:
        raise DrDrillError(str(exc)) from None
    for line in result.lines():
        print(line, file=sys.stdout if result.intact else sys.stderr)
    return EXIT_OK if result.intact else EXIT_VIOLATED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        if args.command == "serve":
            return serve(args)
        if args.command == "report":
            return report(args)
        if args.command == "verify":
            return verify(args)
        if args.command == "plan":
            from dr_infra.app.plan import plan

            return plan(args)
        if args.command == "janitor":
            from dr_infra.stack.janitor_report import janitor

            return janitor(args)
    except DrDrillError as exc:
        print(f"drdrill: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("drdrill: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `drdrill plan | head`: the reader left; say nothing more (and keep Python from complaining at exit).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return EXIT_USAGE


def entry() -> None:
    """The ``drdrill`` console script: :func:`main`, then out without the interpreter's teardown
    (:mod:`dr_infra.app.process_exit`)."""
    exit_now(main())


if __name__ == "__main__":
    entry()
