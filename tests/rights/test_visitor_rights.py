"""/meine-daten: a visitor sees, downloads and erases their own receipts; a stranger nothing."""

from __future__ import annotations

import json
import re

from sqlalchemy import inspect, select

from tests.conftest import csrf_token, post_choice
from tests.rights.helpers import make_app, web_client
from website.consent.texts import TEXTS
from website.rights.tables import tombstones


def consent_id_of(client) -> str:
    return client.get("/consent").get_json()["consent_id"]


def test_holder_sees_receipts_with_the_notice_texts_they_saw(client, store):
    post_choice(client, {"categories": {"statistics": True}})
    post_choice(client, {"categories": {"statistics": False}, "lang": "en"})
    consent_id = consent_id_of(client)
    page = client.get("/meine-daten").get_data(as_text=True)
    assert consent_id in page
    assert page.count("<tr><td><time") == 2
    # The German and the English notice, each with the texts the banner showed.
    assert TEXTS["de"]["accept_all"] in page and TEXTS["en"]["accept_all"] in page
    english = client.get("/meine-daten?lang=en").get_data(as_text=True)
    assert "Your receipts, newest first" in english and 'lang="en"' in english


def test_stranger_sees_nothing_of_anybodys(app, client, store):
    post_choice(client, {"categories": {"statistics": True}})
    consent_id = consent_id_of(client)
    stranger = web_client(app)
    page = stranger.get("/meine-daten").get_data(as_text=True)
    assert consent_id not in page and "Nothing is stored" not in page
    assert "Zu diesem Browser ist nichts gespeichert" in page
    export = stranger.get("/meine-daten/export").get_json()
    assert export["receipts"] == [] and export["consent_id"] is None
    # A forged or tampered cookie is nobody.
    stranger.set_cookie("consent", client.get_cookie("consent").value[:-3] + "abc")
    assert consent_id not in stranger.get("/meine-daten").get_data(as_text=True)
    stranger.set_cookie("consent", json.dumps({"i": consent_id}))
    assert stranger.get("/meine-daten/export").get_json()["receipts"] == []
    # No URL names a consent id.
    assert stranger.get(f"/meine-daten/export?consent_id={consent_id}").get_json()[
        "receipts"] == []


