"""Reading plain and gzip logs, and rewriting a file atomically in place.

A rewrite goes to a temporary file in the same folder, is flushed and fsynced, gets the
original mode, owner and times, and is renamed over the original (then the folder is fsynced).
A crash at any point leaves either the untouched original or the complete new file; a stale
temporary file from a killed run is removed by the next run on the same file.

Which file is rewritten: a symbolic link is followed and its target is rewritten (the link
stays a link, so the real log does not keep its raw addresses). A file with several hard links
is refused when it would change: the rename gives one name the new content and leaves the
other names on the raw one, and rewriting the inode in place could be left half done.

gzip files are read as ``gzip -d`` reads them: every member of a multi-member file, trailing
zero bytes ignored, anything else after the last member ignored with a warning (and dropped
when the file is rewritten), a truncated or corrupt member an error.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .lines import LogMasker, iter_blocks

__all__ = [
    "FileResult",
    "LogFileError",
    "anonymise_file",
    "atomic_write_bytes",
    "is_gzip",
    "read_chunks",
    "temp_name_prefix",
]

READ_SIZE = 1 << 18
_GZIP_MAGIC = b"\x1f\x8b"
_TEMP_SUFFIX = ".tmp"


class LogFileError(Exception):
    """A problem with one file; the message names the file."""


@dataclass
class FileResult:
    path: str
    changed: bool
    lines: int
    masked: int
    size: int
    target: str = ""  # the file rewritten: ``path``, or a symbolic link's target
    warnings: list[str] = field(default_factory=list)


def is_gzip(path: str | Path) -> bool:
    """Decided by the magic bytes, not the name (rotated files are not always named .gz)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def read_chunks(
    path: str | Path,
    progress: Callable[[int], None] | None = None,
    trailing_garbage: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Raw chunks of a plain or gzip file's content; ``progress`` gets compressed bytes read.

    Bytes after the last gzip member that are not zeros are passed over as ``gzip -d`` does
    when ``trailing_garbage`` is given (it is called with their count); without it they are
    an error, so that a reader that must see every byte (``scan``) does not miss them.
    """
    with open(path, "rb") as raw:
        if raw.read(2) != _GZIP_MAGIC:
            raw.seek(0)
            while chunk := raw.read(READ_SIZE):
                if progress is not None:
                    progress(raw.tell())
                yield chunk
            return
        raw.seek(0)
        yield from _gunzip(raw, path, progress, trailing_garbage)


def _gunzip(
    raw: BinaryIO,
    path: str | Path,
    progress: Callable[[int], None] | None,
    trailing_garbage: Callable[[int], None] | None,
) -> Iterator[bytes]:
    """Every member's content, in chunks of at most READ_SIZE (memory stays flat)."""
    member = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer (CRC-32, size)
    started = False
    data = b""
    while True:
        if not data:
            data = raw.read(READ_SIZE)
            if progress is not None:
                progress(raw.tell())
            if not data:
                if started:
                    raise LogFileError(f"{path}: truncated gzip file (the last member is cut off)")
                return
        try:
            out = member.decompress(data, READ_SIZE)
        except zlib.error as error:
            raise LogFileError(f"{path}: corrupt gzip file ({error})") from error
        started = True
        data = member.unconsumed_tail
        if out:
            yield out
        if not member.eof:
            continue
        rest = member.unused_data
        while len(rest) < 2 and (more := raw.read(READ_SIZE)):
            rest += more
        if not rest:
            return
        if rest[:2] == _GZIP_MAGIC or rest == _GZIP_MAGIC[:1]:
            member, started, data = zlib.decompressobj(wbits=31), False, rest
            continue
        size, zeros = len(rest), not rest.strip(b"\0")
        while more := raw.read(READ_SIZE):
            size += len(more)
            zeros = zeros and not more.strip(b"\0")
        if zeros:
            return
        if trailing_garbage is None:
            raise LogFileError(f"{path}: corrupt gzip file ({size} bytes of trailing garbage)")
        trailing_garbage(size)
        return


def temp_name_prefix(path: str | Path) -> str:
    return f".{Path(path).name}.anon-"


def _remove_stale_temps(path: Path) -> None:
    prefix = temp_name_prefix(path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            if entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_temp(path: Path) -> tuple[int, str]:
    for attempt in range(100):
        name = path.parent / f"{temp_name_prefix(path)}{os.getpid()}-{attempt}{_TEMP_SUFFIX}"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(name)
        except FileExistsError:
            continue
    raise OSError(f"cannot create a temporary file next to {path}")


def _replace(temp: str, path: Path, original: os.stat_result | None) -> None:
    """Give ``temp`` the original's metadata, then rename it over ``path``."""
    if original is not None:
        os.chmod(temp, original.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):  # not root: the owner stays ours
            os.chown(temp, original.st_uid, original.st_gid)
        os.utime(temp, ns=(original.st_atime_ns, original.st_mtime_ns))
    os.replace(temp, path)
    _fsync_dir(path.parent)


def _check_unchanged(path: Path, original: os.stat_result) -> None:
    """Refuse to rename over a file that was replaced, deleted or appended to meanwhile:
    the new lines would be lost (a live log must be rotated first)."""
    try:
        now = os.stat(path)
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file vanished while being processed") from error
    if (now.st_ino, now.st_size, now.st_mtime_ns, now.st_nlink) != (
        original.st_ino,
        original.st_size,
        original.st_mtime_ns,
        original.st_nlink,
    ):
        raise LogFileError(
            f"{path}: file changed while being processed (still being written?); left as it was"
        )


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a small file (state, reports) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _open_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        _replace(temp, path, None)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _resolve(path: Path) -> Path:
    """The file to rewrite: ``path`` itself, or the file its symbolic links lead to."""
    if not path.is_symlink():
        return path
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: symbolic link to a file that does not exist") from error
    except (OSError, RuntimeError) as error:  # a loop of links
        raise LogFileError(f"{path}: cannot follow symbolic link ({error})") from error
    return target


def _hard_link_error(path: Path, target: Path, links: int) -> LogFileError:
    name = f"{path} (-> {target})" if path != target else str(path)
    return LogFileError(
        f"{name}: has {links} hard links; left as it was, because rewriting it would leave "
        f"the other names with the raw addresses. Find them with `find / -xdev -samefile "
        f"{target}`, remove all but one, then run again"
    )


# zlib level of a rewritten gzip file: gzip's and logrotate(8)'s own default. Level 9 took
# 1.43x the time of the whole rewrite (1.86x the compression alone) for a 7.4 % smaller file
# (bench/gzip_level.py, 1M generated lines; docs/log-anonymiser.md, "gzip level").
GZIP_LEVEL = 6


def anonymise_file(
    path: str | Path,
    masker: LogMasker,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Mask one plain or gzip log in place. Raises ``LogFileError`` naming the file.

    If masking changes nothing the file is left untouched (``changed`` is false), which makes
    a second run a no-op, also for gzip files whose bytes would differ after recompression.
    A symbolic link's target is rewritten; a hard-linked file that would change is refused.
    ``masker`` may be shared by several files: each starts with no IIS layout known.
    """
    path = Path(path)
    try:
        os.lstat(path)
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file not found (vanished?)") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot read: {error.strerror}") from error
    target = _resolve(path)
    try:
        original = os.stat(target)
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file not found (vanished?)") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot read: {error.strerror}") from error
    if not stat.S_ISREG(original.st_mode):
        raise LogFileError(f"{path}: not a regular file")
    _remove_stale_temps(target)
    masker.start_file()  # this file's own #Fields: line (or none), not the previous file's
    before = masker.masked
    warnings: list[str] = []

    def garbage(size: int) -> None:
        warnings.append(
            f"{path}: decompression OK, {size} bytes of trailing garbage after the last gzip "
            "member ignored (as gzip -d does) and dropped from the rewritten file"
        )

    temp = None
    try:
        compressed = is_gzip(target)
        fd, temp = _open_temp(target)
        lines = 0
        changed = False
        with os.fdopen(fd, "wb") as raw:
            sink: BinaryIO = raw
            if compressed:
                sink = gzip.GzipFile(  # type: ignore[assignment]
                    filename="",
                    fileobj=raw,
                    mode="wb",
                    mtime=int(original.st_mtime),
                    compresslevel=GZIP_LEVEL,
                )
            for block in iter_blocks(read_chunks(target, progress, garbage)):
                out = masker.process(block)
                lines += out.count(b"\n")
                if out != block:
                    changed = True
                sink.write(out)
            if sink is not raw:
                sink.close()
            # Trailing garbage can hold anything (often raw lines appended to a .gz file):
            # the rewrite drops it, so the file changes even if its members needed nothing.
            changed = changed or bool(warnings)
            raw.flush()
            if changed:
                os.fsync(raw.fileno())
        if changed:
            if original.st_nlink > 1:
                raise _hard_link_error(path, target, original.st_nlink)
            _check_unchanged(target, original)
            _replace(temp, target, original)
        else:
            os.unlink(temp)
        temp = None
        return FileResult(
            str(path),
            changed,
            lines,
            masker.masked - before,
            original.st_size,
            target=str(target),
            warnings=warnings,
        )
    except LogFileError:
        raise
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file vanished while being processed") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot rewrite: {error.strerror or error}") from error
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
