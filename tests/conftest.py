"""Fixtures shared by the site's tests: ``app``, ``client`` and ``runner`` on a real database.

Every test that uses ``app`` (or ``database_url``) runs twice: on a real SQLite file and on a
real PostgreSQL database (a throwaway server the harness starts once per session, see
``tests/postgres.py``; one fresh database per test). Without PostgreSQL the PostgreSQL half is
skipped locally, and fails under ``CI=true``: nothing may skip in CI.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.postgres import TEMPLATE, PostgresServer, PostgresUnavailable, start_postgres
from website import create_app
from website.consent.storage import ReceiptStore, open_store, upgrade

#: A documentation-range address and a real browser's user agent: what must never be stored.
CLIENT_IP = "203.0.113.77"
FULL_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.86 Safari/537.36"
)
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, with a migrated template database."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        reason = f"PostgreSQL could not be started: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the PostgreSQL run must happen)")
        pytest.skip(reason)
    try:
        server.execute(f'CREATE DATABASE "{TEMPLATE}"')
        upgrade(server.url(TEMPLATE))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "receipts.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def fresh_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database for one test: its ``DATABASE_URL``."""
    if backend == "sqlite":
        path = folder / "receipts.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        os.chmod(path, 0o600)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request, backend, tmp_path)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "GPC_FLUSH_SECONDS": 0,  # no background thread: tests flush explicitly
            "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
            "DATABASE_URL": database_url,
        }
    )
    yield app
    app.extensions["receipt_store"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": FULL_USER_AGENT})
    return client


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def store(app: Flask) -> Iterator[ReceiptStore]:
    store = open_store(app.config["DATABASE_URL"])
    yield store
    store.close()


@pytest.fixture
def fresh(database_url: str) -> Iterator[ReceiptStore]:
    """A store of its own on a fresh database (no app), for the store's own tests."""
    store = open_store(database_url)
    yield store
    store.close()


def raw_database_bytes(url: str) -> bytes:
    """Everything the database holds on disk, as bytes (SQLite files, or a pg_dump)."""
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///")
        raw = b""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                raw += Path(database + suffix).read_bytes()
        return raw
    return subprocess.run(["pg_dump", "--data-only", "-d", url], check=True,
                          capture_output=True, timeout=60).stdout


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The token a page hands the banner (and sets the session cookie it belongs to)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "every page carries a csrf-token meta tag"
    return match.group(1)


def post_choice(client: FlaskClient, body: object, path: str = "/consent", **headers: str):
    """POST JSON the way banner.js does, with the page's CSRF token."""
    token = csrf_token(client)
    return client.post(path, json=body, headers={"X-CSRFToken": token, **headers})
