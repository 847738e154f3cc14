"""Helpers shared by the visitor-rights, channel, retention and contact tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import CLIENT_IP, FULL_USER_AGENT
from website import create_app
from website.consent.decision import Decision
from website.consent.receipts import Notice, Receipt, build_receipt
from website.store import ReceiptStore

SECRET = "test-secret-key-not-used-anywhere-else"


@contextmanager
def make_app(database_url: str, **config: Any) -> Iterator[Flask]:
    """An app on ``database_url`` with extra config (rate limits, SMTP ...)."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
                      **config})
    try:
        yield app
    finally:
        app.extensions["receipt_store"].close()


def web_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": FULL_USER_AGENT})
    return client


NOTICE = Notice.of("r1", "de", {"texts": {"title": "Test notice"}})


def stored_receipt(store: ReceiptStore, consent_id: str, created_at: datetime, *,
                   action: str = "accept_all", valid: timedelta = timedelta(days=182),
                   notice: Notice = NOTICE) -> Receipt:
    """Store one receipt decided at ``created_at`` (a controlled clock, never today)."""
    decision = Decision(consent_id, "r1", {"essential": True, "statistics": action != "withdraw"},
                        {"matomo": action != "withdraw"}, "banner", created_at.astimezone(UTC))
    receipt = build_receipt(decision, notice=notice, action=action, page_path="/",
                            remote_addr="198.51.100.7", user_agent="", expires_at=created_at
                            + valid)
    return store.add(receipt, notice)
