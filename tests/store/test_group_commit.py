"""Group commit: concurrent receipts share one transaction, and each thread is answered only
with what its own batch committed.

The batching rule is tested on :class:`GroupCommit` with a write function the test controls
(deterministic: the first batch waits until the other threads have queued), then on the real
store on SQLite and PostgreSQL: many threads, retries among them, a retry stored by another
process in between, and a database that fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from tests.consent.test_storage import make_receipt
from website.store import open_store
from website.store.errors import StorageUnavailable
from website.store.group_commit import GroupCommit

THREADS = 12


def wait_until(condition, seconds: float = 10.0) -> None:
    """Wait for a condition another thread brings about (bounded, never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


def run_threads(target, count: int) -> list:
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = target(index)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_items_queued_while_a_batch_commits_share_the_next_batch():
    batches: list[list[int]] = []
    first_started = threading.Event()

    def write(items: Sequence[int]) -> list[int]:
        if not batches:
            first_started.set()
            # Hold the first batch until every other thread has queued its item.
            wait_until(lambda: len(committer._queue) == THREADS - 1)
        batches.append(list(items))
        return [item * 10 for item in items]

    committer: GroupCommit[int, int] = GroupCommit(write, wait_timeout=10)

    def submit(index: int) -> int:
        if index:
            first_started.wait(10)
        return committer.submit(index)

    results = run_threads(submit, THREADS)
    assert results == [i * 10 for i in range(THREADS)]  # each thread gets its own result
    assert batches[0] == [0]
    assert sorted(batches[1]) == list(range(1, THREADS))  # one batch, one commit, for the rest
    assert len(batches) == 2


def test_a_failed_batch_fails_every_item_in_it_and_a_failed_item_only_itself():
    def write(items: Sequence[str]) -> list[str | BaseException]:
        if "all" in items:
            raise StorageUnavailable("disk full")
        return [ValueError(item) if item == "bad" else item.upper() for item in items]

    committer: GroupCommit[str, str] = GroupCommit(write, wait_timeout=10)
    with pytest.raises(StorageUnavailable, match="disk full"):
        committer.submit("all")
    with pytest.raises(ValueError):
        committer.submit("bad")
    assert committer.submit("good") == "GOOD"


def test_a_writer_busy_past_the_timeout_refuses_and_the_item_is_never_written():
    release = threading.Event()
    written: list[str] = []

    def write(items: Sequence[str]) -> list[str]:
        if "slow" in items:
            release.wait(10)
        written.extend(items)
        return list(items)

    committer: GroupCommit[str, str] = GroupCommit(write, wait_timeout=0.05)
    slow = threading.Thread(target=committer.submit, args=("slow",))
    slow.start()
    wait_until(lambda: committer._writer.locked())
    with pytest.raises(StorageUnavailable, match="busy"):
        committer.submit("late")
    release.set()
    slow.join(10)
    assert committer.submit("after") == "after"
    assert written == ["slow", "after"]  # "late" was withdrawn, not written behind its back


def test_concurrent_receipts_and_retries_are_each_stored_once(fresh):
    """Twelve threads, each sending one decision three times (a banner's retries): every thread
    gets the one stored receipt of its decision, and the store holds one per decision."""
    decisions = [make_receipt(f"c-{i}", decision_id=f"decision-{i:04d}") for i in range(THREADS)]

    def send(index: int) -> set[str]:
        stored = set()
        for _ in range(3):
            receipt, notice = make_receipt(f"c-{index}", decision_id=f"decision-{index:04d}")
            stored.add(fresh.add(receipt, notice).receipt_id)
        return stored

    results = run_threads(send, THREADS)
    assert all(isinstance(r, set) and len(r) == 1 for r in results), results
    assert fresh.count() == THREADS
    for index, (receipt, _) in enumerate(decisions):
        stored = fresh.by_decision_id(receipt.consent_id, receipt.decision_id)
        assert stored is not None and {stored.receipt_id} == results[index]


def test_a_retry_another_process_stored_meanwhile_does_not_fail_its_batch(fresh, database_url):
    other = open_store(database_url)  # another gunicorn worker, with its own connections
    try:
        first, notice = make_receipt("c-retry", decision_id="decision-retry")
        other.add(first, notice)
        retry, _ = make_receipt("c-retry", decision_id="decision-retry")
        plain, _ = make_receipt("c-plain")
        # Both in one batch: the retry gets the receipt the other process stored, and the
        # other receipt of the batch is written.
        results = fresh._write_batch([(plain, notice), (retry, notice)])
    finally:
        other.close()
    assert results[0] == plain
    assert results[1].receipt_id == first.receipt_id
    assert fresh.count() == 2


def test_a_conflict_inside_one_transaction_falls_back_to_one_write_per_receipt(fresh):
    receipt, notice = make_receipt("c-dup")
    fresh.add(receipt, notice)
    again = make_receipt("c-other")[0]
    # The same receipt id twice (not a retry: no decision_id) is a real conflict, reported to
    # its own thread only; the other receipt of the batch is stored.
    results = fresh._write_batch([(receipt, notice), (again, notice)])
    assert isinstance(results[0], Exception) and "receipt" in str(results[0])
    assert results[1] == again
    assert fresh.count() == 2
