"""Several nodes: two real gunicorn servers on different ports, one PostgreSQL, one SECRET_KEY
and one RECEIPT_KEYS. Both record, each accepts the other's cookies, one seal covers both, and
`receipts verify` holds; a node with a key of its own is caught (the rule's other side)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.postgres import PostgresServer
from tests.site.gunicorn_server import ROOT, run_gunicorn
from tests.store.test_gunicorn_store import Visitor
from website.store import open_store

RECEIPT_KEYS = "nodes:" + "n" * 40


@pytest.fixture
def shared_database(postgres: PostgresServer) -> Iterator[str]:
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


def flask(database_url: str, folder: Path, *args: str, keys: str = RECEIPT_KEYS):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "gunicorn-test-key",
           "RECEIPT_KEYS": keys, "INSTANCE_PATH": str(folder)}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_two_nodes_share_cookies_store_and_seal(tmp_path, shared_database):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    with run_gunicorn(folders[0], database_url=shared_database, RECEIPT_KEYS=RECEIPT_KEYS) as a, \
            run_gunicorn(folders[1], database_url=shared_database,
                         RECEIPT_KEYS=RECEIPT_KEYS) as b:
        nodes = (a.base, b.base)
        visitors = [Visitor() for _ in range(6)]

        def decide(number: int) -> list[str]:
            visitor, ids = visitors[number], []
            visitor.load(nodes[number % 2])  # the page (and CSRF session) from one node …
            for turn in range(4):  # … the decisions alternately on both
                status, _, body = visitor.decide(nodes[(number + turn + 1) % 2], bool(turn % 2))
                assert status == 200, body
                ids.append(body["receipt_id"])
            return ids

        with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
            answered = [i for ids in pool.map(decide, range(len(visitors))) for i in ids]
        # Each node reads the cookie the other set: one history per visitor, on either node.
        assert visitors[0].history(a.base) == visitors[0].history(b.base)
        assert len(visitors[0].history(a.base)) == 4

    store = open_store(shared_database)
    try:
        stored = list(store.export())
    finally:
        store.close()
    assert sorted(r.receipt_id for r in stored) == sorted(answered)
    assert len({r.consent_id for r in stored}) == len(visitors)
    assert {r.key_id for r in stored} == {"nodes"}  # both nodes signed with the shared key

    # Seal as the nightly timer would the next day (the time is relative, never a fixed date).
    tomorrow = (datetime.now(UTC) + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    sealed = flask(shared_database, tmp_path, "receipts", "seal", "--now", tomorrow)
    assert sealed.returncode == 0, sealed.stderr
    store = open_store(shared_database)
    try:
        covered = {rid for seal in store.seals() for rid in seal.receipt_ids}
    finally:
        store.close()
    assert covered == set(answered)  # one seal chain over both nodes' receipts
    verified = flask(shared_database, tmp_path, "receipts", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"{len(answered)} receipts, ")
    assert verified.stdout.rstrip().endswith("all intact")


def test_a_node_with_a_key_of_its_own_is_caught(tmp_path, shared_database):
    """A node that was not given RECEIPT_KEYS signs with a generated key only it holds: the
    verifier with the shared keys names its receipts (so operators notice the misconfiguration)."""
    (tmp_path / "lone").mkdir()
    with run_gunicorn(tmp_path / "lone", database_url=shared_database, RECEIPT_KEYS="") as lone:
        status, _, body = Visitor().decide(lone.base, True)
        assert status == 200, body
    report = flask(shared_database, tmp_path, "receipts", "verify")
    assert report.returncode == 1
    assert f"altered receipt {body['receipt_id']}" in report.stdout
