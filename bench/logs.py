"""Log benchmark: ``python -m logrotate pipe`` against Anonip 1.1.0 and a plain Python copy.

    python bench/logs.py [--lines 1000000] [--out bench-out]   (or: make bench-logs)

Generates a realistic nginx combined log (bench/generate_log.py), installs Anonip 1.1.0 from
PyPI into a temporary venv, runs every case on the same file in the same run (stdin from the
file, stdout to /dev/null) and prints lines/s, MB/s and peak memory (max RSS of the process),
plus how many output lines still hold an unmasked address. Peak memory is the process's
VmHWM, sampled every 10 ms. A benchmark, not a test: nothing
is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate_log import generate  # noqa: E402
from logrotate.files import read_chunks  # noqa: E402
from logrotate.lines import iter_blocks  # noqa: E402
from privacy.ipmask import TextMasker  # noqa: E402

PYTHON_COPY = (
    "import sys\nout = sys.stdout.buffer\nfor line in sys.stdin.buffer:\n    out.write(line)\n"
)


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


def run_case(command: list[str], source: Path, output: Path | None) -> tuple[float, float]:
    """Wall time in seconds and peak RSS in MiB of one run."""
    peak = 0.0
    with open(source, "rb") as stdin, open(output or os.devnull, "wb") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=stdout, cwd=ROOT)
        while True:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _high_water_mib(process.pid))
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command} failed with exit code {process.returncode}")
    return elapsed, peak


def unmasked_lines(path: Path) -> int:
    text = TextMasker()
    dirty = 0
    for block in iter_blocks(read_chunks(path)):
        if text.mask(block) != block:
            dirty += sum(1 for line in block.split(b"\n") if text.find_unmasked(line))
    return dirty


def install_anonip(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(folder)
    subprocess.run(
        [folder / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "anonip==1.1.0"],
        check=True,
    )
    return folder / "bin" / "anonip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(ROOT / "bench-out"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (best is shown)")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"access_{args.lines}.log"
    if not log.exists():
        print(f"generating {log} ...", flush=True)
        generate(str(log), args.lines)
    small = out / "access_100000.log"
    if not small.exists():
        generate(str(small), 100_000)
    size = log.stat().st_size
    lines = args.lines

    scratch = Path(tempfile.mkdtemp(prefix="bench-anonip-"))
    try:
        print("installing anonip 1.1.0 from PyPI into a temporary venv ...", flush=True)
        anonip = install_anonip(scratch / "venv")
        cases = [
            ("python line copy (floor)", [sys.executable, "-c", PYTHON_COPY], log),
            ("anonip 1.1.0 (defaults, column 1)", [str(anonip)], log),
            (
                "logrotate pipe (all fields, UA reduced)",
                [sys.executable, "-m", "logrotate", "pipe"],
                log,
            ),
            (
                "logrotate pipe --keep-user-agent",
                [sys.executable, "-m", "logrotate", "pipe", "--keep-user-agent"],
                log,
            ),
            (
                "logrotate pipe, 100k lines (memory check)",
                [sys.executable, "-m", "logrotate", "pipe"],
                small,
            ),
        ]
        results = []
        for name, command, source in cases:
            print(f"running: {name} ...", flush=True)
            keep = scratch / "output.log"
            runs = [run_case(command, source, keep) for _ in range(args.repeat)]
            elapsed = min(run[0] for run in runs)
            peak = max(run[1] for run in runs)
            count = lines if source == log else 100_000
            dirty = unmasked_lines(keep) if name != cases[0][0] else None  # the copy: all
            results.append(
                (name, elapsed, count / elapsed, source.stat().st_size / elapsed / 1e6, peak, dirty)
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    anonip_rate = results[1][2]
    print()
    print(
        f"{lines:,} lines, {size / 1e6:.1f} MB, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}"
    )
    header = (
        f"{'case':42} {'seconds':>8} {'lines/s':>11} {'MB/s':>7} {'peak MiB':>9} "
        f"{'x anonip':>9} {'unmasked lines':>15}"
    )
    print(header)
    print("-" * len(header))
    for name, elapsed, rate, megabytes, peak, dirty in results:
        shown = "(raw input)" if dirty is None else f"{dirty:,}"
        print(
            f"{name:42} {elapsed:8.2f} {rate:11,.0f} {megabytes:7.1f} {peak:9.1f} "
            f"{rate / anonip_rate:9.1f} {shown:>15}"
        )


if __name__ == "__main__":
    main()
