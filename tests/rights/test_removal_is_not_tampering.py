"""Erasure at /meine-daten and the retention job delete receipts on purpose: each deletion leaves
a removal note, so ``receipts verify`` still passes on the sealed days (issue 11's rule)."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import csrf_token, post_choice
from website.rights.retention import run_retention


def seal_after(runner, store) -> None:
    newest = max(r.created_at for r in store.export())
    later = (newest + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    result = runner.invoke(args=["receipts", "seal", "--now", later])
    assert result.exit_code == 0, result.output


def verify(runner) -> str:
    result = runner.invoke(args=["receipts", "verify"])
    assert result.exit_code == 0, result.output
    return result.output


def test_erasure_after_sealing_keeps_verify_intact(app, client, runner, store):
    kept = post_choice(app.test_client(), {"categories": {"media": True}}).get_json()
    gone = post_choice(client, {"categories": {"statistics": True}}).get_json()
    post_choice(client, {"categories": {}})
    seal_after(runner, store)
    assert "all intact" in verify(runner)
    token = csrf_token(client, "/meine-daten")
    assert client.post("/meine-daten/loeschen", data={"csrf_token": token}).status_code < 400
    assert store.history(gone["consent_id"]) == []
    assert len(store.history(kept["consent_id"])) == 1
    summary = verify(runner)
    assert "all intact" in summary and "2 removed on purpose" in summary


def test_retention_after_sealing_keeps_verify_intact(app, client, runner, store):
    post_choice(client, {"categories": {"statistics": True}})
    seal_after(runner, store)
    newest = max(r.created_at for r in store.export())
    report = run_retention(store, newest + timedelta(days=5 * 366), app.config)
    assert report["deleted"]["receipts"] == 1
    summary = verify(runner)
    assert "all intact" in summary and "1 removed on purpose" in summary


def test_a_plain_delete_is_still_tampering(app, client, runner, store):
    """The other side: receipts deleted behind the store's back are reported by id."""
    from sqlalchemy import delete

    from website.store.tables import receipts

    post_choice(client, {"categories": {"statistics": True}})
    seal_after(runner, store)
    with store.engine.begin() as connection:
        connection.execute(delete(receipts))
    result = runner.invoke(args=["receipts", "verify"])
    assert result.exit_code == 1 and "deleted receipt" in result.output
