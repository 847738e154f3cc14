"""A receipt is complete proof: the privacy policy in force, the app version, when the decision
expires, whether GPC was present; and the settings page survives a store it cannot read."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import post_choice
from website import __version__
from website.consent import storage

POLICY = Path(__file__).resolve().parents[2] / "website" / "legal"


def test_receipt_names_policy_version_app_version_and_expiry(app, client, store):
    assert post_choice(client, {"categories": {"statistics": True}}).status_code == 200
    (receipt,) = list(store.export())
    source = (POLICY / "datenschutz.de.md").read_bytes()
    stand = next(line for line in source.decode().splitlines() if line.startswith("Stand:"))
    assert receipt.policy_version == stand.split(":", 1)[1].strip()
    assert receipt.policy_hash == hashlib.sha256(source).hexdigest()
    assert receipt.app_version == __version__
    days = app.config["CONSENT_MAX_AGE_DAYS"]
    assert receipt.expires_at - receipt.created_at == timedelta(days=days)
    assert receipt.gpc is False
    shown = json.loads(client.get("/consent/receipts").get_data(as_text=True))[0]
    assert shown["expires_at"].endswith("Z") and shown["policy_hash"] == receipt.policy_hash


def test_english_receipt_points_to_the_english_policy(client, store):
    post_choice(client, {"categories": {}, "lang": "en"})
    (receipt,) = list(store.export())
    assert receipt.policy_hash == hashlib.sha256(
        (POLICY / "datenschutz.en.md").read_bytes()
    ).hexdigest()


def test_gpc_flag_both_sides(client, store):
    post_choice(client, {"categories": {}}, **{"Sec-GPC": "1"})
    post_choice(client, {"categories": {"media": True}})
    assert [r.gpc for r in store.export()] == [True, False]


def test_settings_page_renders_when_the_history_cannot_be_read(app, client, monkeypatch):
    assert post_choice(client, {"categories": {"media": True}}).status_code == 200

    class Broken:
        def history(self, consent_id):
            raise storage.StorageError("cannot read receipts")

    monkeypatch.setattr(storage, "get_store", lambda: Broken())
    page = client.get("/cookie-einstellungen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "können gerade nicht angezeigt werden" in html
    assert 'name="category-media"' in html  # the choice can still be changed
