"""``anonymise`` of several files spreads them over the CPU cores: same files, same messages
(in the order given), the same bytes as one at a time, and a bad file fails alone."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.logrotate.logdata import many_lines


def _make(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for number in range(4):
        path = folder / f"access.log.{number}"
        if number % 2:
            path = path.with_suffix(f".{number}.gz")
            path.write_bytes(gzip.compress(many_lines(300 + number)))
        else:
            path.write_bytes(many_lines(300 + number))
        paths.append(path)
    bad = folder / "broken.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    paths.insert(2, bad)
    return paths


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def test_parallel_equals_serial(tmp_path: Path, run_cli) -> None:
    parallel = _make(tmp_path / "parallel")
    serial = _make(tmp_path / "serial")
    many = run_cli("anonymise", "--jobs", "2", *map(str, parallel))
    one = run_cli("anonymise", "--jobs", "1", *map(str, serial))
    assert many.returncode == one.returncode == 1
    assert many.stdout.replace(b"/parallel/", b"/serial/") == one.stdout
    assert b"broken.gz" in many.stderr and b"1 of 5 files failed" in many.stderr
    lines = many.stdout.decode().splitlines()
    assert [line.split(":")[0].rsplit("/", 1)[1] for line in lines] == [
        path.name for path in parallel if path.name != "broken.gz"
    ]
    for left, right in zip(parallel, serial, strict=True):
        if left.name != "broken.gz":
            assert _content(left) == _content(right)
            assert b"unmasked" not in run_cli("scan", str(left)).stdout
