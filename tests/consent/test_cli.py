"""Operator commands: init-db and receipts export/show/purge."""

from __future__ import annotations

import json

from tests.conftest import post_choice
from website.consent.storage import SCHEMA_VERSION


def test_init_db(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert f"schema version {SCHEMA_VERSION}" in result.output


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
                               "ua_browser", "ua_os", "ua_device"}
    assert "2 receipts exported." in result.output


def test_show_resolves_each_receipt_to_the_notice_shown(client, runner):
    body = post_choice(client, {"categories": {"media": True}}).get_json()
    result = runner.invoke(args=["receipts", "show", body["consent_id"]])
    assert result.exit_code == 0
    record = json.loads(result.output)
    assert record["notice"]["revision"] == body["revision"]
    assert record["notice"]["texts"]["accept_all"] == "Alle akzeptieren"
    assert any("YouTube" in p for p in record["notice"]["purposes"])


def test_show_unknown_consent_id_fails_clearly(runner):
    result = runner.invoke(args=["receipts", "show", "no-such-id"])
    assert result.exit_code != 0
    assert "no receipts for consent id 'no-such-id'" in result.output


def test_purge_dry_run_and_real(client, runner):
    post_choice(client, {"categories": {}})
    dry = runner.invoke(args=["receipts", "purge", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.startswith("0 receipts")
    real = runner.invoke(args=["receipts", "purge", "--years", "1"])
    assert real.exit_code == 0 and real.output.startswith("0 receipts")  # today's are kept
    bad = runner.invoke(args=["receipts", "purge", "--years", "0"])
    assert bad.exit_code == 2
