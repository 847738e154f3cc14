"""Durability under faults, on SQLite and PostgreSQL, with real gunicorn under a bounded load of
visitors that retry each decision with its ``decision_id`` (as banner.js does) until a 2xx:

* kill -9 of one worker, and of the whole server (master and workers, then a restart on the
  same port): every receipt acknowledged with a 2xx is in the database, none is stored twice;
* PostgreSQL stopped under load: POST /consent answers 503 JSON with Retry-After (no request
  runs into the client's timeout), pages and /healthz answer 200, /readyz says why; once the
  database is back the retried decisions are recorded and nothing is lost.

Deadlines below are safety nets against a hung test, never speed assertions.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.site.gunicorn_server import ROOT, free_port, http_status
from tests.store.test_gunicorn_store import Visitor, own_postgres  # noqa: F401 - a fixture
from website.consent.proof import KeyRing
from website.store import open_store

RECEIPT_KEYS = "faults:" + "f" * 40
KEYS = KeyRing.parse(RECEIPT_KEYS)
DEADLINE_S = 90
CLIENT_TIMEOUT_S = 20  # the bound: a request that runs into it counts as hung


class Server:
    """gunicorn with the shipped config on a fixed port, in its own process group."""

    def __init__(self, folder: Path, database_url: str, port: int | None = None) -> None:
        self.folder, self.database_url = folder, database_url
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ, "PORT": str(self.port), "WEB_CONCURRENCY": "2",
                    "INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
                    "SECRET_KEY": "faults-test-key", "RECEIPT_KEYS": RECEIPT_KEYS,
                    "ACCESS_LOG": str(folder / "access.log")}
        self.log = folder / "gunicorn.log"

    def start(self) -> None:
        with open(self.log, "ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + DEADLINE_S
        while self.status("/healthz") != 200:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.05)

    def status(self, path: str) -> int:
        return http_status(f"{self.base}{path}", timeout=5)

    def workers(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill_all(self) -> None:
        """kill -9 of the master and every worker at once (a power cut of the process tree)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + DEADLINE_S
        while True:  # until nothing listens on the port any more
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@contextmanager
def server(folder: Path, database_url: str) -> Iterator[Server]:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "k"},
                   check=True, capture_output=True, timeout=120)
    site = Server(folder, database_url)
    site.start()
    try:
        yield site
    finally:
        site.stop()


@dataclass
class Load:
    """Visitors deciding again and again, each decision retried with its id until a 2xx."""

    base: str
    visitors: int = 4
    acked: dict[str, str] = field(default_factory=dict)  # decision_id -> receipt_id
    sent: set[str] = field(default_factory=set)  # every decision_id posted at least once
    unavailable: list[dict] = field(default_factory=list)  # the 503 answers' details
    hung: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(self.visitors)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(DEADLINE_S)
        assert not any(thread.is_alive() for thread in self.threads), "a visitor hung"

    def wait_for(self, acks: int = 0, unavailable: int = 0) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while len(self.acked) < acks or len(self.unavailable) < unavailable:
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, (len(self.acked), len(self.unavailable))
            time.sleep(0.02)

    def run(self) -> None:
        visitor = Visitor()
        while not self.stop.is_set():
            decision_id = uuid.uuid4().hex
            self.decide(visitor, decision_id)

    def decide(self, visitor: Visitor, decision_id: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                if not visitor.token:
                    visitor.load(self.base)
                with self.lock:
                    self.sent.add(decision_id)
                request = urllib.request.Request(
                    f"{self.base}/consent", method="POST",
                    data=json.dumps({"categories": {"statistics": True},
                                     "decision_id": decision_id}).encode(),
                    headers={"Content-Type": "application/json", "X-CSRFToken": visitor.token})
                with visitor.opener.open(request, timeout=CLIENT_TIMEOUT_S) as response:
                    body = json.loads(response.read())
                with self.lock:
                    previous = self.acked.setdefault(decision_id, body["receipt_id"])
                if previous != body["receipt_id"]:
                    self.errors.append(f"{decision_id}: two receipts")
                return
            except urllib.error.HTTPError as error:
                detail = {"status": error.code, "retry_after": error.headers.get("Retry-After"),
                          "type": error.headers.get("Content-Type"), "body": error.read()}
                if error.code == 503:
                    with self.lock:
                        self.unavailable.append(detail)
                else:
                    self.errors.append(f"unexpected answer {detail}")
                    return
            except TimeoutError:
                self.hung += 1
            except (OSError, http.client.HTTPException):
                # Connection refused or reset, or an answer cut off mid-body: the server is
                # being killed or restarted. The banner retries the same decision_id.
                pass
            time.sleep(0.05)
        self.errors.append(f"{decision_id}: never acknowledged")


def assert_every_ack_stored_once(database_url: str, load: Load) -> None:
    assert not load.errors, load.errors
    store = open_store(database_url)
    try:
        stored = list(store.export())
    finally:
        store.close()
    by_decision = {r.decision_id: r.receipt_id for r in stored}
    assert len(by_decision) == len(stored)  # no decision stored twice
    # Every acknowledged receipt is there, as acknowledged ...
    assert {d: by_decision.get(d) for d in load.acked} == load.acked
    # ... and nothing stored that no visitor sent. (A decision the server committed just before
    # it was killed can be stored without its answer having arrived: that is not a loss.)
    assert set(by_decision) <= load.sent
    assert all(KEYS.check(r.key_id, r.hmac, r.as_json()) for r in stored)  # and signed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    return path


def test_kill_9_of_one_worker_under_load_loses_nothing(folder, database_url):
    with server(folder, database_url) as site, Load(site.base) as load:
        load.wait_for(acks=20)
        victim = site.workers()[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + DEADLINE_S
        while victim in site.workers() or len(site.workers()) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        load.wait_for(acks=len(load.acked) + 20)
    assert_every_ack_stored_once(database_url, load)


def test_kill_9_of_the_whole_server_under_load_loses_nothing(folder, database_url):
    with server(folder, database_url) as site:
        with Load(site.base) as load:
            load.wait_for(acks=20)
            site.kill_all()
            site.start()  # the same port: the visitors' retries find it again
            load.wait_for(acks=len(load.acked) + 20)
        assert_every_ack_stored_once(database_url, load)


def test_postgresql_stopped_under_load(folder, own_postgres):  # noqa: F811 - the fixture
    own_postgres.execute("CREATE DATABASE consent")
    url = own_postgres.url("consent")
    with server(folder, url) as site, Load(site.base) as load:
        load.wait_for(acks=20)
        own_postgres.halt()
        load.wait_for(unavailable=10)
        # Meanwhile the site serves: pages, liveness; readiness says why it cannot record.
        assert site.status("/") == 200 and site.status("/healthz") == 200
        with pytest.raises(urllib.error.HTTPError) as readyz:
            urllib.request.urlopen(f"{site.base}/readyz", timeout=CLIENT_TIMEOUT_S)
        assert readyz.value.code == 503
        assert json.loads(readyz.value.read())["database"] == "unavailable"
        waiting = len(load.acked)
        own_postgres.resume()
        load.wait_for(acks=waiting + 20)  # the retried decisions go through
    for answer in load.unavailable:
        assert answer["type"].startswith("application/json"), answer
        assert json.loads(answer["body"])["error"] == "storage_unavailable"
        assert int(answer["retry_after"]) > 0
    assert load.hung == 0  # every refusal came before the client's timeout
    assert_every_ack_stored_once(url, load)
