"""retention run: every deletion promise with a controlled clock (no test reads today's date)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.rights.helpers import stored_receipt
from website.contact.messages import add_message, get_message, mark_answered
from website.rights.erasure import erase_visitor, list_tombstones
from website.rights.retention import cutoffs, run_retention, years_before
from website.rights.tables import contact_messages

CONFIG = {"CONTACT_RETENTION_YEARS": 2, "RECEIPT_RETENTION_YEARS": 3,
          "TOMBSTONE_RETENTION_YEARS": 3}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def message(store, when: str):
    return add_message(store, name="N", email="n@example.org", message="m",
                       ip_prefix="198.51.100.0", consent_to_contact=True, now=at(when))


def test_contact_messages_go_two_years_after_their_last_activity(store):
    old = message(store, "2024-03-01T10:00:00")
    answered = message(store, "2024-03-01T10:00:00")
    mark_answered(store, answered.id, now=at("2025-01-15T09:00:00"))
    young = message(store, "2024-03-01T10:00:01")
    summary = run_retention(store, at("2026-03-01T10:00:00.5"), CONFIG)
    assert summary["deleted"]["contact_messages"] == 1
    assert get_message(store, old.id) is None
    assert get_message(store, young.id) is not None  # one second short of two years
    assert get_message(store, answered.id) is not None  # answering restarted the period
    run_retention(store, at("2027-01-15T09:00:01"), CONFIG)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(contact_messages)
                                  ).scalar_one() == 0


def test_receipts_go_three_years_after_the_end_of_the_year_their_consent_ended(store):
    # Expired: decided 2026-02-01, valid 182 days -> ended 2026-08-02; kept through 2029.
    expired = stored_receipt(store, "a", at("2026-02-01T12:00:00"))
    # Withdrawn: the withdrawal receipt ends the consent (and itself) on 2027-05-01;
    # the consent before it was superseded then as well.
    before = stored_receipt(store, "b", at("2027-03-01T12:00:00"), valid=timedelta(days=3650))
    withdrawal = stored_receipt(store, "b", at("2027-05-01T12:00:00"), action="withdraw",
                                valid=timedelta(days=3650))
    # Superseded: replaced by a newer decision in 2026-12; the newer one runs ten years.
    superseded = stored_receipt(store, "c", at("2026-06-01T12:00:00"),
                                valid=timedelta(days=3650))
    current = stored_receipt(store, "c", at("2026-12-31T23:59:59"),
                             valid=timedelta(days=3650))

    last_day = run_retention(store, at("2029-12-31T23:59:59"), CONFIG)
    assert last_day["deleted"]["receipts"] == 0
    new_year = run_retention(store, at("2030-01-01T00:00:00"), CONFIG)
    assert new_year["deleted"]["receipts"] == 2
    assert store.get(expired.receipt_id) is None and store.get(superseded.receipt_id) is None
    assert store.get(current.receipt_id) is not None  # still in force
    assert store.get(before.receipt_id) is not None and store.get(withdrawal.receipt_id)
    run_retention(store, at("2031-01-01T00:00:00"), CONFIG)
    assert store.get(before.receipt_id) is None and store.get(withdrawal.receipt_id) is None
    assert store.get(current.receipt_id) is not None
    run_retention(store, at("2040-01-01T00:00:00"), CONFIG)  # ended 2036-12-29
    assert store.count() == 0


def test_a_later_receipt_after_the_cutoff_does_not_end_an_earlier_one_early(store):
    first = stored_receipt(store, "d", at("2020-01-01T00:00:00"), valid=timedelta(days=3650))
    stored_receipt(store, "d", at("2028-06-01T00:00:00"), valid=timedelta(days=3650))
    # Superseded in 2028: kept through 2031, although the first receipt is old.
    assert run_retention(store, at("2031-12-31T00:00:00"), CONFIG)["deleted"]["receipts"] == 0
    assert run_retention(store, at("2032-01-01T00:00:00"), CONFIG)["deleted"]["receipts"] == 1
    assert store.get(first.receipt_id) is None


def test_tombstones_go_three_years_after_the_end_of_their_year(store):
    stored_receipt(store, "visitor-e", at("2026-01-01T00:00:00"))
    erase_visitor(store, "visitor-e", "request by e-mail", now=at("2026-07-01T00:00:00"))
    assert run_retention(store, at("2029-12-31T23:00:00"), CONFIG)["deleted"]["tombstones"] == 0
    assert run_retention(store, at("2030-01-01T00:00:00"), CONFIG)["deleted"]["tombstones"] == 1
    assert list_tombstones(store) == []


def test_dry_run_counts_and_deletes_nothing(store):
    stored_receipt(store, "f", at("2020-01-01T00:00:00"))
    message(store, "2020-01-01T00:00:00")
    summary = run_retention(store, at("2030-01-01T00:00:00"), CONFIG, dry_run=True)
    assert summary["due"] == {"contact_messages": 1, "receipts": 1, "tombstones": 0}
    assert store.count() == 1


def test_periods_are_configurable(store):
    message(store, "2025-01-01T00:00:00")
    stored_receipt(store, "g", at("2025-01-01T00:00:00"))
    config = {"CONTACT_RETENTION_YEARS": 1, "RECEIPT_RETENTION_YEARS": 1,
              "TOMBSTONE_RETENTION_YEARS": 1}
    summary = run_retention(store, at("2027-01-01T00:00:00"), config)
    assert summary["deleted"] == {"contact_messages": 1, "receipts": 1, "tombstones": 0}
    with pytest.raises(ValueError):
        cutoffs(at("2027-01-01T00:00:00"), {**config, "RECEIPT_RETENTION_YEARS": -1})


def test_leap_day():
    assert years_before(at("2028-02-29T12:00:00"), 2) == at("2026-02-28T12:00:00")


def test_cli_prints_a_json_summary(app, runner, store):
    stored_receipt(store, "h", at("2020-01-01T00:00:00"))
    dry = runner.invoke(args=["retention", "run", "--dry-run", "--now", "2030-01-01T00:00:00Z"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["due"]["receipts"] == 1 and store.count() == 1
    done = runner.invoke(args=["retention", "run", "--now", "2030-01-01T03:30:00+01:00"])
    summary = json.loads(done.stdout)
    assert summary["deleted"]["receipts"] == 1 and summary["now"] == "2030-01-01T02:30:00.000000Z"
    assert summary["cutoffs"]["receipts"] == "2027-01-01T00:00:00.000000Z"
    assert store.count() == 0
    bad = runner.invoke(args=["retention", "run", "--now", "next tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    app.config["CONTACT_RETENTION_YEARS"] = 0
    zero = runner.invoke(args=["retention", "run", "--now", "2030-01-01"])
    assert zero.exit_code == 1 and "at least 1 year" in zero.output
