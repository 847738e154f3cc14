"""Fixtures shared by the site's tests: ``app``, ``client`` and ``runner`` on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from website import create_app
from website.consent.storage import SQLiteReceiptStore, open_store

#: A documentation-range address and a real browser's user agent: what must never be stored.
CLIENT_IP = "203.0.113.77"
FULL_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.86 Safari/537.36"
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'receipts.db'}",
        }
    )
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": FULL_USER_AGENT})
    return client


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def store(app: Flask) -> Iterator[SQLiteReceiptStore]:
    store = open_store(app.config["DATABASE_URL"])
    yield store
    store.close()


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
