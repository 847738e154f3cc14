"""Tamper evidence end to end, on SQLite and PostgreSQL: receipts signed at insert, days sealed
by ``receipts seal``, and ``receipts verify`` catching what an attacker with the database
owner's rights does through the database's own client (sqlite3, psql), or to an export file.
Removal on purpose (retention purge, erasure) is not tampering. Every clock is fixed."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.consent.test_storage import make_receipt
from website import create_app
from website.consent.proof import KeyRing
from website.store import ReceiptStore, open_store, parse_url

RECEIPT_KEYS = "k2026:" + "r" * 40 + ",k2025:" + "s" * 40
KEYS = KeyRing.parse(RECEIPT_KEYS)
DAYS = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
TODAY = date(2026, 11, 23)
NOW = "2026-11-23T12:00:00"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
        "DATABASE_URL": database_url,
        "RECEIPT_KEYS": RECEIPT_KEYS,
    })
    yield app
    app.extensions["receipt_store"].close()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def signed(database_url: str) -> Iterator[ReceiptStore]:
    store = open_store(database_url, KEYS)
    yield store
    store.close()


@pytest.fixture
def sql(request: pytest.FixtureRequest, backend: str, database_url: str):
    """Run SQL through the database's own command-line client, as the database owner."""
    database = parse_url(database_url).database
    assert database

    def run(statement: str) -> subprocess.CompletedProcess:
        if backend == "sqlite":
            return subprocess.run(["sqlite3", "-bail", database, statement],
                                  capture_output=True, text=True, timeout=60)
        return request.getfixturevalue("postgres").psql(database, statement)

    run.backend = backend  # type: ignore[attr-defined]
    return run


def unlock(sql) -> str:
    """What an attacker with owner rights does first: switch the immutability trigger off."""
    if sql.backend == "sqlite":
        return "DROP TRIGGER receipts_are_immutable; "
    return "ALTER TABLE receipts DISABLE TRIGGER receipts_are_immutable; "


def seed(store: ReceiptStore) -> dict[date, list[str]]:
    """Three receipts on each of three past days and one today; their ids by day."""
    ids: dict[date, list[str]] = {}
    for day in [*DAYS, TODAY]:
        for number in range(3 if day != TODAY else 1):
            when = datetime(day.year, day.month, day.day, 9 + number, tzinfo=UTC).isoformat()
            stored = store.add(*make_receipt(f"c-{day.day}-{number}", when))
            ids.setdefault(day, []).append(stored.receipt_id)
    return ids


def run(runner: FlaskCliRunner, *args: str):
    return runner.invoke(args=["receipts", *args])


@pytest.fixture
def world(runner: FlaskCliRunner, signed: ReceiptStore) -> dict[date, list[str]]:
    ids = seed(signed)
    sealed = run(runner, "seal", "--now", NOW)
    assert sealed.exit_code == 0, sealed.output
    assert sealed.output == "3 days sealed (2026-11-20 to 2026-11-22), 9 receipts.\n"
    return ids


def test_receipts_are_signed_at_insert_and_as_json_carries_the_mac(signed):
    receipt, notice = make_receipt("c-1", "2026-11-20T09:00:00+00:00")
    stored = signed.add(receipt, notice)
    assert stored.key_id == "k2026" and stored.hmac
    document = signed.get(stored.receipt_id).as_json()
    assert document["key_id"] == "k2026" and document["hmac"] == stored.hmac
    assert KEYS.check("k2026", document["hmac"], document)
    # The HMAC covers every other field: change one and it no longer checks.
    assert not KEYS.check("k2026", document["hmac"], {**document, "page_path": "/y"})


def test_intact_store_verifies_and_seal_is_idempotent(runner, world):
    ok = run(runner, "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output == ("10 receipts, 3 sealed days, keys k2026, 0 removed on purpose, "
                         "0 unsigned (before proof): all intact\n")
    again = run(runner, "seal", "--now", NOW)
    assert again.exit_code == 0 and again.output.startswith("Nothing to seal")
    # Today is never sealed, nor a day within the grace period after midnight.
    early = run(runner, "seal", "--now", "2026-11-24T00:05:00", "--until", "2026-11-30")
    assert early.output.startswith("Nothing to seal")
    later = run(runner, "seal", "--now", "2026-11-24T00:15:00")
    assert later.output == "1 days sealed (2026-11-23 to 2026-11-23), 1 receipts.\n"
    assert run(runner, "verify").exit_code == 0


