"""Command line: ``log-anonymiser`` (or ``python -m logrotate``)
``{pipe,anonymise,purge,hold,scan,nightly}``."""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from privacy import __version__
from privacy.ipmask import CORE, CORES, DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, TextMasker

from .clock import ClockError
from .files import READ_SIZE, FileResult, LogFileError, anonymise_file
from .holds import HoldError, HoldStore, state_dir
from .lines import LogMasker, iter_blocks
from .nightly import ConfigError, load_config, run_nightly
from .parallel import anonymise_many
from .progress import Progress
from .purge import PurgeError, check_days, purge
from .scan import iter_files, scan_file

EXIT_OK, EXIT_FAILED, EXIT_FOUND = 0, 1, 1


def _error(message: str) -> None:
    print(f"logrotate: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"logrotate: warning: {message}", file=sys.stderr)


def _retention_days(text: str) -> float:
    """``--days``: a finite number of at least 1 (see ``purge.check_days``)."""
    try:
        days = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"must be a number of days, got {text!r}") from error
    try:
        return check_days(days)
    except PurgeError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _masking_options(parser: argparse.ArgumentParser, user_agent: bool = True) -> None:
    parser.add_argument(
        "--ipv4-prefix", type=int, default=DEFAULT_IPV4_PREFIX, help="IPv4 bits kept (8-32)"
    )
    parser.add_argument(
        "--ipv6-prefix", type=int, default=DEFAULT_IPV6_PREFIX, help="IPv6 bits kept (16-128)"
    )
    if user_agent:
        parser.add_argument(
            "--keep-user-agent",
            action="store_true",
            help="leave the user-agent field as it is instead of reducing it",
        )


def _masker(args: argparse.Namespace, count: bool = True) -> LogMasker:
    return LogMasker(args.ipv4_prefix, args.ipv6_prefix, args.keep_user_agent, count=count)


def version_text() -> str:
    """``--version``: the package version and the masking core in use."""
    core = "C extension" if CORE == "c" else "pure Python (no C extension built)"
    if CORE == "python" and "c" in CORES:
        core = "pure Python (PRIVACY_CORE=python)"
    return f"log-anonymiser {__version__} (masking core: {core})"


class _Output:
    """Where ``pipe`` writes: stdout, or a file opened for appending and reopened after
    SIGHUP (so logrotate can move the file away and signal us)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.reopen = False
        self.handle: BinaryIO = open(path, "ab") if path else sys.stdout.buffer  # noqa: SIM115

    def write(self, data: bytes) -> None:
        if self.reopen and self.path:
            self.reopen = False
            self.handle.close()
            self.handle = open(self.path, "ab")  # noqa: SIM115
        self.handle.write(data)
        self.handle.flush()


def _stdin_chunks(fd: int, progress: Progress) -> Iterator[bytes]:
    done = 0
    while chunk := os.read(fd, READ_SIZE):
        done += len(chunk)
        progress.update(done)
        yield chunk


_END = object()


def _two_stage(blocks: Iterator[bytes], masker: LogMasker) -> Iterator[bytes]:
    """``masker.process`` over ``blocks`` on two CPU cores: a thread reads and reduces user
    agents (Python) while this one masks (the C core runs without the GIL) and writes. Blocks
    keep their order; at most 4 wait in between, so memory stays flat."""
    if masker.keep_user_agent:
        first, second = masker.process, None
    else:
        first, second = masker.reduce, masker.text.mask
    handoff: queue.Queue[object] = queue.Queue(maxsize=4)
    # The masking thread gives the GIL back while the C core runs; it should not then wait
    # the default 5 ms for the reading thread to let it go again.
    sys.setswitchinterval(0.0005)

    def produce() -> None:
        try:
            for block in blocks:
                handoff.put(first(block))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            handoff.put(error)
        handoff.put(_END)

    threading.Thread(target=produce, name="reduce", daemon=True).start()
    while (item := handoff.get()) is not _END:
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, bytes)
        yield second(item) if second else item


def cmd_pipe(args: argparse.Namespace) -> int:
    masker = _masker(args, count=False)
    try:
        output = _Output(args.output)
    except OSError as error:
        _error(f"{args.output}: cannot open for appending: {error.strerror}")
        return EXIT_FAILED

    def on_hangup(signum: int, frame: object) -> None:
        output.reopen = True

    signal.signal(signal.SIGHUP, on_hangup)
    fd = sys.stdin.buffer.fileno()
    info = os.fstat(fd)
    progress = Progress("pipe", info.st_size if stat.S_ISREG(info.st_mode) else 0)
    try:
        for block in _two_stage(iter_blocks(_stdin_chunks(fd, progress)), masker):
            output.write(block)
    except BrokenPipeError:
        _error("output closed")
        # Keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as error:
        _error(f"{args.output or 'stdout'}: cannot write: {error.strerror}")
        return EXIT_FAILED
    finally:
        progress.close()
    return EXIT_OK


def _report(path: str, result: FileResult) -> None:
    """One file's outcome, the same whether it ran alone or beside others."""
    for warning in result.warnings:
        _warn(warning)
    name = path if result.target in ("", path) else f"{path} -> {result.target}"
    if result.changed:
        print(f"{name}: anonymised {result.lines} lines, {result.masked} addresses masked")
    else:
        print(f"{name}: already anonymised, nothing changed ({result.lines} lines)")


