"""Receipt HMACs and daily seals, as pure functions: each kind of tampering is found by id, and
removal on purpose is not tampering."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from website.consent.proof import (
    GENESIS,
    KeyRing,
    ProofError,
    RemovalNote,
    Seal,
    canonical,
    seal_day,
    verify,
)

KEYS = KeyRing.parse("k2026:" + "a" * 40 + ",k2025:" + "b" * 40)
DAY = date(2026, 11, 24)


def receipt(number: int, day: date = DAY, keys: KeyRing = KEYS) -> dict:
    created = datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(minutes=number)
    content = {
        "schema": "website-consent-receipt/2",
        "receipt_id": f"r-{day}-{number:03}",
        "consent_id": f"c-{number % 3}",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": "accept_all",
        "services": {"ga4": True, "site": True},
    }
    key_id, mac = keys.sign(content)
    return {**content, "key_id": key_id, "hmac": mac}


def sealed(days: dict[date, list[dict]]) -> list[Seal]:
    seals, previous = [], GENESIS
    for day in sorted(days):
        rows = [(r["receipt_id"], datetime.fromisoformat(r["created_at"]), r["hmac"])
                for r in days[day]]
        seal = seal_day(day, rows, previous)
        seals.append(seal)
        previous = seal.digest
    return seals


def world() -> tuple[list[dict], list[Seal]]:
    days = {DAY + timedelta(days=i): [receipt(n, DAY + timedelta(days=i)) for n in range(5)]
            for i in range(3)}
    return [r for rs in days.values() for r in rs], sealed(days)


def test_intact_receipts_and_seals_verify():
    receipts, seals = world()
    report = verify(receipts, seals, [], KEYS)
    assert report.ok, report.lines()
    assert (report.receipts, report.days, report.keys) == (15, 3, {"k2026"})
    assert report.summary().endswith("all intact")


def test_canonical_content_is_sorted_compact_and_ignores_the_mac_fields():
    content = {"b": 1, "a": "ä", "hmac": "x", "key_id": "k"}
    assert canonical(content) == '{"a":"ä","b":1}'.encode()
    assert canonical({"t": datetime(2026, 1, 1, 1, tzinfo=UTC)}) == (
        b'{"t":"2026-01-01T01:00:00.000000Z"}'
    )
    with pytest.raises(ProofError, match="timezone-aware"):
        canonical({"t": datetime(2026, 1, 1)})


def test_an_altered_field_is_reported_by_id():
    receipts, seals = world()
    receipts[3] = {**receipts[3], "action": "reject_all"}
    report = verify(receipts, seals, [], KEYS)
    assert report.altered == [receipts[3]["receipt_id"]] and not report.broken_seals


def test_a_forged_row_is_reported_as_inserted_and_altered():
    receipts, seals = world()
    forged = {**receipt(99, DAY), "hmac": "0" * 64}
    report = verify([*receipts, forged], seals, [], KEYS)
    assert report.inserted == [forged["receipt_id"]]
    assert report.altered == [forged["receipt_id"]]


def test_a_validly_signed_row_added_after_sealing_is_inserted():
    """Even with the key (an insider), a row added to a sealed day is caught by the seal."""
    receipts, seals = world()
    late = receipt(77, DAY)
    report = verify([*receipts, late], seals, [], KEYS)
    assert report.inserted == [late["receipt_id"]] and report.altered == []


def test_a_deleted_row_is_reported_by_id_and_a_removal_note_accounts_for_it():
    receipts, seals = world()
    gone = receipts.pop(6)
    report = verify(receipts, seals, [], KEYS)
    assert report.deleted == [gone["receipt_id"]]
    note = RemovalNote(gone["receipt_id"], DAY + timedelta(days=1), gone["hmac"], "erasure")
    assert verify(receipts, seals, [note], KEYS).ok
    assert verify(receipts, seals, [note], KEYS).removed_on_purpose == 1
    wrong_note = RemovalNote(gone["receipt_id"], DAY + timedelta(days=1), "f" * 64, "erasure")
    assert verify(receipts, seals, [wrong_note], KEYS).broken_seals  # a note must be true


def test_moving_a_receipt_to_another_time_or_day_breaks_it():
    receipts, seals = world()
    moved = {**receipts[0], "created_at": "2026-11-25T10:00:00.000000Z"}
    report = verify([moved, *receipts[1:]], seals, [], KEYS)
    assert report.altered == [moved["receipt_id"]]
    assert moved["receipt_id"] in report.deleted and moved["receipt_id"] in report.inserted


def test_a_re_sealed_or_dropped_day_breaks_the_chain():
    receipts, seals = world()
    report = verify(receipts, [seals[0], seals[2]], [], KEYS)
    assert any("does not follow" in problem for problem in report.broken_seals)
    tampered = Seal(seals[1].day, seals[1].receipt_ids, seals[1].previous, "e" * 64)
    report = verify(receipts, [seals[0], tampered, seals[2]], [], KEYS)
    assert any("digest does not match" in p for p in report.broken_seals)
    assert any("does not follow" in p for p in report.broken_seals)


def test_rotated_keys_verify_old_receipts_and_unknown_keys_do_not():
    old = KeyRing.parse("k2025:" + "b" * 40)
    receipts = [receipt(1, keys=old), receipt(2)]
    assert verify(receipts, [], [], KEYS).ok
    assert verify(receipts, [], [], old).altered == [receipts[1]["receipt_id"]]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is not id:secret"),
        ("k1", "is not id:secret"),
        ("k1:short", "shorter than 32"),
        ("k1:" + "a" * 40 + ",k1:" + "b" * 40, "appears twice"),
        ("k 1:" + "a" * 40, "is not id:secret"),
    ],
)
def test_bad_receipt_keys_are_refused(value, problem):
    with pytest.raises(ProofError, match=problem):
        KeyRing.parse(value)


def test_the_cookie_secret_is_never_a_receipt_key():
    secret = "s" * 40
    with pytest.raises(ProofError, match="cookie SECRET_KEY"):
        KeyRing.parse(f"k1:{secret}", cookie_secret=secret)
    assert KeyRing.parse("k1:" + "t" * 40, cookie_secret=secret).current == "k1"


def test_seal_round_trips_through_json():
    _, seals = world()
    assert Seal.from_json(seals[1].as_json()) == seals[1]
