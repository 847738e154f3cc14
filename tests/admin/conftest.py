"""Admin fixtures: a controlled clock, an admin account and a logged-in client, on both
backends (through ``app``)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin.helpers import PASSWORD, Clock, login, new_client
from website.admin.accounts import Accounts


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock()
    app.config["ADMIN_CLOCK"] = clock
    return clock


@pytest.fixture
def accounts(app: Flask, clock: Clock) -> Accounts:
    return Accounts(app.extensions["receipt_store"].engine, clock)


@pytest.fixture
def admin(accounts: Accounts) -> str:
    accounts.create("alice", PASSWORD)
    return "alice"


@pytest.fixture
def logged_in(app: Flask, admin: str) -> FlaskClient:
    client = new_client(app)
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    return client
