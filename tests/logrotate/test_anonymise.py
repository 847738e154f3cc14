"""``python -m logrotate anonymise`` on real files: in place, atomic, idempotent, bad input,
symbolic and hard links, gzip files as ``gzip -d`` reads them (compared with GNU gzip)."""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import signal
import subprocess
import zlib
from pathlib import Path

import pytest

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


# --- Which file is rewritten: symbolic links and hard links -----------------------------------


def test_symlink_rewrites_its_target_and_stays_a_link(tmp_path: Path, run_cli) -> None:
    """Before: the link was replaced by a masked copy and the real log kept raw addresses."""
    real = tmp_path / "real"
    real.mkdir()
    links = tmp_path / "links"
    links.mkdir()
    data = many_lines(200)
    plain = real / "access.log.1"
    plain.write_bytes(data)
    packed = real / "access.log.2.gz"
    packed.write_bytes(gzip.compress(data))
    absolute = links / "absolute.log"
    absolute.symlink_to(plain)
    relative = links / "relative.log.gz"
    relative.symlink_to(Path("..") / "real" / packed.name)
    chained = links / "chained.log"
    chained.symlink_to(absolute)

    result = run_cli("anonymise", str(absolute), str(relative))

    assert result.returncode == 0, result.stderr
    assert plain.read_bytes() == expected(data)
    assert gzip.decompress(packed.read_bytes()) == expected(data)
    assert os.readlink(absolute) == str(plain)
    assert os.readlink(relative) == str(Path("..") / "real" / packed.name)
    assert f"{absolute} -> {plain}: anonymised 200 lines".encode() in result.stdout
    assert leftovers(real) == [] and leftovers(links) == []

    again = run_cli("anonymise", str(chained))
    assert again.returncode == 0, again.stderr
    assert f"{chained} -> {plain}: already anonymised".encode() in again.stdout
    assert chained.is_symlink() and os.readlink(chained) == str(absolute)


def test_dangling_and_looping_symlinks_fail_by_name(tmp_path: Path, run_cli) -> None:
    dangling = tmp_path / "dangling.log"
    dangling.symlink_to(tmp_path / "gone.log")
    loop_a, loop_b = tmp_path / "a.log", tmp_path / "b.log"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    to_folder = tmp_path / "folder.log"
    to_folder.symlink_to(tmp_path)

    result = run_cli("anonymise", str(dangling), str(loop_a), str(to_folder))

    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"{dangling}: symbolic link to a file that does not exist" in stderr
    assert f"{loop_a}: cannot follow symbolic link" in stderr
    assert f"{to_folder}: not a regular file" in stderr
    assert "3 of 3 files failed" in stderr
    assert dangling.is_symlink() and loop_a.is_symlink() and to_folder.is_symlink()


def test_hard_linked_file_is_refused_whole_or_left_alone(tmp_path: Path, run_cli) -> None:
    """Renaming over one name would leave the other name raw: refused, nothing changed."""
    data = many_lines(300)
    first = tmp_path / "access.log.1"
    first.write_bytes(data)
    second = tmp_path / "copy-for-ticket.log"
    os.link(first, second)
    other = tmp_path / "other.log"
    other.write_bytes(data)
    inode = first.stat().st_ino

    result = run_cli("anonymise", str(first), str(other))

    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"{first}: has 2 hard links; left as it was" in stderr
    assert f"find / -xdev -samefile {first}" in stderr
    assert "1 of 2 files failed" in stderr
    assert first.stat().st_ino == second.stat().st_ino == inode
    assert first.stat().st_nlink == 2
    assert first.read_bytes() == data == second.read_bytes()
    assert other.read_bytes() == expected(data)  # the others are still done
    assert leftovers(tmp_path) == []

    # Through a symbolic link: the same refusal, naming the link and its target.
    link = tmp_path / "link.log"
    link.symlink_to(second)
    via_link = run_cli("anonymise", str(link))
    assert via_link.returncode == 1
    assert f"{link} (-> {second}): has 2 hard links" in via_link.stderr.decode()

    # The other side: once one name is gone the file is rewritten; a hard-linked file
    # that needs no change is accepted as it is.
    second.unlink()
    assert run_cli("anonymise", str(first)).returncode == 0
    assert first.read_bytes() == expected(data)
    os.link(first, second)
    clean = run_cli("anonymise", str(first))
    assert clean.returncode == 0, clean.stderr
    assert b"already anonymised, nothing changed" in clean.stdout
    assert first.stat().st_ino == second.stat().st_ino


def test_hard_link_added_while_processing_is_not_broken(tmp_path: Path) -> None:
    from logrotate.files import LogFileError, anonymise_file

    log = tmp_path / "access.log.1"
    log.write_bytes(many_lines(20_000))
    twin = tmp_path / "twin.log"

    def link_once(done: int) -> None:
        if not twin.exists():
            os.link(log, twin)

    try:
        anonymise_file(log, LogMasker(), link_once)
    except LogFileError as error:
        assert "file changed while being processed" in str(error)
    else:
        raise AssertionError("no error")
    assert log.read_bytes() == twin.read_bytes() == many_lines(20_000)
    assert leftovers(tmp_path) == []


