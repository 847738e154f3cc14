"""Delete logs whose newest entry is older than N days, except under an active hold."""

from __future__ import annotations

import math
import os
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import clock
from .files import LogFileError, read_chunks
from .holds import Hold

__all__ = [
    "MIN_DAYS",
    "PurgeError",
    "PurgeResult",
    "check_days",
    "is_log_name",
    "newest_entry",
    "purge",
]

# Logs are rotated daily, so the file a server is writing can hold nothing newer than a few
# hours on a quiet site: an age limit under one day (0, or negative) would delete it.
MIN_DAYS = 1


class PurgeError(ValueError):
    """A purge that must not run (the message says why)."""


def check_days(days: object) -> float:
    """The age limit as a float, or ``PurgeError``: a finite number of at least MIN_DAYS."""
    if isinstance(days, bool) or not isinstance(days, int | float):
        raise PurgeError(f"days must be a number, got {days!r}")
    if not math.isfinite(days) or days < MIN_DAYS:
        raise PurgeError(
            f"days must be at least {MIN_DAYS} (got {days:g}): a shorter limit would delete "
            "the log the server is writing"
        )
    return float(days)


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# Time stamps of the common formats: combined ([10/Oct/2023:13:55:36 +0000]), ISO 8601 (JSON
# logs), nginx error logs (2023/10/10 13:55:36, local time) and Apache error logs
# ([Tue Oct 10 13:55:36.123 2023], local time).
_COMBINED = re.compile(rb"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\]")
_ISO = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?"
)
_NGINX_ERROR = re.compile(rb"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_APACHE_ERROR = re.compile(
    rb"\[\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4})\]"
)
_LOG_NAME = re.compile(r"[._-]log\b|\.gz\Z|\.\d+\Z|-\d{8}\Z")
_TAIL_LINES = 50


@dataclass
class PurgeResult:
    path: str
    newest: datetime
    source: str  # "entry" or "mtime"
    deleted: bool
    hold: Hold | None = None
    error: str | None = None


def is_log_name(name: str) -> bool:
    """Which files in a log folder the job looks at (hidden and temporary files never)."""
    return not name.startswith(".") and bool(_LOG_NAME.search(name))


def _local(*parts: int) -> datetime:
    return datetime(*parts).astimezone(UTC)


def _parse_line(line: bytes) -> datetime | None:
    try:
        if match := _COMBINED.search(line):
            day, month, year, hour, minute, second, sign, zh, zm = match.groups()
            offset = timedelta(hours=int(zh), minutes=int(zm)) * (1 if sign == b"+" else -1)
            stamp = datetime(
                int(year), _MONTHS[month.decode()], int(day), int(hour), int(minute), int(second)
            )
            return (stamp - offset).replace(tzinfo=UTC)
        if match := _ISO.search(line):
            *numbers, zone = match.groups()
            stamp = datetime(*map(int, numbers))
            if zone is None:
                return stamp.astimezone(UTC)
            text = zone.decode().replace("Z", "+00:00")
            if len(text) == 5:
                text = text[:3] + ":" + text[3:]
            return datetime.fromisoformat(stamp.isoformat() + text).astimezone(UTC)
        if match := _NGINX_ERROR.search(line):
            return _local(*map(int, match.groups()))
        if match := _APACHE_ERROR.search(line):
            month, day, hour, minute, second, year = match.groups()
            return _local(
                int(year), _MONTHS[month.decode()], int(day), int(hour), int(minute), int(second)
            )
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
    return None


def newest_entry(path: str | Path) -> datetime | None:
    """The latest time stamp among the last lines of a plain or gzip log, or ``None``."""
    tail: deque[bytes] = deque(maxlen=_TAIL_LINES + 1)
    plain_size = os.path.getsize(path)
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if not gzipped and plain_size > 1 << 16:
        with open(path, "rb") as handle:
            handle.seek(plain_size - (1 << 16))
            tail.extend(handle.read().split(b"\n")[1:])
    else:
        pending = b""
        # Trailing garbage after a gzip's members does not hide its newest entry.
        for chunk in read_chunks(path, trailing_garbage=lambda size: None):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            tail.extend(lines)
        tail.append(pending)
    stamps = [stamp for line in tail if (stamp := _parse_line(line[:4096])) is not None]
    return max(stamps) if stamps else None


def purge(
    folders: list[str],
    days: float,
    holds: list[Hold],
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[PurgeResult]:
    """Look at the log files directly in ``folders``; delete the old ones (unless ``dry_run``).

    Returns one result per file that is old enough, whether deleted, kept under a hold or
    failed. Files that are recent enough are not reported.
    """
    days = check_days(days)  # before anything is looked at, let alone deleted
    now = now or clock.now()
    cutoff = now - timedelta(days=days)
    results: list[PurgeResult] = []
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            results.append(
                PurgeResult(folder, now, "mtime", False, error=f"{folder}: {error.strerror}")
            )
            continue
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or not is_log_name(entry.name):
                continue
            results.extend(_consider(entry.path, cutoff, holds, dry_run, now))
    return results


def _consider(
    path: str, cutoff: datetime, holds: list[Hold], dry_run: bool, now: datetime
) -> list[PurgeResult]:
    try:
        newest = newest_entry(path)
        source = "entry"
        if newest is None:
            newest = datetime.fromtimestamp(os.path.getmtime(path), UTC)
            source = "mtime"
    except FileNotFoundError:
        return []  # gone already: nothing to delete
    except (OSError, LogFileError) as error:
        # Unreadable (e.g. truncated gzip): fall back to its modification time.
        try:
            newest = datetime.fromtimestamp(os.path.getmtime(path), UTC)
        except OSError:
            return [PurgeResult(path, now, "mtime", False, error=f"{path}: {error}")]
        source = "mtime"
    if newest >= cutoff:
        return []
    local_now = now.astimezone().replace(tzinfo=None)  # holds end at local midnight
    hold = next((h for h in holds if h.active(local_now) and h.covers(path)), None)
    if hold is not None:
        return [PurgeResult(path, newest, source, False, hold=hold)]
    if not dry_run:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return []
        except OSError as error:
            return [PurgeResult(path, newest, source, False, error=f"{path}: {error.strerror}")]
    return [PurgeResult(path, newest, source, not dry_run)]