def test_empty_days_are_sealed_too_so_nothing_can_be_added_to_them(runner, signed, sql):
    for day in (DAYS[0], DAYS[2]):
        signed.add(*make_receipt("c-x", datetime(day.year, day.month, day.day, 9,
                                                 tzinfo=UTC).isoformat()))
    assert run(runner, "seal", "--now", NOW).output.startswith("3 days sealed")
    forged, notice = make_receipt("c-forger", "2026-11-21T10:00:00+00:00")
    signed.add(forged, notice)  # even with the key: the empty day's seal says "nothing"
    report = run(runner, "verify")
    assert report.exit_code == 1
    assert f"inserted receipt {forged.receipt_id} (not in its day's seal)" in report.output


def test_an_updated_field_is_named(runner, world, sql):
    target = world[DAYS[1]][1]
    refused = sql(f"UPDATE receipts SET action = 'accept_all' WHERE receipt_id = '{target}'")
    assert refused.returncode != 0 and "immutable" in refused.stderr  # the trigger, first
    done = sql(unlock(sql) + f"UPDATE receipts SET action = 'accept_all' "
                              f"WHERE receipt_id = '{target}'")
    assert done.returncode == 0, done.stderr
    report = run(runner, "verify")
    assert report.exit_code == 1
    assert report.output.splitlines()[:-1] == [f"altered receipt {target}"]
    assert report.output.splitlines()[-1].endswith("1 problems")


def test_a_forged_row_is_named(runner, world, sql):
    model = world[DAYS[0]][0]
    columns = ("consent_id, created_at, revision, notice_hash, language, method, action, "
               "categories, services, page_path, ip_prefix, ua_browser, ua_os, ua_device, "
               "policy_version, policy_hash, app_version, expires_at, gpc")

    def forge(receipt_id: str, key_id: str, mac: str) -> str:
        return (f"INSERT INTO receipts (receipt_id, key_id, hmac, {columns}) "
                f"SELECT '{receipt_id}', {key_id}, {mac}, {columns} FROM receipts "
                f"WHERE receipt_id = '{model}'")

    assert sql(forge("forged-1", "'k2026'", f"'{'0' * 64}'")).returncode == 0
    # Without an HMAC, pretending to be older than signing: the day's seal still names it.
    assert sql(forge("forged-2", "NULL", "NULL")).returncode == 0
    report = run(runner, "verify")
    assert report.exit_code == 1
    lines = report.output.splitlines()
    assert "altered receipt forged-1" in lines
    assert "inserted receipt forged-1 (not in its day's seal)" in lines
    assert "inserted receipt forged-2 (not in its day's seal)" in lines


def test_an_unsigned_row_after_signing_began_is_named(runner, world, sql):
    """Stripping a receipt's HMAC to pass it off as an old, unsigned one is tampering."""
    target = world[TODAY][0]  # today: no seal protects it yet, only its HMAC
    stripped = sql(unlock(sql) + "UPDATE receipts SET hmac = NULL, key_id = NULL, "
                   f"action = 'accept_all' WHERE receipt_id = '{target}'")
    assert stripped.returncode == 0, stripped.stderr
    report = run(runner, "verify")
    assert report.exit_code == 1 and f"altered receipt {target}" in report.output


def test_a_deleted_row_is_named(runner, world, sql):
    target = world[DAYS[2]][0]
    assert sql(f"DELETE FROM receipts WHERE receipt_id = '{target}'").returncode == 0
    report = run(runner, "verify")
    assert report.exit_code == 1
    assert report.output.splitlines()[:-1] == [
        f"deleted receipt {target} (sealed, no removal note)"
    ]


def test_a_receipt_moved_to_another_day_is_named(runner, world, sql):
    target = world[DAYS[2]][2]
    moved = "'2026-11-20 11:30:00+00'" if sql.backend == "postgresql" else \
        "'2026-11-20T11:30:00.000000Z'"
    assert sql(unlock(sql) + f"UPDATE receipts SET created_at = {moved} "
                             f"WHERE receipt_id = '{target}'").returncode == 0
    lines = run(runner, "verify").output.splitlines()
    assert f"altered receipt {target}" in lines
    assert f"inserted receipt {target} (not in its day's seal)" in lines
    assert f"deleted receipt {target} (sealed, no removal note)" in lines


