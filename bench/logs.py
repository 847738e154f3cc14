"""Log benchmark: the log job against Anonip 1.1.0, ``cat`` and a plain Python copy.

    python bench/logs.py [--lines 1000000] [--repeat 3] [--out bench-out]   (make bench-logs)

Generates a realistic nginx combined log (bench/generate_log.py), installs Anonip 1.1.0 from
PyPI into a temporary venv, and runs every case on the same data in the same run, ``--repeat``
times each (the fastest run counts; the machine is shared). Prints lines/s, MB/s, peak memory
(VmHWM of the process and of any worker it starts, sampled every 10 ms), the ratio to Anonip,
CPU seconds (user + system: they move much less with the load of other jobs than wall time),
and how many output lines ``scan`` would still report (an address, or an unreduced user agent
where user agents are reduced). A benchmark, not a test: nothing is asserted.

Cases: ``cat`` and a Python line copy (the floor), Anonip (defaults: it masks the first
column), ``pipe`` (every field, user agent reduced), ``pipe --keep-user-agent``, ``pipe`` on
the pure-Python core (100k lines), ``anonymise`` of a gzip copy, ``anonymise`` of the same
lines as four gzip files (one worker per core), and ``scan`` of the masked log.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate_log import generate  # noqa: E402
from logrotate.lines import LogMasker  # noqa: E402
from logrotate.scan import scan_file  # noqa: E402
from privacy.ipmask import CORE  # noqa: E402

PYTHON_COPY = (
    "import sys\nout = sys.stdout.buffer\nfor line in sys.stdin.buffer:\n    out.write(line)\n"
)
LOG_JOB = [sys.executable, "-m", "logrotate"]


def _high_water_mib(pid: int) -> float:
    """VmHWM of a running process. (``ru_maxrss`` from wait4 would also count the memory of
    this benchmark process, which the child had between fork and exec.)"""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def run_case(
    command: list[str], source: Path | None, output: Path | None, env: dict[str, str] | None
) -> tuple[float, float, float]:
    """Wall time in seconds, peak RSS in MiB (the largest of the process and its workers) and
    CPU seconds (user + system, of the process and the workers it waited for). CPU time says
    less about speed than wall time, but it moves much less when other jobs load the machine."""
    peaks: dict[int, float] = {}
    with open(source or os.devnull, "rb") as stdin, open(output or os.devnull, "wb") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.DEVNULL if "scan" in command else None,  # its summary line
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            for watched in [process.pid, *_children(process.pid)]:
                peaks[watched] = max(peaks.get(watched, 0.0), _high_water_mib(watched))
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1) or (process.returncode and "scan" not in command):
        raise SystemExit(f"{command} failed with exit code {process.returncode}")
    return elapsed, max(peaks.values(), default=0.0), usage.ru_utime + usage.ru_stime


def dirty_lines(paths: list[Path], keep_user_agent: bool) -> int:
    """Lines ``scan`` would report: what ``pipe`` would still change."""
    return sum(
        scan_file(path, LogMasker(keep_user_agent=keep_user_agent)).dirty_lines for path in paths
    )


def install_anonip(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(folder)
    subprocess.run(
        [folder / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "anonip==1.1.0"],
        check=True,
    )
    return folder / "bin" / "anonip"


def _gzip(source: Path, target: Path) -> None:
    with open(source, "rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, 1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(ROOT / "bench-out"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (fastest counts)")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"access_{args.lines}.log"
    if not log.exists():
        print(f"generating {log} ...", flush=True)
        generate(str(log), args.lines)
    small_lines = min(100_000, args.lines)
    small = out / f"access_{small_lines}.log"
    if not small.exists():
        generate(str(small), small_lines)
    packed = out / f"access_{args.lines}.log.gz"
    parts = [out / f"access_{args.lines}.part{number}.log.gz" for number in range(4)]
    if not packed.exists() or not all(part.exists() for part in parts):
        print("compressing copies ...", flush=True)
        _gzip(log, packed)
        data = log.read_bytes().splitlines(keepends=True)
        quarter = -(-len(data) // 4)
        for number, part in enumerate(parts):
            part.write_bytes(
                gzip.compress(b"".join(data[number * quarter : (number + 1) * quarter]))
            )
        del data
    lines = args.lines
    size = log.stat().st_size
    load_before = os.getloadavg()

    scratch = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    try:
        print("installing anonip 1.1.0 from PyPI into a temporary venv ...", flush=True)
        anonip = install_anonip(scratch / "venv")
        masked = scratch / "masked.log"
        subprocess.run(
            [*LOG_JOB, "pipe"], stdin=log.open("rb"), stdout=masked.open("wb"), cwd=ROOT, check=True
        )
        # name, command, stdin, lines, files to prepare per run ((source, copy) pairs), env,
        # output check (None: raw input; else keep_user_agent for the scan of the output)
        work = scratch / "work"
        cases: list[
            tuple[str, list[str], Path | None, int, list[tuple[Path, Path]], dict, bool | None]
        ] = [
            ("cat", ["cat"], log, lines, [], {}, None),
            ("python line copy", [sys.executable, "-c", PYTHON_COPY], log, lines, [], {}, None),
            ("anonip 1.1.0 (defaults)", [str(anonip)], log, lines, [], {}, False),
            ("pipe (UA reduced)", [*LOG_JOB, "pipe"], log, lines, [], {}, False),
            (
                "pipe --keep-user-agent",
                [*LOG_JOB, "pipe", "--keep-user-agent"],
                log,
                lines,
                [],
                {},
                True,
            ),
            (
                f"pipe, pure-Python core ({small_lines // 1000}k)",
                [*LOG_JOB, "pipe"],
                small,
                small_lines,
                [],
                {"PRIVACY_CORE": "python"},
                False,
            ),
            (
                "anonymise 1 gzip file",
                [*LOG_JOB, "anonymise", str(work / packed.name)],
                None,
                lines,
                [(packed, work / packed.name)],
                {},
                False,
            ),
            (
                "anonymise 4 gzip files (2 workers)",
                [*LOG_JOB, "anonymise", "--jobs", "2", *(str(work / part.name) for part in parts)],
                None,
                lines,
                [(part, work / part.name) for part in parts],
                {},
                False,
            ),
            ("scan of the masked log", [*LOG_JOB, "scan", str(masked)], None, lines, [], {}, None),
        ]
        results = []
        for name, command, source, count, copies, env, check in cases:
            print(f"running: {name} ...", flush=True)
            output = scratch / "output.log"
            runs = []
            for _ in range(args.repeat):
                work.mkdir(exist_ok=True)
                for original, copy in copies:
                    shutil.copyfile(original, copy)
                runs.append(run_case(command, source, output if source else None, env))
            elapsed = min(run[0] for run in runs)
            peak = max(run[1] for run in runs)
            cpu = min(run[2] for run in runs)
            if check is None:
                dirty = None
            elif copies:
                dirty = dirty_lines([copy for _, copy in copies], check)
            else:
                dirty = dirty_lines([output], check)
            shutil.rmtree(work, ignore_errors=True)
            results.append(
                (
                    name,
                    elapsed,
                    count / elapsed,
                    size * count / lines / elapsed / 1e6,
                    peak,
                    dirty,
                    cpu,
                )
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    anonip_rate = results[2][2]
    anonip_cpu = results[2][2] * results[2][1] / results[2][6]  # lines per CPU second
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {lines:,} lines, {size / 1e6:.1f} MB, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, masking core {CORE}, "
        f"best of {args.repeat}, load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"| {'case':38} | {'seconds':>7} | {'lines/s':>10} | {'MB/s':>6} | {'peak MiB':>8} "
        f"| {'x anonip':>8} | {'CPU s':>6} | {'x anonip (CPU)':>14} | {'lines scan reports':>18} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for name, elapsed, rate, megabytes, peak, dirty, cpu in results:
        count = rate * elapsed
        cpu_ratio = (count / cpu) / anonip_cpu if cpu else float("nan")
        shown = (
            "(raw input)"
            if dirty is None and "scan" not in name
            else ("-" if dirty is None else f"{dirty:,}")
        )
        print(
            f"| {name:38} | {elapsed:7.2f} | {rate:10,.0f} | {megabytes:6.1f} | {peak:8.1f} "
            f"| {rate / anonip_rate:8.1f} | {cpu:6.2f} | {cpu_ratio:14.1f} | {shown:>18} |"
        )


if __name__ == "__main__":
    main()
