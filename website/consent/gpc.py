"""Global Privacy Control: the ``Sec-GPC`` request header (W3C GPC), honoured without state.

A GPC refusal needs no proof, so a GPC page view stores nothing about the visitor. The only
trace is an aggregate number per UTC day (no personal data): page views are counted in memory
and a background thread of each process adds them to the store now and then, so that no GET
request ever waits for, or causes, a database write of its own.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

from werkzeug.datastructures import Headers

#: Seconds between two flushes of the in-memory counts (``GPC_FLUSH_SECONDS``; 0: no thread,
#: only explicit :meth:`GpcViewCounter.flush` calls and the one at exit).
FLUSH_EVERY = 60.0


def gpc_enabled(headers: Headers) -> bool:
    """True only when a ``Sec-GPC`` value is exactly ``1``.

    Repeated headers reach WSGI joined with commas; one ``1`` among them is enough.
    """
    return any(
        part.strip() == "1" for value in headers.getlist("Sec-GPC") for part in value.split(",")
    )


class GpcViewCounter:
    """GPC-honoured page views per UTC day, counted in memory and flushed by :meth:`flush`."""

    def __init__(self, flush_every: float = FLUSH_EVERY) -> None:
        self.flush_every = flush_every
        self._lock = threading.Lock()
        self._counts: Counter[date] = Counter()
        self._flusher_pid: int | None = None
        self.flush_to: Callable[[dict[date, int]], None] | None = None

    def count(self, day: date | None = None) -> None:
        with self._lock:
            self._counts[day or datetime.now(UTC).date()] += 1
            start = self.flush_to is not None and self._flusher_pid != os.getpid()
            if start:
                self._flusher_pid = os.getpid()  # one thread per process, started after fork
        if start:
            atexit.register(self.flush)
            if self.flush_every > 0:
                threading.Thread(target=self._run, name="gpc-view-flush", daemon=True).start()

    def pending(self) -> dict[date, int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """Hand the counts to ``flush_to``; on failure they are kept for the next try."""
        if self.flush_to is None:
            return
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        if not counts:
            return
        try:
            self.flush_to(counts)
        except Exception:
            with self._lock:
                self._counts.update(counts)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.flush_every):
            self.flush()
