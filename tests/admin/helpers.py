"""Admin test helpers: a controlled clock, logging in through the real form, and receipts with
chosen times, actions, devices and languages."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import CLIENT_IP, FULL_USER_AGENT
from website.consent.decision import Decision
from website.consent.receipts import Receipt, build_receipt

PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The admin's clock in tests: set or advanced by hand, never by sleeping."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def form_token(client: FlaskClient, path: str = "/admin/login", **request: Any) -> str:
    page = client.get(path, **request).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, f"{path} has no CSRF field"
    return match.group(1)


def login(client: FlaskClient, name: str = "alice", password: str = PASSWORD, **request: Any):
    """Log in through the real form (GET for the token, then POST)."""
    token = form_token(client, **request)
    return client.post("/admin/login", data={"csrf_token": token, "name": name,
                                             "password": password}, **request)


def new_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": FULL_USER_AGENT})
    return client


def make_receipt(app: Flask, when: datetime, *, action: str = "custom",
                 grant: tuple[str, ...] = (), language: str = "de", device: str = "Desktop",
                 method: str = "banner", consent_id: str | None = None, **fields) -> Receipt:
    """A receipt with the real catalog's categories and services and the real notice."""
    manager = app.extensions["consent"]
    catalog = manager.catalog
    categories = {c.name: c.required or c.name in grant for c in catalog.categories}
    services = {s.name: categories[s.category] for s in catalog.services}
    decision = Decision(consent_id or str(uuid.uuid4()), catalog.revision, categories, services,
                        method, when)
    receipt = build_receipt(decision, notice=manager.notices[language], action=action,
                            page_path="/", remote_addr="198.51.100.7", user_agent="curl/8")
    return replace(receipt, ua_device=device, **fields)


def add(app: Flask, store, when: datetime, **options) -> Receipt:
    receipt = make_receipt(app, when, **options)
    return store.add(receipt, app.extensions["consent"].notices[receipt.language])