def test_a_day_reordered_is_named(runner, world, sql):
    """Swapping two receipts' times within one day: both are named, nothing else."""
    first, last = world[DAYS[1]][0], world[DAYS[1]][2]
    if sql.backend == "postgresql":
        swap = ("UPDATE receipts SET created_at = CASE receipt_id "
                f"WHEN '{first}' THEN created_at + interval '2 hours' "
                f"ELSE created_at - interval '2 hours' END "
                f"WHERE receipt_id IN ('{first}', '{last}')")
    else:
        swap = ("UPDATE receipts SET created_at = CASE receipt_id "
                f"WHEN '{first}' THEN '2026-11-21T11:00:00.000000Z' "
                f"ELSE '2026-11-21T09:00:00.000000Z' END "
                f"WHERE receipt_id IN ('{first}', '{last}')")
    assert sql(unlock(sql) + swap).returncode == 0
    report = run(runner, "verify")
    assert report.exit_code == 1
    assert sorted(report.output.splitlines()[:-1]) == sorted(
        [f"altered receipt {first}", f"altered receipt {last}"]
    )


def test_a_removed_or_rewritten_seal_breaks_the_chain(runner, world, sql):
    refused = sql("DELETE FROM seals WHERE day = '2026-11-21'")
    assert refused.returncode != 0 and "append-only" in refused.stderr
    if sql.backend == "sqlite":
        unlocked = "DROP TRIGGER seals_no_delete; "
    else:
        unlocked = "ALTER TABLE seals DISABLE TRIGGER seals_are_append_only; "
    assert sql(unlocked + "DELETE FROM seals WHERE day = '2026-11-21'").returncode == 0
    lines = run(runner, "verify").output.splitlines()
    assert "broken seal 2026-11-22: does not follow the seal before it" in lines
    assert all(f"inserted receipt {rid} (not in its day's seal)" in lines
               for rid in world[DAYS[1]])


def test_retention_purge_and_erasure_are_not_tampering(runner, world, signed):
    erased = signed.erase("c-21-1")
    assert erased == 1 and signed.erase("c-21-1") == 0
    purged = run(runner, "purge", "--now", "2030-01-01", "--years", "3")
    assert purged.exit_code == 0 and purged.output.startswith("9 receipts older than")
    report = run(runner, "verify")
    assert report.exit_code == 0, report.output
    assert "0 receipts, 3 sealed days" in report.output
    assert "10 removed on purpose" in report.output
    # The notes hold no personal data: the receipt id, its day, its HMAC, the reason.
    notes = signed.removal_notes()
    assert {note.reason for note in notes} == {"retention", "erasure"}
    # An erasure today, before the day is sealed: the seal still covers the whole day.
    assert run(runner, "seal", "--now", "2026-11-24T01:00:00").exit_code == 0
    assert run(runner, "verify").exit_code == 0


def test_receipts_from_before_signing_are_reported_apart(runner, database_url, signed, sql):
    legacy = open_store(database_url)  # no keys: as receipts were stored before revision 0004
    try:
        old = [legacy.add(*make_receipt(f"old-{n}", f"2026-11-19T0{n}:00:00+00:00"))
               for n in range(2)]
    finally:
        legacy.close()
    seed(signed)
    before = run(runner, "verify")
    assert before.exit_code == 0, before.output
    assert "12 receipts, 0 sealed days" in before.output
    assert "2 unsigned (before proof): all intact" in before.output
    assert run(runner, "seal", "--now", NOW).output.startswith("4 days sealed")
    assert run(runner, "verify").exit_code == 0
    # Once sealed, an old receipt is protected by its day's seal.
    changed = sql(unlock(sql) + "UPDATE receipts SET action = 'accept_all' "
                                f"WHERE receipt_id = '{old[0].receipt_id}'")
    assert changed.returncode == 0
    lines = run(runner, "verify").output.splitlines()
    assert "broken seal 2026-11-19: digest does not match its receipts" in lines


def test_verify_since_checks_only_later_days(runner, world, sql):
    target = world[DAYS[0]][0]
    assert sql(f"DELETE FROM receipts WHERE receipt_id = '{target}'").returncode == 0
    assert run(runner, "verify").exit_code == 1
    later = run(runner, "verify", "--since", "2026-11-21")
    assert later.exit_code == 0, later.output
    assert later.output.startswith("7 receipts, 2 sealed days")


