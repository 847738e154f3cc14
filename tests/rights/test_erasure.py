"""erase_visitor and `receipts erase`: receipts go and a tombstone is written, or neither."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.rights.helpers import stored_receipt
from website.rights.erasure import NothingToErase, erase_visitor, list_tombstones
from website.store import StorageError

VISITOR = "0f6d1c1e-5a3b-4c4f-9a7e-1d2c3b4a5f60"
OTHER = "9a8b7c6d-1111-4222-8333-444455556666"
WHEN = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_erase_deletes_one_visitor_and_writes_a_tombstone(store):
    stored_receipt(store, VISITOR, WHEN)
    stored_receipt(store, VISITOR, WHEN.replace(hour=13), action="reject_all")
    stored_receipt(store, OTHER, WHEN)
    tombstone = erase_visitor(store, VISITOR, "request by e-mail", now=WHEN)
    assert (tombstone.receipts_count, tombstone.erased_at, tombstone.reason) == (
        2, WHEN, "request by e-mail")
    assert store.history(VISITOR) == [] and len(store.history(OTHER)) == 1
    assert list_tombstones(store) == [tombstone]
    with pytest.raises(NothingToErase):
        erase_visitor(store, VISITOR, "again")
    assert len(list_tombstones(store)) == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201, "asked by erika@example.org",
                                    f"visitor {VISITOR}"])
def test_a_reason_with_personal_data_or_none_is_refused(store, reason):
    stored_receipt(store, VISITOR, WHEN)
    with pytest.raises(ValueError):
        erase_visitor(store, VISITOR, reason)
    assert len(store.history(VISITOR)) == 1 and list_tombstones(store) == []


def test_a_failing_tombstone_leaves_the_receipts_in_place(store):
    """One transaction: if the tombstone cannot be written, no receipt is deleted either."""
    stored_receipt(store, VISITOR, WHEN)
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE tombstones"))
    with pytest.raises(StorageError):
        erase_visitor(store, VISITOR, "request by e-mail")
    assert len(store.history(VISITOR)) == 1


def test_cli_erase(runner, store):
    stored_receipt(store, VISITOR, WHEN)
    result = runner.invoke(args=["receipts", "erase", VISITOR, "--reason", "request by letter"])
    assert result.exit_code == 0, result.output
    tombstone = json.loads(result.stdout)
    assert tombstone["receipts_count"] == 1 and VISITOR not in result.stdout
    assert store.history(VISITOR) == []
    listed = runner.invoke(args=["receipts", "tombstones"]).stdout.splitlines()
    assert [json.loads(line)["reason"] for line in listed] == ["request by letter"]
    unknown = runner.invoke(args=["receipts", "erase", VISITOR, "--reason", "again"])
    assert unknown.exit_code == 1 and "no receipts are stored" in unknown.output
    missing = runner.invoke(args=["receipts", "erase", OTHER])
    assert missing.exit_code == 2 and "--reason" in missing.output
    stored_receipt(store, OTHER, WHEN)
    personal = runner.invoke(args=["receipts", "erase", OTHER, "--reason", "mail a@b.example"])
    assert personal.exit_code == 1 and len(store.history(OTHER)) == 1
