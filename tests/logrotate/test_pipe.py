"""``pipe``: piped logging from stdin, SIGHUP reopening, and the progress bar on a terminal."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

from logrotate.lines import LogMasker
from tests.logrotate.conftest import ROOT
from tests.logrotate.logdata import combined_line, many_lines


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_stdin_to_stdout(run_cli) -> None:
    data = many_lines(3000) + b"last line without newline 203.0.113.200"
    result = run_cli("pipe", input=data)
    assert result.returncode == 0
    assert result.stdout == LogMasker().process(data)
    assert result.stderr == b""  # no progress bar when stderr is not a terminal


def test_output_file_lines_arrive_at_once_and_sighup_reopens(tmp_path: Path) -> None:
    target = tmp_path / "access.log"
    target.write_bytes(b"existing line\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "logrotate", "pipe", "--output", str(target)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        process.stdin.write(combined_line("203.0.113.5").encode())
        process.stdin.flush()
        # Written as soon as the line is complete, before stdin ends (appended).
        wait_for(lambda: target.read_bytes().count(b"\n") == 2)
        assert target.read_bytes().startswith(b"existing line\n203.0.113.0 - - ")

        target.rename(tmp_path / "access.log.1")  # what logrotate does, then it signals us
        process.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        process.stdin.write(combined_line("2001:db8:7:8::9").encode())
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert (tmp_path / "access.log.1").read_bytes().count(b"\n") == 2
    assert target.read_bytes().startswith(b"2001:db8:7:: - - ")
    assert target.read_bytes().count(b"\n") == 1


def test_unwritable_output_is_reported(tmp_path: Path, run_cli) -> None:
    result = run_cli("pipe", "--output", str(tmp_path / "missing" / "x.log"), input=b"x\n")
    assert result.returncode == 1
    assert f"{tmp_path / 'missing' / 'x.log'}: cannot open" in result.stderr.decode()


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(many_lines(20_000))
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "logrotate", "anonymise", str(log)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 0
    assert b"big.log [" in shown and b"%" in shown
    assert shown.endswith(b"\r\x1b[K")  # the bar is cleared at the end


def test_reader_going_away_is_a_clean_error() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "logrotate", "pipe"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # like `| head -1` exiting
    _, stderr = process.communicate(many_lines(5000), timeout=60)
    assert process.returncode == 1
    assert stderr == b"logrotate: error: output closed\n"
