"""kill -9 in the middle of ``anonymise``: the file is either untouched or complete."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logrotate.lines import LogMasker
from tests.logrotate.conftest import ROOT
from tests.logrotate.logdata import many_lines


def temp_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if ".anon-" in path.name]


@pytest.mark.parametrize(
    ("name", "lines"), [("access.log.1", 150_000), ("access.log.2.gz", 60_000)]
)
def test_sigkill_mid_run_then_rerun(tmp_path: Path, name: str, lines: int) -> None:
    data = many_lines(lines)
    log = tmp_path / name
    original = gzip.compress(data, compresslevel=1) if name.endswith(".gz") else data
    log.write_bytes(original)
    command = [sys.executable, "-m", "logrotate", "anonymise", str(log)]

    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not any(path.stat().st_size > 256 * 1024 for path in temp_files(tmp_path)):
        assert process.poll() is None, "finished before it could be killed: make the file bigger"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    expected = LogMasker().process(data)
    content = log.read_bytes()
    if name.endswith(".gz"):
        assert content == original  # killed before the rename: byte-identical
    else:
        assert content in (original, expected)
    assert temp_files(tmp_path)  # the killed run's temporary file is still there

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120)

    assert rerun.returncode == 0, rerun.stderr
    result = log.read_bytes()
    if name.endswith(".gz"):
        result = gzip.decompress(result)
    assert result == expected  # every line once, in order, masked
    assert temp_files(tmp_path) == []
    assert os.listdir(tmp_path) == [name]


def test_sigkill_through_a_symlink_then_rerun(tmp_path: Path) -> None:
    """Through a link the temporary file sits next to the target (so the rename stays on one
    file system) and the next run through the link removes it."""
    real = tmp_path / "real"
    real.mkdir()
    data = many_lines(150_000)
    log = real / "access.log.1"
    log.write_bytes(data)
    link = tmp_path / "access.log.1"
    link.symlink_to(log)
    command = [sys.executable, "-m", "logrotate", "anonymise", str(link)]

    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not any(path.stat().st_size > 256 * 1024 for path in temp_files(real)):
        assert process.poll() is None, "finished before it could be killed: make the file bigger"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()

    expected = LogMasker().process(data)
    assert log.read_bytes() in (data, expected)
    assert link.is_symlink()
    assert temp_files(tmp_path) == []

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120)

    assert rerun.returncode == 0, rerun.stderr
    assert log.read_bytes() == expected
    assert link.is_symlink() and os.readlink(link) == str(log)
    assert os.listdir(real) == [log.name]
