"""The ``drdrill`` command: run | serve | report | plan | janitor.

Exit codes (a public contract): 0 every guarantee met, 1 a guarantee violated (or nothing measured),
2 usage or configuration error, 130 interrupted. Bad input gives one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from dr_infra.app.shipped import shipped_features
from dr_infra.app.streams import HeldStdout as _HeldStdout
from dr_infra.app.streams import PytestErrorFilter as _PytestErrorFilter
from dr_infra.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATED, DrDrillError
from dr_infra.targets import TARGET_NAMES


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="drdrill",
        description="Prove that a DynamoDB table's disaster-recovery guarantees hold.",
        epilog="Exit codes: 0 guarantees met, 1 violated, 2 usage or configuration error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"drdrill {_version()}", help="print the version")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,serve,report,verify,plan,janitor}")

    run = sub.add_parser("run", help="run DR scenarios and write the report")
    run.add_argument("paths", nargs="*", help="feature files or folders (default: the shipped features)")
    run.add_argument(
        "--target",
        default=os.environ.get("DRDRILL_TARGET", "embedded"),
        choices=TARGET_NAMES,
        help="where the drill runs (default embedded; DRDRILL_TARGET)",
    )
    run.add_argument("--policy", default=os.environ.get("DRDRILL_POLICY"), help="DR policy TOML file")
    run.add_argument("--report-dir", default=os.environ.get("DRDRILL_REPORT_DIR"), help="default reports/<run-id>")
    run.add_argument("--allow-account", action="append", help="AWS account id the aws target may use")
    run.add_argument("--region", default=None, help="AWS region (default AWS_REGION, then the profile's)")
    run.add_argument("--redact", action="store_true", help="mask account ids and ARNs in the report")
    run.add_argument("--history-dir", default=None, help="earlier journals, for trends in the report")
    run.add_argument("-k", dest="keyword", default=None, help="only scenarios matching this pytest -k expression")
    run.add_argument("--tags", default=None, help="only scenarios whose tags match this pytest -m expression")
    run.add_argument("-n", dest="workers", default=None, help="parallel workers (pytest-xdist)")
    run.add_argument("--stop-alarm", default=None, help="CloudWatch alarm that stops injection (DRDRILL_STOP_ALARM)")
    run.add_argument("--max-cost", default=None, help="aws: refuse above this estimated cost, USD (DRDRILL_MAX_COST)")
    run.add_argument(
        "--embedded-profile",
        default=None,
        help="embedded timing: instant (default) or aws-scaled, AWS's latencies scaled (DRDRILL_EMBEDDED_PROFILE)",
    )
    run.add_argument(
        "--embedded-scale",
        default=None,
        help="aws-scaled: wall seconds per AWS second (default 0.01; DRDRILL_EMBEDDED_SCALE)",
    )
    run.add_argument(
        "--max-duration",
        default=os.environ.get("DRDRILL_MAX_DURATION") or None,
        help="refuse a run whose estimated wall time (drdrill plan's) exceeds this, e.g. 60m (DRDRILL_MAX_DURATION)",
    )
    run.add_argument(
        "--stack",
        default=os.environ.get("DRDRILL_STACK"),
        help="stack definition TOML for every 'a DR-protected table'",
    )
    run.add_argument(
        "--cucumberjson",
        default=None,
        metavar="FILE",
        help="also write pytest-bdd's Cucumber JSON, each scenario's RTO and RPO embedded",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no scenario lines or progress; only the result")
    run.add_argument(
        "-v", "--verbose", action="store_true", help="pytest's own output and tracebacks (for debugging a step)"
    )

    serve = sub.add_parser("serve", help="run the embedded target as a standalone server in the foreground")
    serve.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1, 0-65535 (default: a free port)")

    report = sub.add_parser("report", help="re-render a report from a journal")
    report.add_argument("journal", type=Path, nargs="?", help="the journal (report.json) to re-render")
    report.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="JOURNAL",
        help="combine these journals (shards of one run) into one report; exits with the merged verdict",
    )
    report.add_argument(
        "--format",
        choices=("html", "md", "json", "junit", "csv"),
        action="append",
        help="a format to write; repeatable (default: all five)",
    )
    report.add_argument("--out", type=Path, default=None, help="folder to write into (default: the journal's)")
    report.add_argument("--redact", action="store_true", help="mask account ids and ARNs in every file")
    report.add_argument("--history-dir", type=Path, default=None, help="earlier journals, for the trend charts")

    verify = sub.add_parser(
        "verify", help="check a report folder against its SHA256SUMS (exit 0 intact, 1 altered, 2 not a report)"
    )
    verify.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="a folder drdrill wrote a report into")

    plan = sub.add_parser("plan", help="show what a run would create and what it would cost, touching nothing")
    plan.add_argument(
        "--target", required=True, choices=TARGET_NAMES, help="the target to plan for (required: names, costs differ)"
    )
    plan.add_argument("--region", default="us-east-1", help="region to show in ARNs and price (default us-east-1)")
    plan.add_argument("--account", default="123456789012", help="account id to show in ARNs")
    plan.add_argument("--table-gb", type=float, default=1.0, help="table size for the cost estimate")
    plan.add_argument("--format", choices=("text", "json"), default="text", help="json: one document for scripts")
    plan.add_argument("paths", nargs="*", help="feature files or folders to count (default: the shipped features)")
    plan.add_argument("-k", dest="keyword", default=None, help="only scenarios matching this pytest -k expression")
    plan.add_argument("--tags", default=None, help="only scenarios whose tags match this pytest -m expression")
    plan.add_argument("-n", dest="workers", default=None, help="parallel workers the run would use (stacks at once)")
    plan.add_argument(
        "--stack", default=os.environ.get("DRDRILL_STACK"), help="stack definition TOML: plan the stack it describes"
    )
    plan.add_argument("--max-duration", default=None, help="wall-time budget (e.g. 60m): print the -n that fits it")
    plan.add_argument(
        "--embedded-profile", default=None, choices=("instant", "aws-scaled"), help="embedded: the latency profile"
    )
    plan.add_argument("--shards", type=int, default=None, help="split the feature files over N runners (job matrix)")

    janitor = sub.add_parser("janitor", help="remove resources left by interrupted runs (tagged drdrill:managed)")
    janitor.add_argument(
        "--target",
        required=True,
        choices=TARGET_NAMES,
        help="where to look (required: a janitor of the wrong target finds nothing and says so)",
    )
    janitor.add_argument("--older-than", default="2h", help="only runs older than this (e.g. 30m, 2h, 1d)")
    janitor.add_argument("--yes", action="store_true", help="delete (without it, only list)")
    janitor.add_argument("--allow-account", action="append", help="aws: account id it may touch; repeatable")
    janitor.add_argument("--region", default=None, help="AWS region (default AWS_REGION, then the profile's)")
    return parser


def _pytest_args(args: argparse.Namespace) -> list[str]:
    paths = args.paths or [str(shipped_features())]
    for path in paths:
        if not Path(path).exists():
            raise DrDrillError(f"no such feature file or folder: {path}")
    argv = [
        *paths,
        "-p",
        "no:cacheprovider",
        f"--dr-target={args.target}",
        "-o",
        "python_files=",
        "--rootdir",
        str(Path.cwd()),
    ]
    if args.policy:
        argv.append(f"--dr-policy={args.policy}")
    if args.report_dir:
        argv.append(f"--dr-report-dir={args.report_dir}")
    argv.extend(f"--dr-allow-account={account}" for account in args.allow_account or [])
    if args.region:
        argv.append(f"--dr-region={args.region}")
    if args.redact:
        argv.append("--dr-redact")
    if args.history_dir:
        argv.append(f"--dr-history-dir={args.history_dir}")
    if args.stop_alarm:
        argv.append(f"--dr-stop-alarm={args.stop_alarm}")
    if args.max_cost:
        argv.append(f"--dr-max-cost={args.max_cost}")
    if args.stack:
        argv.append(f"--dr-stack={args.stack}")
    if args.embedded_profile:
        argv.append(f"--dr-embedded-profile={args.embedded_profile}")
    if args.embedded_scale:
        argv.append(f"--dr-embedded-scale={args.embedded_scale}")
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.tags:
        argv += ["-m", args.tags]
    if args.workers:
        argv += ["-n", str(args.workers)]
    if getattr(args, "cucumberjson", None):
        argv.append(f"--cucumberjson={args.cucumberjson}")
    argv.append(f"--dr-progress={'off' if args.quiet else 'auto'}")
    if getattr(args, "verbose", False):
        argv += ["-v", "--tb=short"]  # pytest's own lines and tracebacks, for debugging drdrill or a step
    else:
        argv += ["-q", "--tb=no", "-rN", "--no-header"]  # drdrill's scenario lines say it (dr_infra.app.terminal)
    return argv


class _Collector:
    """Captures the drill session at the end of the pytest run, to compute the exit code from the journal;
    releases the held stdout when the first scenario starts."""

    def __init__(self, stdout: _HeldStdout | None = None) -> None:
        self.session: object | None = None
        self.stdout = stdout

    def pytest_runtest_logstart(self) -> None:
        if self.stdout is not None:
            self.stdout.release()

    def pytest_sessionfinish(self, session: object) -> None:
        from dr_infra.bdd.plugin import SESSION_KEY

        config = session.config  # type: ignore[attr-defined]
        self.session = config.stash.get(SESSION_KEY, None)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def write_step_summary(data: dict[str, object], report_dir: str | None) -> None:
    """Append the compact summary to ``$GITHUB_STEP_SUMMARY`` when GitHub Actions sets it (a job's summary page,
    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from dr_infra.report.markdown import render_summary

    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(render_summary(data, report_dir) + "\n")
    except OSError as exc:
        print(f"drdrill: cannot write the step summary to {target}: {exc.strerror or exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import pytest

    from dr_infra.app.plan import check_max_duration
    from dr_infra.app.terminal import RunTerminal, print_summary
    from dr_infra.drill.policy import load_policy
    from dr_infra.targets.timing import parse as parse_timing

    argv = _pytest_args(args)
    load_policy(args.policy)  # a malformed policy is one line before anything starts
    parse_timing(  # an unknown profile or a bad scale is one line before anything starts
        args.embedded_profile or os.environ.get("DRDRILL_EMBEDDED_PROFILE"),
        args.embedded_scale or os.environ.get("DRDRILL_EMBEDDED_SCALE"),
        args.target,
    )
    check_max_duration(args)  # the plan's estimate against --max-duration, before any target starts
    stdout = _HeldStdout(sys.stdout)
    collector = _Collector(stdout)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    stderr = _PytestErrorFilter(sys.stderr)
    code: int | pytest.ExitCode = pytest.ExitCode.INTERNAL_ERROR
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            code = pytest.main(argv, plugins=[collector] if args.quiet else [collector, RunTerminal(sys.stdout)])
    finally:
        signal.signal(signal.SIGTERM, previous)
        if code == pytest.ExitCode.USAGE_ERROR or _usage_errors(collector.session):
            stdout.discard()  # before any scenario ran: drdrill's one line says it all
        stdout.release()
    ds = collector.session
    journal = getattr(ds, "journal", None)
    if code == pytest.ExitCode.INTERRUPTED and journal is not None and journal.status == "interrupted":
        _say_interrupted(ds)
        return EXIT_INTERRUPTED
    if journal is not None and journal.usage_errors:
        for line in journal.usage_errors[:10]:
            print(f"drdrill: {line}", file=sys.stderr)
        return EXIT_USAGE
    for line in stderr.usage_errors[:10]:
        print(f"drdrill: {line}", file=sys.stderr)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return EXIT_USAGE
    if code == pytest.ExitCode.INTERRUPTED:
        if journal is not None and journal.status == "interrupted":
            _say_interrupted(ds)
            return EXIT_INTERRUPTED
        return EXIT_USAGE
    if journal is None or journal.status == "running":
        print("drdrill: no scenario ran: check the paths and the -k/--tags filters", file=sys.stderr)
        return EXIT_USAGE
    out = ds.config.stash.get(_report_key(), None)  # type: ignore[attr-defined]
    data = journal.to_dict()
    if not args.quiet:
        print_summary(data, str(out) if out is not None else None)
    write_step_summary(data, str(out) if out is not None else None)
    cucumber = Path(args.cucumberjson) if getattr(args, "cucumberjson", None) else None
    if cucumber is not None and cucumber.is_file():
        from dr_infra.report.cucumber import annotate

        annotate(cucumber, data)
    if out is not None:
        print(f"drdrill: report written to {out}/ (verdict: {journal.status})")
    return {"met": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(journal.status, EXIT_VIOLATED)


def _say_interrupted(ds: object | None) -> None:
    """After Ctrl-C: what happened to the stack and where the report is."""
    out = ds.config.stash.get(_report_key(), None) if ds is not None else None  # type: ignore[attr-defined]
    journal = getattr(ds, "journal", None)
    leaks = list(getattr(journal, "leaks", None) or [])
    stack = "teardown abandoned, resources left (see above)" if leaks else "every stack torn down"
    where = f"; report written to {out}/" if out is not None else "; no report written"
    print(f"drdrill: interrupted: {stack}{where}", file=sys.stderr)


def _usage_errors(ds: object | None) -> list[str]:
    return list(getattr(getattr(ds, "journal", None), "usage_errors", None) or [])


def _report_key() -> object:
    from dr_infra.bdd.plugin import REPORT_DIR_KEY

    return REPORT_DIR_KEY


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
    args = _parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
