"""Reading plain and gzip logs, and rewriting a file atomically in place.

A rewrite goes to a temporary file in the same folder, is flushed and fsynced, gets the
original mode, owner and times, and is renamed over the original (then the folder is fsynced).
A crash at any point leaves either the untouched original or the complete new file; a stale
temporary file from a killed run is removed by the next run on the same file.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def is_gzip(path: str | Path) -> bool:
    """Decided by the magic bytes, not the name (rotated files are not always named .gz)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def read_chunks(path: str | Path, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Raw chunks of a plain or gzip file's content; ``progress`` gets compressed bytes read."""
    with open(path, "rb") as raw:
        if raw.read(2) == _GZIP_MAGIC:
            raw.seek(0)
            stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        else:
            raw.seek(0)
            stream = raw
        try:
            while chunk := stream.read(READ_SIZE):
                if progress is not None:
                    progress(raw.tell())
                yield chunk
        except EOFError as error:
            raise LogFileError(f"{path}: truncated gzip file ({error})") from error
        except (gzip.BadGzipFile, zlib.error) as error:
            raise LogFileError(f"{path}: corrupt gzip file ({error})") from error


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
    if (now.st_ino, now.st_size, now.st_mtime_ns) != (
        original.st_ino,
        original.st_size,
        original.st_mtime_ns,
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


def anonymise_file(
    path: str | Path,
    masker: LogMasker,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Mask one plain or gzip log in place. Raises ``LogFileError`` naming the file.

    If masking changes nothing the file is left untouched (``changed`` is false), which makes
    a second run a no-op, also for gzip files whose bytes would differ after recompression.
    """
    path = Path(path)
    try:
        original = os.stat(path)
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file not found (vanished?)") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot read: {error.strerror}") from error
    if not path.is_file():
        raise LogFileError(f"{path}: not a regular file")
    _remove_stale_temps(path)
    before = masker.masked
    temp = None
    try:
        compressed = is_gzip(path)
        fd, temp = _open_temp(path)
        lines = 0
        changed = False
        with os.fdopen(fd, "wb") as raw:
            sink: BinaryIO = raw
            if compressed:
                sink = gzip.GzipFile(  # type: ignore[assignment]
                    filename="", fileobj=raw, mode="wb", mtime=int(original.st_mtime)
                )
            for block in iter_blocks(read_chunks(path, progress)):
                out = masker.process(block)
                lines += out.count(b"\n")
                if out != block:
                    changed = True
                sink.write(out)
            if sink is not raw:
                sink.close()
            raw.flush()
            if changed:
                os.fsync(raw.fileno())
        if changed:
            _check_unchanged(path, original)
            _replace(temp, path, original)
        else:
            os.unlink(temp)
        temp = None
        return FileResult(str(path), changed, lines, masker.masked - before, original.st_size)
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