def cmd_anonymise(args: argparse.Namespace) -> int:
    masker = _masker(args)
    failed = 0
    total = len(args.files)
    jobs = min(args.jobs or os.cpu_count() or 1, len(args.files))
    if jobs > 1:  # several files: spread over the CPU cores (no progress bar then)
        for path, outcome in anonymise_many(
            args.files, args.ipv4_prefix, args.ipv6_prefix, args.keep_user_agent, jobs
        ):
            if isinstance(outcome, LogFileError):
                _error(str(outcome))
                failed += 1
            else:
                _report(path, outcome)
        args.files = []
    for path in args.files:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        progress = Progress(path, size)
        try:
            result = anonymise_file(path, masker, progress.update)
        except LogFileError as error:
            progress.close()
            _error(str(error))
            failed += 1
            continue
        progress.close()
        _report(path, result)
    if failed:
        _error(f"{failed} of {total} files failed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    try:
        holds = HoldStore(state_dir(args.state_dir)).load()
    except HoldError as error:
        _error(f"{error}; nothing purged")
        return EXIT_FAILED
    results = purge(args.dirs, args.days, holds, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for result in results:
        newest = f"newest {result.source} {result.newest:%Y-%m-%d %H:%M}"
        if result.error:
            _error(result.error)
        elif result.hold is not None:
            print(f"kept (hold until {result.hold.until}: {result.hold.reason}): {result.path}")
        else:
            print(f"{verb}: {result.path} ({newest})")
    return EXIT_FAILED if any(result.error for result in results) else EXIT_OK


def cmd_hold(args: argparse.Namespace) -> int:
    store = HoldStore(state_dir(args.state_dir))
    try:
        if args.hold_command == "add":
            hold = store.add(args.path, args.reason, args.until)
            print(f"hold on {hold.path} until {hold.until}: {hold.reason}")
        elif args.hold_command == "release":
            for hold in store.release(args.path):
                print(f"released {hold.path} (was until {hold.until})")
        else:
            holds = store.load()
            if not holds:
                print("no holds")
            for hold in holds:
                state = "active" if hold.active() else "expired"
                print(f"{hold.path}\tuntil {hold.until}\t{state}\t{hold.reason}")
    except (HoldError, OSError) as error:
        _error(str(error))
        return EXIT_FAILED
    return EXIT_OK


def cmd_scan(args: argparse.Namespace) -> int:
    dirty = failed = files = 0
    for path in iter_files(args.paths):
        files += 1
        masker = _masker(args)  # one per file: an IIS #Fields: line holds for its own file
        try:
            result = scan_file(path, masker)
        except LogFileError as error:
            _error(str(error))
            failed += 1
            continue
        if result.dirty_lines:
            dirty += 1
            for number, found in result.examples:
                addresses = [item for item in found if item != "unreduced user agent"]
                what = [f"unmasked {', '.join(addresses)}"] if addresses else []
                what += ["unreduced user agent"] if len(addresses) < len(found) else []
                print(f"{path}:{number}: {'; '.join(what)}")
            if result.dirty_lines > len(result.examples):
                print(f"{path}: ... {result.dirty_lines} lines that pipe would change in all")
    print(
        f"scan: {files} files, {dirty} with unmasked addresses or user agents, "
        f"{failed} unreadable",
        file=sys.stderr,
    )
    return EXIT_FOUND if dirty or failed else EXIT_OK


def cmd_nightly(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        _error(str(error))
        return EXIT_FAILED
    report, summary = run_nightly(config)
    for message in report["warnings"]:
        _warn(message)
    for message in report["errors"]:
        _error(message)
    print(summary)
    if args.json:
        print(json.dumps(report, indent=2))
    return EXIT_FAILED if report["errors"] else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="log-anonymiser",
        description="Mask IP addresses and reduce user agents in web-server logs; purge old logs.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True)

    pipe = sub.add_parser("pipe", help="mask stdin to stdout or --output (piped logging)")
    pipe.add_argument("--output", help="append to this file (reopened on SIGHUP)")
    _masking_options(pipe)
    pipe.set_defaults(func=cmd_pipe)

    anonymise = sub.add_parser("anonymise", help="mask log files in place (plain or .gz)")
    anonymise.add_argument("files", nargs="+", metavar="FILE")
    anonymise.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="files at once (default: CPU cores)"
    )
    _masking_options(anonymise)
    anonymise.set_defaults(func=cmd_anonymise)

    purge_parser = sub.add_parser("purge", help="delete logs older than --days (holds win)")
    purge_parser.add_argument("dirs", nargs="+", metavar="DIR")
    purge_parser.add_argument(
        "--days",
        type=_retention_days,
        default=7,
        help="age limit in days, at least 1 (0 would delete the live log)",
    )
    purge_parser.add_argument("--dry-run", action="store_true", help="only list what would go")
    purge_parser.add_argument("--state-dir", help="folder with holds.json")
    purge_parser.set_defaults(func=cmd_purge)

    hold = sub.add_parser("hold", help="security-incident holds that stop purging")
    hold.add_argument("--state-dir", help="folder with holds.json")
    hold_sub = hold.add_subparsers(dest="hold_command", required=True)
    add = hold_sub.add_parser("add", help="keep PATH (file or folder) until DATE")
    add.add_argument("path", metavar="PATH")
    add.add_argument("--reason", required=True)
    add.add_argument("--until", required=True, metavar="DATE", help="last day, e.g. 2026-12-31")
    hold_sub.add_parser("list", help="show holds (active and expired)")
    release = hold_sub.add_parser("release", help="remove the hold on PATH")
    release.add_argument("path", metavar="PATH")
    for hold_parser in (hold, *hold_sub.choices.values()):
        hold_parser.set_defaults(func=cmd_hold)
    for hold_parser in hold_sub.choices.values():  # accepted after the subcommand too
        hold_parser.add_argument("--state-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    scan = sub.add_parser(
        "scan", help="report lines that pipe would change (addresses, unreduced user agents)"
    )
    scan.add_argument("paths", nargs="+", metavar="DIR")
    _masking_options(scan)
    scan.set_defaults(func=cmd_scan)

    nightly = sub.add_parser("nightly", help="the timer's job: anonymise, purge, report")
    nightly.add_argument("--config", required=True, metavar="FILE")
    nightly.add_argument("--json", action="store_true", help="also print the JSON report")
    nightly.set_defaults(func=cmd_nightly)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "ipv4_prefix"):
            TextMasker(args.ipv4_prefix, args.ipv6_prefix)  # validate early
    except ValueError as error:
        parser.error(str(error))
    try:
        return int(args.func(args))
    except ClockError as error:
        _error(str(error))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
