"""How much the gzip level of ``anonymise``'s rewrite costs: level 6 against level 9.

    python bench/gzip_level.py [--lines 1000000] [--repeat 3]

Generates a log (bench/generate_log.py), packs it at level 6 (as logrotate(8)'s ``compress``
leaves it), then rewrites a copy with ``anonymise_file`` at each level, the levels
interleaved, ``--repeat`` times each; prints the fastest wall and CPU time per level, the
rewritten size and the ratios, and the compression alone on the masked lines. A benchmark,
not a test (docs/log-anonymiser.md, "gzip level of a rewritten file").
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import logrotate.files as files  # noqa: E402
from bench.generate_log import generate  # noqa: E402
from logrotate.lines import LogMasker  # noqa: E402

LEVELS = (6, 9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        log = work / "access.log"
        generate(str(log), args.lines, 1)
        raw = log.stat().st_size
        packed = work / "access.log.2.gz"
        with open(log, "rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        best = {level: [float("inf"), float("inf"), 0.0] for level in LEVELS}
        chosen = files.GZIP_LEVEL
        try:
            for _ in range(args.repeat):
                for level in LEVELS:
                    files.GZIP_LEVEL = level
                    copy = work / f"level{level}.gz"
                    shutil.copy(packed, copy)
                    wall, cpu = time.perf_counter(), time.process_time()
                    files.anonymise_file(copy, LogMasker())
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    entry = best[level]
                    entry[:] = [min(entry[0], wall), min(entry[1], cpu), copy.stat().st_size]
        finally:
            files.GZIP_LEVEL = chosen
        masked = gzip.decompress((work / f"level{LEVELS[0]}.gz").read_bytes())
        alone = {}
        for level in LEVELS:
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                zlib.compress(masked, level)
                runs.append(time.perf_counter() - start)
            alone[level] = min(runs)
    print(f"{args.lines:,} lines ({raw:,} B), anonymise_file of a gzip copy, min of {args.repeat}:")
    for level in LEVELS:
        wall, cpu, size = best[level]
        print(
            f"  level {level}: wall {wall:.2f} s, CPU {cpu:.2f} s, {int(size):,} B, "
            f"compression alone {alone[level]:.2f} s ({len(masked):,} B in)"
        )
    (w6, c6, s6), (w9, c9, s9) = best[6], best[9]
    print(
        f"  level 9 / level 6: wall {w9 / w6:.2f}x, CPU {c9 / c6:.2f}x, "
        f"compression alone {alone[9] / alone[6]:.2f}x; size 6 / 9: {s6 / s9:.3f}"
    )


if __name__ == "__main__":
    main()
