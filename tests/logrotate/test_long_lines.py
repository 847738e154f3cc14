"""A 95 MiB line without spaces: memory stays flat and no address is split at a cut.

Memory is measured on a real ``pipe`` process (its peak RSS, from ``wait4``), not timed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from logrotate.lines import LogMasker, _cut_point, iter_blocks
from privacy.ipmask import CORES
from tests.logrotate.conftest import ROOT

MIB = 1 << 20

# Generates 95 MiB of one line without spaces and pipes it into ``pipe``; prints the child's
# peak RSS (KiB) and what came out. Run in its own process so the parent's memory is not counted.
_DRIVER = r"""
import os, resource, subprocess, sys
kind = sys.argv[1]
piece = {
    "hex": b"0123456789abcdef:" * 7 + b"%3A",
    "letters": b"a" * 60 + b"z",
    "mixed": b"/q?ip=192.0.2.77&v6=2001:db8:1:2::5&x=",
}[kind]
count = (95 * 1024 * 1024) // len(piece)
child = subprocess.Popen([sys.executable, "-m", "logrotate", "pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
import threading
out = []
def drain():
    size = 0
    tail = b""
    masked = 0
    while chunk := child.stdout.read(1 << 20):
        size += len(chunk)
        data = tail + chunk
        masked += data.count(b"192.0.2.0&") + data.count(b"2001:db8:1::&")
        leaks = data.count(b"192.0.2.77") + data.count(b"1:2::5")
        assert not leaks, "address survived"
        tail = data[-64:]
        masked -= tail.count(b"192.0.2.0&") + tail.count(b"2001:db8:1::&")
    out.append((size, masked + tail.count(b"192.0.2.0&") + tail.count(b"2001:db8:1::&")))
reader = threading.Thread(target=drain)
reader.start()
block = piece * (MIB_PIECES := max(1, (1 << 20) // len(piece)))
sent = 0
while sent + MIB_PIECES <= count:
    child.stdin.write(block)
    sent += MIB_PIECES
child.stdin.write(piece * (count - sent) + b"\n")
child.stdin.close()
reader.join()
child.wait()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(child.returncode, usage.ru_maxrss, out[0][0], out[0][1], count)
"""


@pytest.mark.parametrize("kind", ["hex", "letters", "mixed"])
def test_95_mib_line_keeps_memory_flat(kind: str) -> None:
    if "c" not in CORES and os.environ.get("CI") != "true":
        pytest.skip("95 MiB through the pure-Python reference takes minutes")
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, kind],
        cwd=ROOT,
        capture_output=True,
        timeout=600,
        check=True,
    )
    code, peak_kib, size, masked, pieces = map(int, result.stdout.split())
    assert code == 0
    assert peak_kib < 50 * 1024, f"peak RSS {peak_kib / 1024:.1f} MiB"
    if kind == "mixed":
        assert masked == 2 * pieces  # every address in every piece, across every cut
    else:
        assert size >= 95 * MIB - 64  # nothing lost


def test_cut_points_never_split_an_address() -> None:
    """Each tier of ``_cut_point`` on a line that offers only that tier."""
    text = LogMasker().text
    for filler in (b"x=192.0.2.77&", b"qq2001:db8:1:2::5zz", b"192.0.2.77%20"):
        line = filler * (3 * MIB // len(filler))
        cut = _cut_point(line)
        whole = text.mask(line)
        assert text.mask(line[:cut]) + text.mask(line[cut:]) == whole, filler


def test_iter_blocks_cuts_long_lines_and_keeps_every_byte() -> None:
    line = b"abc" + b"2001:db8::1;" * (3 * MIB // 12) + b"\n"
    chunks = [line[i : i + 65536] for i in range(0, len(line), 65536)]
    blocks = list(iter_blocks(chunks))
    assert len(blocks) > 1
    assert max(map(len, blocks)) <= MIB + 65536
    assert b"".join(blocks) == line
    assert all(block.endswith(b";") for block in blocks[:-1])
