"""``python -m logrotate anonymise`` on real files: in place, atomic, idempotent, bad input."""

from __future__ import annotations

import gzip
import os
import resource
import signal
from pathlib import Path

from logrotate.lines import LogMasker
from tests.logrotate.logdata import CHROME, combined_line, many_lines


def expected(data: bytes) -> bytes:
    return LogMasker().process(data)


def leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if ".anon-" in name]


def test_plain_and_gzip_in_place_keeping_metadata(tmp_path: Path, run_cli) -> None:
    data = many_lines(500)
    plain = tmp_path / "access.log.1"
    plain.write_bytes(data)
    packed = tmp_path / "access.log.2.gz"
    packed.write_bytes(gzip.compress(data))
    os.chmod(plain, 0o640)
    os.utime(plain, ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    if os.geteuid() == 0:
        os.chown(plain, 12345, 54321)
    before = os.stat(plain)

    result = run_cli("anonymise", str(plain), str(packed))

    assert result.returncode == 0, result.stderr
    assert plain.read_bytes() == expected(data)
    assert gzip.decompress(packed.read_bytes()) == expected(data)
    after = os.stat(plain)
    assert after.st_mode == before.st_mode
    assert after.st_mtime_ns == before.st_mtime_ns
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced by rename, not rewritten in place
    assert b"anonymised 500 lines, 556 addresses masked" in result.stdout
    assert leftovers(tmp_path) == []


def test_second_run_changes_nothing_and_says_so(tmp_path: Path, run_cli) -> None:
    log = tmp_path / "access.log.1.gz"
    log.write_bytes(gzip.compress(many_lines(100)))
    assert run_cli("anonymise", str(log)).returncode == 0
    first = log.read_bytes()
    inode = os.stat(log).st_ino

    again = run_cli("anonymise", str(log))

    assert again.returncode == 0
    assert b"already anonymised, nothing changed (100 lines)" in again.stdout
    assert log.read_bytes() == first
    assert os.stat(log).st_ino == inode


def test_binary_garbage_long_line_and_invalid_utf8_are_kept(tmp_path: Path, run_cli) -> None:
    garbage = bytes(range(256)) * 64 + b" 203.0.113.7 \x00\xff\n"
    long_line = b"x" * (1 << 20) + b" 198.51.100.8 " + b"y" * 1000 + b"\n"
    latin1 = combined_line("192.0.2.9", "/caf\xe9").encode("latin-1") + b"\xc3\x28 \xff\n"
    files = {"garbage.log": garbage, "long.log": long_line, "latin1.log": latin1}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)

    result = run_cli("anonymise", *(str(tmp_path / name) for name in files))

    assert result.returncode == 0, result.stderr
    for name, content in files.items():
        out = (tmp_path / name).read_bytes()
        assert out == expected(content)
        assert len(out.split(b"\n")) == len(content.split(b"\n"))
    assert (tmp_path / "garbage.log").read_bytes().endswith(b" 203.0.113.0 \x00\xff\n")
    assert b" 198.51.100.0 " in (tmp_path / "long.log").read_bytes()
    assert (tmp_path / "latin1.log").read_bytes().startswith(b"192.0.2.0 - - ")
    assert b"/caf\xe9" in (tmp_path / "latin1.log").read_bytes()


def test_truncated_gzip_and_missing_file_fail_but_others_are_done(tmp_path: Path, run_cli) -> None:
    truncated = tmp_path / "broken.log.gz"
    packed = gzip.compress(many_lines(2000))
    truncated.write_bytes(packed[: len(packed) // 2])
    good = tmp_path / "good.log"
    good.write_bytes(many_lines(10))
    missing = tmp_path / "vanished.log"

    result = run_cli("anonymise", str(truncated), str(missing), str(good))

    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"{truncated}: truncated gzip file" in stderr
    assert f"{missing}: file not found" in stderr
    assert "2 of 3 files failed" in stderr
    assert truncated.read_bytes() == packed[: len(packed) // 2]  # untouched
    assert good.read_bytes() == expected(many_lines(10))
    assert leftovers(tmp_path) == []


def test_file_that_cannot_be_written(tmp_path: Path, run_cli) -> None:
    """A write error (here: the file-size limit, which also holds for root) leaves the
    original untouched, names the file and still processes the others."""
    big = tmp_path / "big.log"
    big.write_bytes(many_lines(3000))
    small = tmp_path / "small.log"
    small.write_bytes(many_lines(5))
    original = big.read_bytes()

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = run_cli("anonymise", str(big), str(small), preexec_fn=limit_file_size)

    assert result.returncode == 1
    assert f"{big}: cannot rewrite" in result.stderr.decode()
    assert big.read_bytes() == original
    assert small.read_bytes() == expected(many_lines(5))
    assert leftovers(tmp_path) == []


def test_directory_is_rejected_by_name(tmp_path: Path, run_cli) -> None:
    result = run_cli("anonymise", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path}: not a regular file" in result.stderr.decode()


def test_user_agent_options(tmp_path: Path, run_cli) -> None:
    log = tmp_path / "a.log"
    log.write_text(combined_line("203.0.113.1", agent=CHROME))
    run_cli("anonymise", "--keep-user-agent", "--ipv4-prefix", "16", str(log))
    assert log.read_text() == combined_line("203.0.0.0", agent=CHROME)
    run_cli("anonymise", str(log))
    assert log.read_text().endswith('"Chrome 120 / Windows 10 / pc"\n')
    bad = run_cli("anonymise", "--ipv4-prefix", "40", str(log))
    assert bad.returncode == 2
    assert b"prefix" in bad.stderr


def test_file_vanishing_or_growing_meanwhile_is_left_alone(tmp_path: Path) -> None:
    """Deleted or appended to while being processed: no rename, nothing resurrected or lost."""
    from logrotate.files import LogFileError, anonymise_file

    doomed = tmp_path / "doomed.log"
    doomed.write_bytes(many_lines(20_000))
    growing = tmp_path / "growing.log"
    growing.write_bytes(many_lines(20_000))
    extra = combined_line("192.0.2.99").encode()

    def append_once(done: int) -> None:
        if growing.stat().st_size == len(many_lines(20_000)):
            with growing.open("ab") as handle:
                handle.write(extra)

    for path, during, message in (
        (doomed, lambda done: doomed.unlink(missing_ok=True), "file vanished while"),
        (growing, append_once, "file changed while"),
    ):
        try:
            anonymise_file(path, LogMasker(), during)
        except LogFileError as error:
            assert str(error).startswith(f"{path}: {message}")
        else:
            raise AssertionError("no error")
    assert not doomed.exists()
    assert growing.read_bytes() == many_lines(20_000) + extra
    assert leftovers(tmp_path) == []
