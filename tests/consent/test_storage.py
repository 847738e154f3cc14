"""The receipt store on both backends: append-only receipts, per-visitor idempotency, notices,
retention purge, the GPC counter, aware UTC times, and failures that surface as StorageError."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from website.consent.decision import Decision
from website.consent.receipts import DEFAULT_VALIDITY, Notice, build_receipt
from website.consent.storage import (
    StorageConflict,
    StorageError,
    StorageUnavailable,
    open_store,
)
from website.store import parse_url


def make_receipt(consent_id: str = "c-1", created_at: str | None = None, **extra):
    decided_at = datetime.fromisoformat(created_at) if created_at else datetime.now(UTC)
    decision = Decision(consent_id, "rev1", {"essential": True, "statistics": False},
                        {"site": True, "matomo": False}, "api", decided_at)
    notice = Notice.of("rev1", "de", {"texts": "Hinweis"})
    receipt = build_receipt(decision, notice=notice, action="reject_all", page_path="/x?y=1",
                            remote_addr="198.51.100.23", user_agent="curl/8.5.0", **extra)
    return receipt, notice


def test_receipt_round_trip_and_notice_stored_once(fresh):
    receipt, notice = make_receipt(
        policy_version="2026-11-25", policy_hash="ab" * 32, app_version="1.2.3", gpc=True,
        decision_id="d" * 20,
    )
    assert fresh.add(receipt, notice) is receipt
    second, _ = make_receipt()
    fresh.add(second, notice)
    history = fresh.history("c-1")
    assert sorted(history, key=lambda r: r.receipt_id) == sorted([receipt, second],
                                                                   key=lambda r: r.receipt_id)
    stored = fresh.get(receipt.receipt_id)
    assert stored == receipt  # every field, times to the microsecond, the GPC flag
    assert stored.page_path == "/x" and stored.ip_prefix == "198.51.100.0"
    assert stored.categories == {"essential": True, "statistics": False}
    assert stored.created_at.tzinfo is UTC and stored.expires_at.tzinfo is UTC
    assert stored.expires_at == stored.created_at + DEFAULT_VALIDITY
    with fresh.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM notices")).scalar() == 1
    assert fresh.notice(notice.notice_hash).content == '{"texts":"Hinweis"}'
    assert fresh.notice("0" * 64) is None and fresh.get("nope") is None


def test_history_and_export_are_oldest_first(fresh):
    times = ["2026-03-01T10:00:00+00:00", "2025-01-01T10:00:00+00:00",
             "2026-01-01T10:00:00.000001+00:00"]
    for when in times:
        fresh.add(*make_receipt("c-1", when))
    fresh.add(*make_receipt("c-2", "2024-06-01T12:00:00+02:00"))
    expected = sorted(datetime.fromisoformat(t) for t in times)
    assert [r.created_at for r in fresh.history("c-1")] == expected
    exported = fresh.export()
    assert iter(exported) is exported  # a generator: streamed, not a list
    assert [r.consent_id for r in exported] == ["c-2", "c-1", "c-1", "c-1"]


def test_receipts_cannot_be_updated(fresh):
    receipt, notice = make_receipt()
    fresh.add(receipt, notice)
    with pytest.raises(Exception, match="immutable"), fresh.engine.begin() as connection:
        connection.execute(text("UPDATE receipts SET action = 'accept_all'"))
    assert fresh.history("c-1")[0].action == "reject_all"


def test_delete_is_allowed_for_retention_and_erasure(fresh):
    fresh.add(*make_receipt())
    with fresh.engine.begin() as connection:
        assert connection.execute(text("DELETE FROM receipts")).rowcount == 1


def test_failed_insert_leaves_nothing_behind(fresh):
    receipt, notice = make_receipt()
    fresh.add(receipt, notice)
    other_notice = Notice.of("rev1", "en", {"texts": "other"})
    with pytest.raises(StorageConflict):
        fresh.add(receipt, other_notice)  # same receipt id again
    assert fresh.notice(other_notice.notice_hash) is None  # the whole transaction rolled back
    assert len(fresh.history("c-1")) == 1


def test_a_retry_of_the_same_decision_returns_the_stored_receipt(fresh):
    first, notice = make_receipt("visitor-a", decision_id="d-0123456789abcdef")
    assert fresh.add(first, notice) is first
    retry, _ = make_receipt("visitor-a", decision_id="d-0123456789abcdef")
    stored = fresh.add(retry, notice)
    assert stored.receipt_id == first.receipt_id != retry.receipt_id
    assert fresh.by_decision_id("visitor-a", "d-0123456789abcdef") == first
    assert len(fresh.history("visitor-a")) == 1


def test_the_same_decision_id_from_another_visitor_is_a_new_receipt(fresh):
    mine, notice = make_receipt("visitor-a", decision_id="d-0123456789abcdef")
    fresh.add(mine, notice)
    theirs, _ = make_receipt("visitor-b", decision_id="d-0123456789abcdef")
    stored = fresh.add(theirs, notice)
    assert stored is theirs  # not visitor A's receipt
    assert fresh.by_decision_id("visitor-b", "d-0123456789abcdef") == theirs
    assert fresh.by_decision_id("visitor-a", "d-0123456789abcdef") == mine
    assert fresh.by_decision_id("visitor-c", "d-0123456789abcdef") is None


def test_receipts_without_decision_id_never_clash(fresh):
    for _ in range(3):
        fresh.add(*make_receipt("visitor-a"))
    assert len(fresh.history("visitor-a")) == 3


def test_simultaneous_retries_store_one_receipt(fresh):
    notice = make_receipt()[1]
    attempts = [make_receipt("visitor-a", decision_id="d-simultaneous-000001")[0]
                for _ in range(8)]
    results, errors = [], []
    barrier = threading.Barrier(len(attempts))

    def send(receipt):
        barrier.wait()
        try:
            results.append(fresh.add(receipt, notice))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(r,)) for r in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (stored,) = fresh.history("visitor-a")
    assert {r.receipt_id for r in results} == {stored.receipt_id}


def test_purge_keeps_a_visitor_whole_while_any_receipt_is_recent(fresh):
    for consent_id, when in [("old", "2020-03-01T10:00:00+00:00"),
                             ("old", "2021-06-01T10:00:00+00:00"),
                             ("edge", "2022-12-31T23:59:59.999999+00:00"),
                             ("mixed", "2019-01-01T10:00:00+00:00"),
                             ("mixed", "2026-01-01T10:00:00+00:00"),
                             ("new", "2023-01-01T00:00:00+00:00")]:
        fresh.add(*make_receipt(consent_id, when))
    cutoff = datetime(2023, 1, 1, tzinfo=UTC)
    assert fresh.count_expired(cutoff) == 3
    assert fresh.purge(cutoff) == 3
    assert fresh.history("old") == [] and fresh.history("edge") == []
    assert len(fresh.history("mixed")) == 2 and len(fresh.history("new")) == 1
    assert fresh.purge(cutoff) == 0


def test_times_must_be_aware(fresh):
    with pytest.raises(ValueError, match="naive"):
        fresh.count_expired(datetime(2023, 1, 1))
    receipt, notice = make_receipt()
    with pytest.raises(StorageError, match="naive"):
        fresh.add(replace(receipt, created_at=datetime(2026, 1, 1)), notice)
    assert fresh.history("c-1") == []


def test_gpc_views_are_a_daily_counter(fresh):
    fresh.add_gpc_views(date(2026, 11, 30), 1)
    fresh.add_gpc_views(date(2026, 12, 1), 2)
    fresh.add_gpc_views(date(2026, 12, 1), 3)
    fresh.add_gpc_views(date(2026, 12, 3), 1)
    assert fresh.gpc_views(date(2026, 12, 1), date(2026, 12, 3)) == {
        date(2026, 12, 1): 5, date(2026, 12, 3): 1}
    assert fresh.gpc_views(date(2026, 11, 1), date(2026, 11, 29)) == {}
    with pytest.raises(ValueError):
        fresh.add_gpc_views(date(2026, 12, 1), -1)


def test_gpc_counter_loses_no_increment_under_concurrency(fresh):
    day = date(2026, 12, 1)

    def count():
        for _ in range(10):
            fresh.add_gpc_views(day, 1)

    threads = [threading.Thread(target=count) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fresh.gpc_views(day, day) == {day: 60}


@pytest.mark.parametrize("url", ["postgres:/", "sqlite://", "sqlite:///:memory:", "mysql:///db",
                                 "receipts.db", "sqlite:///x.db?mode=ro", "postgresql://host"])
def test_unsupported_database_url(url):
    with pytest.raises(StorageError, match="is not supported"):
        open_store(url)


def test_supported_urls():
    assert parse_url("sqlite:////abs/receipts.db").database == "/abs/receipts.db"
    assert parse_url("sqlite:///rel/receipts.db").database == "rel/receipts.db"
    for url in ("postgresql://app@db/consent", "postgres://app@db/consent",
                "postgresql+psycopg://app:pw@db:5432/consent"):
        assert parse_url(url).drivername == "postgresql+psycopg"


def test_the_password_never_appears_in_messages():
    with pytest.raises(StorageError) as caught:
        open_store("mysql://app:hunter2@db/consent")
    assert "hunter2" not in str(caught.value)
    assert repr(open_store("postgresql://app:hunter2@db/consent")).count("hunter2") == 0


def test_an_unopenable_sqlite_file_is_unavailable_not_a_driver_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = open_store(f"sqlite:///{blocker}/receipts.db")
    for call in (store.check_ready, lambda: store.history("x"),
                 lambda: store.add(*make_receipt()), lambda: list(store.export())):
        with pytest.raises(StorageUnavailable):
            call()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    store = open_store(f"sqlite:///{garbage}")
    with pytest.raises(StorageUnavailable, match="not a database"):
        store.add(*make_receipt())


def test_a_locked_sqlite_database_times_out_as_unavailable(tmp_path):
    from website.store import DatabaseSettings, upgrade

    database_url = f"sqlite:///{tmp_path / 'receipts.db'}"
    upgrade(database_url)
    holder = open_store(database_url)
    store = open_store(DatabaseSettings(database_url, statement_timeout_ms=100))
    with holder.engine.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")
        with pytest.raises(StorageUnavailable, match="locked"):
            store.add(*make_receipt())
        connection.exec_driver_sql("ROLLBACK")
    store.add(*make_receipt())  # and works again once the lock is gone
    holder.close()
    store.close()


def test_export_streams_in_flat_memory(fresh):
    import tracemalloc

    from website.store.store import _row
    from website.store.tables import notices, receipts

    receipt, notice = make_receipt()
    rows = [_row(replace(receipt, receipt_id=f"r-{number:06d}",
                         consent_id=f"c-{number % 97}")) for number in range(4000)]
    with fresh.engine.begin() as connection:
        connection.execute(notices.insert().values(
            notice_hash=notice.notice_hash, revision=notice.revision,
            language=notice.language, content=notice.content))
        connection.execute(receipts.insert(), rows)
    del rows

    def peak(consume) -> int:
        tracemalloc.start()
        try:
            consume()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def stream() -> None:
        count = 0
        for _ in fresh.export():
            count += 1
        assert count == 4000

    held = peak(lambda: list(fresh.export()))
    streamed = peak(stream)
    assert streamed * 2 < held, (streamed, held)
