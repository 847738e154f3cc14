"""Group commit: the writes of concurrent requests share one transaction and one fsync.

A commit on SQLite (``synchronous=FULL``) waits for the disk, and one on PostgreSQL costs a round
trip and a WAL flush; one commit per receipt caps a whole server at a few hundred receipts a
second, however many threads wait. Here every request queues its item, and whichever thread
holds the writer's lock (the *leader*) takes everything queued so far and writes it in one batch;
the threads that arrived meanwhile wait for that batch or lead the next one. Nobody is answered
before the batch holding their item has committed, so an acknowledged write is a durable write,
exactly as with one transaction per request.

There is no background thread: the leader is always a request that has something to write, so
nothing is left over after a fork, and a batch never outlives the requests waiting for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from .errors import StorageUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")

#: A batch never holds more than this many items (the threads of one process bound it anyway).
MAX_BATCH = 64


class _Slot(Generic[Item, Result]):
    __slots__ = ("item", "result", "error", "done")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class GroupCommit(Generic[Item, Result]):
    """Runs ``write(items)`` for batches of items submitted by concurrent threads.

    ``write`` returns one result per item, in order; a result that is an exception is raised in
    the thread that submitted that item (one failed item need not fail its batch), and an
    exception raised by ``write`` itself is raised in every thread of the batch.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Sequence[Result | BaseException]],
        wait_timeout: float,
    ) -> None:
        self._write = write
        #: Seconds a thread waits to lead a batch before it gives up (its item unwritten).
        self._wait_timeout = wait_timeout
        self._queue: list[_Slot[Item, Result]] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Write ``item`` in the next batch and return its result once that batch committed.

        Raises :class:`StorageUnavailable` when the writer stays busy for ``wait_timeout``
        seconds; the item is then not written (it was still queued, so it is withdrawn).
        """
        slot: _Slot[Item, Result] = _Slot(item)
        with self._queue_lock:
            self._queue.append(slot)
        if self._writer.acquire(timeout=self._wait_timeout):
            try:
                # The previous leader may have written our item already; if not, it is queued.
                while not slot.done.is_set():
                    self._run_batch()
            finally:
                self._writer.release()
        else:
            with self._queue_lock:
                queued = any(s is slot for s in self._queue)
                if queued:
                    self._queue.remove(slot)
            if queued:
                raise StorageUnavailable("the receipt database is busy: try again shortly")
            slot.done.wait()  # a leader took it and is writing it now
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _run_batch(self) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            results = self._write([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError("a batch write must return one result per item")
        except BaseException as exc:  # every waiter of this batch learns why
            results = [exc] * len(batch)
        for slot, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                slot.error = result
            else:
                slot.result = result
            slot.done.set()