def deflate(data: bytes, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate, no gzip framing
    return packer.compress(data) + packer.flush()


def test_gzip_is_rewritten_at_level_6(tmp_path: Path, run_cli) -> None:
    """gzip's own default, as logrotate(8)'s compress writes it; 9 cost 1.4x the time for 7 %
    (docs/log-anonymiser.md). The rewritten member is exactly zlib's level-6 stream of the
    masked lines (10-byte header without a name, 8-byte trailer), not the level-9 one."""
    data = many_lines(3000)
    packed = tmp_path / "access.log.2.gz"
    packed.write_bytes(gzip.compress(data, compresslevel=1))

    result = run_cli("anonymise", str(packed))

    assert result.returncode == 0, result.stderr
    written = packed.read_bytes()
    masked = expected(data)
    assert gzip.decompress(written) == masked
    assert written[3] == 0 and written[8] == 0  # no name; XFL 0 (2 would say level 9)
    assert written[10:-8] == deflate(masked, 6)
    assert deflate(masked, 6) != deflate(masked, 9)


# --- gzip files as gzip -d reads them ----------------------------------------------------------


def gunzip(path: Path) -> subprocess.CompletedProcess[bytes]:
    """The reference: GNU gzip's own reading of the file."""
    gzip_tool = shutil.which("gzip")
    assert gzip_tool, "gzip(1) is part of every Debian system"
    return subprocess.run([gzip_tool, "-dc", str(path)], capture_output=True, timeout=60)


def test_trailing_garbage_is_ignored_with_a_warning_like_gzip(tmp_path: Path, run_cli) -> None:
    """Before: the file was refused as corrupt and kept its raw addresses (and the raw lines
    someone appended uncompressed)."""
    data = many_lines(100)
    log = tmp_path / "access.log.2.gz"
    appended = combined_line("203.0.113.200").encode()
    log.write_bytes(gzip.compress(data[:5000]) + gzip.compress(data[5000:]) + appended)
    reference = gunzip(log)
    assert reference.returncode == 2  # gzip: "decompression OK, trailing garbage ignored"
    assert b"trailing garbage ignored" in reference.stderr
    assert reference.stdout == data

    result = run_cli("anonymise", str(log))

    assert result.returncode == 0, result.stderr
    assert (
        f"logrotate: warning: {log}: decompression OK, {len(appended)} bytes of trailing "
        "garbage after the last gzip member ignored (as gzip -d does)"
    ).encode() in result.stderr
    after = gunzip(log)
    assert after.returncode == 0 and after.stderr == b""  # a clean gzip file now
    assert after.stdout == expected(reference.stdout)
    assert b"203.0.113.200" not in log.read_bytes()
    assert leftovers(tmp_path) == []
    again = run_cli("anonymise", str(log))
    assert b"already anonymised" in again.stdout and again.stderr == b""


def test_garbage_alone_makes_a_clean_gzip_change(tmp_path: Path, run_cli) -> None:
    """Members that need no masking, followed by raw text: the rewrite drops the text."""
    clean = expected(many_lines(20))
    log = tmp_path / "access.log.3.gz"
    log.write_bytes(gzip.compress(clean) + b"client 198.51.100.23 raw\n")

    result = run_cli("anonymise", str(log))

    assert result.returncode == 0, result.stderr
    assert b"trailing garbage" in result.stderr
    assert gunzip(log).stdout == clean
    assert b"198.51.100.23" not in log.read_bytes()


@pytest.mark.parametrize(
    ("tail", "gzip_status"),
    [(b"", 0), (b"\0" * 1000, 0)],
    ids=["multi-member", "multi-member-zero-padded"],
)
def test_multi_member_gzip_every_member_is_masked(
    tmp_path: Path, run_cli, tail: bytes, gzip_status: int
) -> None:
    parts = [many_lines(50), many_lines(30), b"", many_lines(40)]
    log = tmp_path / "access.log.4.gz"
    log.write_bytes(b"".join(gzip.compress(part) for part in parts) + tail)
    reference = gunzip(log)
    assert reference.returncode == gzip_status and reference.stderr == b""

    result = run_cli("anonymise", str(log))

    assert result.returncode == 0, result.stderr
    assert result.stderr == b""  # zero padding is no garbage, for gzip neither
    assert gzip.decompress(log.read_bytes()) == expected(reference.stdout)
    assert b"anonymised 120 lines" in result.stdout


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"\x1f\x8bjunk after the magic", "corrupt gzip file"),
        (b"\x1f", "truncated gzip file"),
        (gzip.compress(b"198.51.100.9 cut\n")[:-6], "truncated gzip file"),
    ],
    ids=["bad-second-header", "half-a-magic", "cut-second-member"],
)
def test_broken_later_member_fails_like_gzip_and_leaves_the_file(
    tmp_path: Path, run_cli, tail: bytes, message: str
) -> None:
    log = tmp_path / "access.log.5.gz"
    content = gzip.compress(many_lines(10)) + tail
    log.write_bytes(content)
    assert gunzip(log).returncode == 1  # gzip -d: an error, not a warning

    result = run_cli("anonymise", str(log))

    assert result.returncode == 1
    assert f"{log}: {message}".encode() in result.stderr
    assert log.read_bytes() == content
    assert leftovers(tmp_path) == []


def test_scan_does_not_pass_over_trailing_garbage(tmp_path: Path, run_cli) -> None:
    """``scan`` reads every byte: garbage it cannot check makes it fail until anonymised."""
    log = tmp_path / "access.log.2.gz"
    log.write_bytes(gzip.compress(expected(many_lines(5))) + b"192.0.2.77 appended\n")
    before = run_cli("scan", str(tmp_path))
    assert before.returncode == 1
    assert b"trailing garbage" in before.stderr
    assert run_cli("anonymise", str(log)).returncode == 0
    after = run_cli("scan", str(tmp_path))
    assert after.returncode == 0, after.stdout + after.stderr