def test_a_rotated_key_still_verifies_old_receipts(database_url, world, tmp_path):
    rotated = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
        "DATABASE_URL": database_url, "RECEIPT_KEYS": "k2027:" + "t" * 40 + "," + RECEIPT_KEYS,
    })
    try:
        report = rotated.test_cli_runner().invoke(args=["receipts", "verify"])
        assert report.exit_code == 0, report.output
        unknown = create_app({
            "TESTING": True, "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
            "DATABASE_URL": database_url, "RECEIPT_KEYS": "k2027:" + "t" * 40,
        })
        try:
            failed = unknown.test_cli_runner().invoke(args=["receipts", "verify"])
            assert failed.exit_code == 1 and "10 problems" in failed.output.splitlines()[-1]
        finally:
            unknown.extensions["receipt_store"].close()
    finally:
        rotated.extensions["receipt_store"].close()


def test_concurrent_seal_runs_write_each_day_once(database_url, signed):
    seed(signed)
    stores = [open_store(database_url, KEYS) for _ in range(4)]
    results: list[object] = []

    def seal(store: ReceiptStore) -> None:
        try:
            results.append(store.seal(date(2026, 11, 22)))
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            results.append(exc)

    threads = [threading.Thread(target=seal, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.close()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(seal.day for written in results for seal in written) == DAYS  # type: ignore
    assert [seal.day for seal in signed.seals()] == DAYS


# --- export files ------------------------------------------------------------------------------


def export(runner: FlaskCliRunner, path: Path) -> list[dict]:
    result = run(runner, "export")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json.loads(line) for line in lines]


def test_an_export_verifies_offline_and_catches_hand_edits(runner, world, signed, tmp_path):
    signed.erase("c-20-0")
    path = tmp_path / "export.jsonl"
    documents = export(runner, path)
    kinds = [d.get("type", "receipt") for d in documents]
    assert kinds == ["receipt"] * 9 + ["seal"] * 3 + ["removal"]
    assert all({"key_id", "hmac"} <= set(d) for d in documents[:9])
    ok = run(runner, "verify", "--file", str(path))
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("9 receipts, 3 sealed days, keys k2026, 1 removed on purpose")

    edited = [dict(d) for d in documents]
    edited[4]["services"] = {**edited[4]["services"], "matomo": True}
    dropped = edited.pop(6)
    edited_path = tmp_path / "edited.jsonl"
    edited_path.write_text("".join(json.dumps(d) + "\n" for d in edited), encoding="utf-8")
    report = run(runner, "verify", "--file", str(edited_path))
    assert report.exit_code == 1
    assert report.output.splitlines()[:-1] == [
        f"altered receipt {documents[4]['receipt_id']}",
        f"deleted receipt {dropped['receipt_id']} (sealed, no removal note)",
    ]


def test_an_unreadable_export_line_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "seal", "day": "2026-11-20"}\n', encoding="utf-8")
    result = run(runner, "verify", "--file", str(path))
    assert result.exit_code == 1
    assert "line 1: not an export line" in result.output
    path.write_text("not json\n", encoding="utf-8")
    assert "line 1: not an export line" in run(runner, "verify", "--file", str(path)).output


def test_receipt_keys_refuse_the_cookie_secret(database_url):
    secret = "x" * 40
    with pytest.raises(Exception, match="cookie SECRET_KEY"):
        create_app({"TESTING": True, "SECRET_KEY": secret, "DATABASE_URL": database_url,
                    "RECEIPT_KEYS": f"k:{secret}"})


def test_without_receipt_keys_a_key_is_generated_once(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    apps = [create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
                        "DATABASE_URL": database_url}) for _ in range(2)]
    try:
        rings = [a.extensions["receipt_store"].keys for a in apps]
        assert rings[0] == rings[1] and rings[0].current.startswith("local-")
        key_file = tmp_path / "instance" / "receipt_keys"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert "test-secret-key" not in key_file.read_text()
    finally:
        for a in apps:
            a.extensions["receipt_store"].close()


def test_verify_without_any_key_says_so_instead_of_making_one(database_url, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "auditor"))
    auditor = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
                          "DATABASE_URL": database_url})
    try:
        (tmp_path / "auditor" / "receipt_keys").unlink()  # the app made one; the auditor has none
        export_file = tmp_path / "export.jsonl"
        export_file.write_text("")
        for args in (["receipts", "verify"], ["receipts", "verify", "--file", str(export_file)]):
            result = auditor.test_cli_runner().invoke(args=args)
            assert result.exit_code == 1
            assert "no receipt keys: set RECEIPT_KEYS" in result.output
        assert not (tmp_path / "auditor" / "receipt_keys").exists()
    finally:
        auditor.extensions["receipt_store"].close()
