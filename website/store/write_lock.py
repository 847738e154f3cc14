"""One writer of receipts at a time per SQLite file, across processes, handed over at once.

SQLite lets one transaction write at a time; another process that wants to write meanwhile
finds the file locked and retries from its busy handler, which sleeps 1, 2, 5, 10, ... up to
100 ms between tries. With two gunicorn workers recording decisions, each one's writer mostly
slept in that handler while the disk was free (bench/site.py: POST /consent on SQLite at a
third of PostgreSQL's rate). The writers of the group commit therefore take an ``flock`` on a
file beside the database first: a waiting writer gets it within a fraction of a millisecond
of its release, and the kernel releases it when a process dies, even by kill -9.

It only orders the app's own receipt writes; SQLite's locking still guarantees correctness
for every writer (the CLI's purge or seal do not take it).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StorageUnavailable

#: Seconds between two tries while another process writes.
POLL_S = 0.0002


class WriteLock:
    """``flock`` on ``<database>.write-lock``, opened lazily once per process."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}.write-lock")
        self._fd = -1
        self._pid = 0

    def _open(self) -> int:
        if self._pid != os.getpid():  # never share an open file (and its lock) with a fork
            if self._fd >= 0:
                os.close(self._fd)  # the parent's copy: closing it here leaves its lock alone
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        """Hold the lock; :class:`StorageUnavailable` when it stays taken ``timeout`` s."""
        try:
            fd = self._open()
        except OSError as exc:
            raise StorageUnavailable(f"cannot open the write lock {self.path}: {exc}") from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageUnavailable("the receipt database stays locked") from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._pid == os.getpid() and self._fd >= 0:
            os.close(self._fd)
        self._fd, self._pid = -1, 0
