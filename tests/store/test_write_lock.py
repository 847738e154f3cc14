"""The SQLite write lock: another process's writer waits for it, and one that waits too long
gets a clear StorageUnavailable (a 503) with nothing written; the kernel frees it when its
holder dies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest

from tests.consent.test_storage import make_receipt
from website.store import open_store
from website.store.engine import DatabaseSettings
from website.store.errors import StorageUnavailable
from website.store.write_lock import WriteLock


@pytest.fixture
def database(sqlite_template, tmp_path):
    path = tmp_path / "receipts.db"
    shutil.copyfile(sqlite_template, path)
    return path


def test_a_writer_waits_while_another_holds_the_lock_and_goes_on_after(database):
    holder, waiter = WriteLock(database), WriteLock(database)  # two open files, like two workers
    order: list[str] = []

    def wait_and_write() -> None:
        with waiter.held(10):
            order.append("w")

    with holder.held(1):
        thread = threading.Thread(target=wait_and_write)
        thread.start()
        thread.join(0.2)
        assert order == [] and thread.is_alive()  # it waits
        order.append("h")
    thread.join(10)
    assert order == ["h", "w"]
    holder.close()
    waiter.close()


def test_a_store_refuses_with_503_when_the_lock_stays_taken_and_writes_nothing(database):
    url = f"sqlite:///{database}"
    store = open_store(DatabaseSettings(url, statement_timeout_ms=100, pool_timeout=0.1))
    other = WriteLock(database)
    try:
        receipt, notice = make_receipt()
        with other.held(1), pytest.raises(StorageUnavailable, match="locked"):
            store.add(receipt, notice)
        assert store.count() == 0
        assert store.add(receipt, notice) == receipt  # free again: stored
    finally:
        other.close()
        store.close()


def test_the_lock_of_a_killed_process_is_free_at_once(database):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from website.store.write_lock import WriteLock;"
         f"lock = WriteLock({str(database)!r}); held = lock.held(1); held.__enter__();"
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StorageUnavailable), WriteLock(database).held(0.05):
            pass
        holder.kill()
        holder.wait(10)
        with WriteLock(database).held(5):
            pass
    finally:
        holder.kill()
        holder.wait(10)


def test_a_forked_worker_opens_its_own_lock_file_and_leaves_the_parents_lock_alone(database):
    """gunicorn forks workers: a child closes the inherited descriptor (no leak) and opens its
    own, so the parent's lock still holds against it."""
    import os

    lock = WriteLock(database)
    with lock.held(1):
        pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            code = 1
            try:
                try:
                    with lock.held(0.05):
                        code = 2  # got a lock the parent holds: wrong
                except StorageUnavailable:
                    fds = [f"/proc/self/fd/{fd}" for fd in os.listdir("/proc/self/fd")]
                    links = [os.readlink(fd) for fd in fds if os.path.exists(fd)]
                    code = 0 if links.count(str(lock.path)) == 1 else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    lock.close()
