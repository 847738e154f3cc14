"""The receipt store: versioned schema, append-only receipts, notices, retention purge."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from website.consent.decision import Decision
from website.consent.receipts import Notice, build_receipt
from website.consent.storage import (
    SCHEMA_VERSION,
    SQLiteReceiptStore,
    StorageError,
    open_store,
    sqlite_path,
)


def make_receipt(consent_id: str = "c-1", created_at: str | None = None):
    from datetime import UTC, datetime

    decided_at = datetime.fromisoformat(created_at) if created_at else datetime.now(UTC)
    decision = Decision(consent_id, "rev1", {"essential": True, "statistics": False},
                        {"site": True, "matomo": False}, "api", decided_at)
    notice = Notice.of("rev1", "de", {"texts": "Hinweis"})
    receipt = build_receipt(decision, notice=notice, action="reject_all", page_path="/x?y=1",
                            remote_addr="198.51.100.23", user_agent="curl/8.5.0")
    return receipt, notice


@pytest.fixture
def fresh(tmp_path):
    store = SQLiteReceiptStore(str(tmp_path / "db" / "receipts.db"))
    store.migrate()
    yield store
    store.close()


def test_migrate_is_idempotent_and_versioned(fresh):
    assert fresh.schema_version() == SCHEMA_VERSION
    assert fresh.migrate() == SCHEMA_VERSION
    versions = fresh.db.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert fresh.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(fresh):
    fresh.db.execute("INSERT INTO schema_version (version) VALUES (999)")
    with pytest.raises(StorageError, match="newer than this code"):
        fresh.migrate()


def test_concurrent_migrations_agree(tmp_path):
    path = str(tmp_path / "race.db")
    errors = []

    def migrate():
        try:
            store = SQLiteReceiptStore(path)
            store.migrate()
            store.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = SQLiteReceiptStore(path)
    assert store.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_receipt_round_trip_and_notice_stored_once(fresh):
    receipt, notice = make_receipt()
    fresh.add(receipt, notice)
    second, _ = make_receipt()
    fresh.add(second, notice)
    assert fresh.history("c-1") == [receipt, second] or fresh.history("c-1") == [second, receipt]
    stored = fresh.history("c-1")[0]
    assert stored.page_path == "/x"
    assert stored.ip_prefix == "198.51.100.0"
    assert stored.categories == {"essential": True, "statistics": False}
    assert fresh.db.execute("SELECT COUNT(*) FROM notices").fetchone()[0] == 1
    assert fresh.notice(notice.notice_hash).content == '{"texts":"Hinweis"}'


def test_receipts_cannot_be_updated(fresh):
    receipt, notice = make_receipt()
    fresh.add(receipt, notice)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        fresh.db.execute("UPDATE receipts SET action = 'accept_all'")
    assert fresh.history("c-1")[0].action == "reject_all"


def test_failed_insert_leaves_nothing_behind(fresh):
    receipt, notice = make_receipt()
    fresh.add(receipt, notice)
    other_notice = Notice.of("rev1", "en", {"texts": "other"})
    with pytest.raises(sqlite3.IntegrityError):
        fresh.add(receipt, other_notice)  # same receipt id again
    assert fresh.notice(other_notice.notice_hash) is None  # the whole transaction rolled back
    assert len(fresh.history("c-1")) == 1


def test_purge_keeps_a_visitor_whole_while_any_receipt_is_recent(fresh):
    for consent_id, when in [("old", "2020-03-01T10:00:00+00:00"),
                             ("old", "2021-06-01T10:00:00+00:00"),
                             ("mixed", "2019-01-01T10:00:00+00:00"),
                             ("mixed", "2026-01-01T10:00:00+00:00")]:
        receipt, notice = make_receipt(consent_id, when)
        fresh.add(receipt, notice)
    cutoff = "2023-01-01T00:00:00.000000Z"
    assert fresh.count_expired(cutoff) == 2
    assert fresh.purge(cutoff) == 2
    assert fresh.history("old") == []
    assert len(fresh.history("mixed")) == 2


@pytest.mark.parametrize("url", ["postgres://x/y", "sqlite://", "mysql:///db", "receipts.db"])
def test_unsupported_database_url(url):
    with pytest.raises(StorageError, match="is not supported"):
        open_store(url)


def test_sqlite_urls():
    assert sqlite_path("sqlite:////abs/receipts.db") == "/abs/receipts.db"
    assert sqlite_path("sqlite:///rel/receipts.db") == "rel/receipts.db"


def test_upgrade_from_schema_1_keeps_receipts(tmp_path):
    from website.consent import storage

    path = str(tmp_path / "old.db")
    old = SQLiteReceiptStore(path)
    original = storage.MIGRATIONS
    try:
        storage.MIGRATIONS = original[:1]
        storage.SCHEMA_VERSION = 1
        old.migrate()
        old.db.execute(
            "INSERT INTO receipts (receipt_id, consent_id, created_at, revision, notice_hash, "
            "language, method, action, categories, services, page_path, ip_prefix, ua_browser, "
            "ua_os, ua_device) VALUES ('r1', 'c1', '2026-01-01T00:00:00.000000Z', 'rev', 'h', "
            "'de', 'api', 'reject_all', '{}', '{}', '/', '198.51.100.0', 'Firefox', 'Linux', 'pc')"
        )
    finally:
        storage.MIGRATIONS = original
        storage.SCHEMA_VERSION = len(original)
    old.close()

    upgraded = SQLiteReceiptStore(path)
    assert upgraded.schema_version() == 1
    assert upgraded.migrate() == SCHEMA_VERSION == 2
    (receipt,) = upgraded.history("c1")
    assert receipt.receipt_id == "r1" and receipt.decision_id is None
    upgraded.close()