def test_export_holds_receipts_and_their_notices(client, store):
    post_choice(client, {"categories": {"statistics": True}})
    post_choice(client, {"categories": {"marketing": True}, "lang": "en"})
    response = client.get("/meine-daten/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="meine-daten.json"'
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()
    assert document["schema"] == "website-visitor-export/1"
    assert document["consent_id"] == consent_id_of(client)
    assert [r["receipt_id"] for r in document["receipts"]] == [
        r.receipt_id for r in store.history(document["consent_id"])]
    for receipt in document["receipts"]:
        notice = document["notices"][receipt["notice_hash"]]
        assert notice["language"] == receipt["language"]
        assert notice["content"]["texts"] == TEXTS[receipt["language"]]
    assert len(document["notices"]) == 2


def test_an_outdated_or_expired_cookie_still_finds_its_receipts(app, client, store):
    """current_decision() ignores an old-revision cookie; the receipts are still the holder's."""
    post_choice(client, {"categories": {"statistics": True}})
    consent_id = consent_id_of(client)
    manager = app.extensions["consent"]
    old = manager.cookie.serializer.dumps({"i": consent_id, "r": "old-revision", "m": "banner",
                                           "c": [], "s": []})
    other = web_client(app)
    other.set_cookie("consent", old)
    assert other.get("/consent").get_json()["decided"] is False
    assert len(other.get("/meine-daten/export").get_json()["receipts"]) == 1


def test_erase_needs_csrf_and_then_erases_only_the_holders_receipts(app, client, store):
    post_choice(client, {"categories": {"statistics": True}})
    post_choice(client, {"categories": {"statistics": False}})
    mine = consent_id_of(client)
    someone = web_client(app)
    post_choice(someone, {"categories": {"marketing": True}})
    theirs = consent_id_of(someone)

    refused = client.post("/meine-daten/loeschen", data={})
    assert refused.status_code == 400 and len(store.history(mine)) == 2

    token = csrf_token(client, "/meine-daten")
    response = client.post("/meine-daten/loeschen", data={"csrf_token": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 Nachweise gelöscht" in page
    assert store.history(mine) == [] and len(store.history(theirs)) == 1
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("consent=")]
    assert cookie and "Max-Age=0" in cookie[0]
    assert client.get_cookie("consent") is None
    assert client.get("/consent").get_json()["decided"] is False
    assert mine not in client.get("/meine-daten").get_data(as_text=True)

    with store.engine.connect() as connection:
        rows = [row._asdict() for row in connection.execute(select(tombstones))]
        columns = {c["name"] for c in inspect(connection).get_columns("tombstones")}
    assert columns == {"id", "erased_at", "receipts_count", "reason"}
    assert len(rows) == 1 and rows[0]["receipts_count"] == 2
    assert mine not in json.dumps(rows, default=str)


def test_erase_without_receipts_writes_no_tombstone(client, store):
    token = csrf_token(client, "/meine-daten")
    response = client.post("/meine-daten/loeschen?lang=en", data={"csrf_token": token})
    assert response.status_code == 200
    assert "Nothing was stored for this browser" in response.get_data(as_text=True)
    with store.engine.connect() as connection:
        assert connection.execute(select(tombstones)).first() is None


def test_pages_link_to_my_data(client):
    for path in ("/", "/cookie-einstellungen", "/datenschutz"):
        assert 'href="/meine-daten"' in client.get(path).get_data(as_text=True), path
    assert 'href="/meine-daten?lang=en"' in client.get("/?lang=en").get_data(as_text=True)


def test_rate_limit_answers_429_and_is_configurable(database_url):
    with make_app(database_url, RIGHTS_RATE_LIMIT="2 per minute",
                  RIGHTS_ERASE_RATE_LIMIT="1 per minute") as app:
        client = web_client(app)
        assert [client.get("/meine-daten").status_code for _ in range(3)] == [200, 200, 429]
        limited = client.get("/meine-daten/export", headers={"Accept": "application/json"})
        assert limited.status_code == 429
        assert limited.get_json()["error"] == "too_many_requests"
        assert "Retry-After" in limited.headers
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
        assert other.get("/meine-daten").status_code == 200  # per address
        token = csrf_token(client)
        statuses = [client.post("/meine-daten/loeschen", data={"csrf_token": token}).status_code
                    for _ in range(2)]
        assert statuses == [200, 429]
    with make_app(database_url, RATELIMIT_ENABLED=False, RIGHTS_RATE_LIMIT="1 per minute") as app:
        client = web_client(app)
        assert {client.get("/meine-daten").status_code for _ in range(3)} == {200}


def test_only_limited_endpoints_reach_the_limiter(database_url):
    """Pages and consent decisions skip the limiter altogether (no lookup, no counter), while
    every endpoint that has a limit still counts and refuses."""
    with make_app(database_url, RIGHTS_RATE_LIMIT="2 per minute") as app:
        counters = app.extensions["rights_limiter"].storage.storage
        client = web_client(app)
        for _ in range(3):
            assert client.get("/").status_code == 200
            assert client.get("/healthz").status_code == 200
            assert post_choice(client, {"categories": {"statistics": True}}).status_code == 200
        assert not counters
        assert [client.get("/meine-daten").status_code for _ in range(3)] == [200, 200, 429]
        assert counters
        limited = app.extensions["rate_limited_endpoints"]
        assert "rights.my_data" in limited and "consent.save_choice" not in limited


def test_rate_limit_storage_comes_from_the_environment(database_url, monkeypatch):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with make_app(database_url) as app:
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    with make_app(database_url, RATELIMIT_STORAGE_URI="memory://?x=1") as app:
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://?x=1"


def test_my_data_escapes_stored_values(client, store):
    """A notice is the operator's text, but the page escapes whatever the store holds."""
    from datetime import UTC, datetime

    from tests.rights.helpers import stored_receipt
    from website.consent.receipts import Notice

    post_choice(client, {"categories": {"statistics": True}})
    consent_id = consent_id_of(client)
    evil = Notice.of("r1", "de", {"script": "<script>alert(1)</script>"})
    stored_receipt(store, consent_id, datetime(2026, 1, 1, tzinfo=UTC), notice=evil)
    page = client.get("/meine-daten").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<script>alert", page)
