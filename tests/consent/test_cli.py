"""Operator commands: db upgrade/current (and the old init-db), receipts export/show/purge."""

from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import post_choice
from tests.consent.test_storage import make_receipt
from website.store import head_revision


def test_db_upgrade_is_idempotent_and_names_the_head(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"at revision {head_revision()} (head)" in result.output
    assert "secret" not in result.output  # the URL is shown without a password


def test_init_db_is_an_alias_of_db_upgrade(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "db upgrade" in result.output and f"revision {head_revision()}" in result.output


def test_db_current_reports_the_head(runner):
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0
    assert result.output.strip() == f"{head_revision()} (head: {head_revision()})"


def test_export_writes_json_lines(app, client, runner):
    first = post_choice(client, {"categories": {"statistics": True}}).get_json()
    post_choice(client, {"categories": {}})
    result = runner.invoke(args=["receipts", "export"])
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert [r["action"] for r in records] == ["custom", "reject_all"]
    assert records[0]["receipt_id"] == first["receipt_id"]
    assert records[0]["ip_prefix"] == "203.0.113.0"
    assert set(records[0]) >= {"schema", "consent_id", "created_at", "revision", "notice_hash",
                               "language", "method", "categories", "services", "page_path",
                               "ua_browser", "ua_os", "ua_device", "policy_version",
                               "policy_hash", "app_version", "expires_at", "gpc"}
    created = datetime.strptime(records[0]["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    expires = datetime.strptime(records[0]["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert expires > created
    assert "2 receipts exported." in result.output


def test_show_receipt_is_one_document_with_its_notice(client, runner):
    body = post_choice(client, {"categories": {"media": True}}).get_json()
    result = runner.invoke(args=["receipts", "show", body["receipt_id"]])
    assert result.exit_code == 0
    record = json.loads(result.output)  # exactly one JSON document
    assert record["receipt_id"] == body["receipt_id"]
    assert record["notice"]["revision"] == body["revision"]
    assert record["notice"]["texts"]["accept_all"] == "Alle akzeptieren"
    assert any("YouTube" in p for p in record["notice"]["purposes"])


def test_show_consent_id_is_one_document_with_the_history(client, runner):
    first = post_choice(client, {"categories": {"media": True}}).get_json()
    second = post_choice(client, {"categories": {}}).get_json()
    result = runner.invoke(args=["receipts", "show", first["consent_id"]])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["consent_id"] == first["consent_id"]
    assert [r["receipt_id"] for r in document["receipts"]] == [
        first["receipt_id"], second["receipt_id"]]
    assert all(r["notice"]["texts"] for r in document["receipts"])


def test_show_unknown_id_fails_clearly(runner):
    result = runner.invoke(args=["receipts", "show", "no-such-id"])
    assert result.exit_code == 1
    assert "no receipt and no consent id 'no-such-id'" in result.output


def test_purge_with_a_fixed_clock(app, runner, store):
    for consent_id, when in [("old", "2022-12-31T23:59:59+00:00"),
                             ("kept", "2023-01-01T00:00:00+00:00")]:
        store.add(*make_receipt(consent_id, when))
    args = ["receipts", "purge", "--now", "2026-06-01"]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0
    assert dry.output == "1 receipts older than 2023-01-01T00:00:00.000000Z would be deleted.\n"
    assert len(list(store.export())) == 2  # a dry run deletes nothing
    real = runner.invoke(args=args)
    assert real.exit_code == 0 and real.output.startswith("1 receipts older than 2023-01-01")
    assert [r.consent_id for r in store.export()] == ["kept"]
    one_year = runner.invoke(args=[*args, "--years", "1"])
    assert one_year.output.startswith("1 receipts older than 2025-01-01")
    assert list(store.export()) == []


def test_purge_rejects_zero_years(runner):
    assert runner.invoke(args=["receipts", "purge", "--years", "0"]).exit_code == 2


def test_commands_on_an_unreachable_database_fail_with_a_message(tmp_path):
    from website import create_app

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{blocker}/receipts.db"})
    runner = app.test_cli_runner()
    for args in (["receipts", "export"], ["receipts", "show", "x"], ["db", "current"],
                 ["receipts", "purge", "--dry-run"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error:" in result.output and "Traceback" not in result.output
