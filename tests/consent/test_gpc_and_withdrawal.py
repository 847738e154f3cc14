"""Global Privacy Control and withdrawal: refusals recorded once, refused cookies expired."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from tests.conftest import csrf_token, post_choice
from website.consent.gpc import gpc_enabled


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1"], True),
        (["0"], False),
        (["true"], False),
        (["yes"], False),
        ([], False),
        (["0", "1"], True),  # repeated headers: one exact "1" is enough
        (["0, 1"], True),  # ... also when joined by the server
        (["10"], False),
    ],
)
def test_gpc_header_values(values, expected):
    headers = Headers([("Sec-GPC", v) for v in values])
    assert gpc_enabled(headers) is expected


def test_gpc_is_honoured_without_writing_anything(client, store, app):
    """A GPC page view: no first layer, nothing optional live, Consent Mode denied, no cookie,
    no receipt; only an aggregate daily count, in memory until flushed."""
    counter = app.extensions["consent"].gpc_views
    for path in ("/", "/impressum", "/cookie-einstellungen"):
        page = client.get(path, headers={"Sec-GPC": "1"})
        assert page.status_code == 200
        assert not any(h.startswith("consent=") for h in page.headers.getlist("Set-Cookie"))
        assert "Sec-GPC" in page.headers["Vary"]
        html = page.get_data(as_text=True)
        assert 'id="consent-banner"' not in html  # the signal is the answer; no nagging
    assert 'data-service="ga4"' in client.get("/", headers={"Sec-GPC": "1"}).get_data(True)
    assert 'gtag("consent", "update"' not in client.get("/", headers={"Sec-GPC": "1"}).get_data(
        True
    )
    state = client.get("/consent", headers={"Sec-GPC": "1"}).get_json()
    assert state["decided"] is False and state["gpc"] is True and not state["services"]["ga4"]
    assert client.get("/nope", headers={"Sec-GPC": "1"}).status_code == 404
    assert list(store.export()) == []
    assert sum(counter.pending().values()) == 5  # five page views; not the JSON state, not the 404


def test_gpc_view_counts_reach_the_store_as_one_number_per_day(app, store):
    from datetime import date

    counter = app.extensions["consent"].gpc_views
    day = date(2026, 11, 24)
    for _ in range(3):
        counter.count(day)
    counter.flush()
    counter.count(day)
    counter.flush()
    assert store.gpc_views(day, day) == {day: 4}
    assert counter.pending() == {}


def test_many_gpc_gets_write_no_receipt(client, store):
    """The old flaw: every cookieless GET with Sec-GPC wrote a receipt, path chosen by anyone."""
    for number in range(200):
        client.get(f"/?attack={number}", headers={"Sec-GPC": "1"})
        client.get(f"/x/{number}", headers={"Sec-GPC": "1"})
    assert list(store.export()) == []


def test_explicit_choice_wins_over_gpc(client, store):
    client.get("/", headers={"Sec-GPC": "1"})
    token = csrf_token(client)
    body = client.post(
        "/consent",
        json={"categories": {"statistics": True}},
        headers={"X-CSRFToken": token, "Sec-GPC": "1"},
    ).get_json()
    assert body["services"]["matomo"] is True
    page = client.get("/", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert '<script nonce="' in page and 'src="https://statistik.example.de/matomo.js"' in page
    (receipt,) = list(store.export())
    assert receipt.method == "api" and receipt.gpc is True


def test_gpc_without_header_is_not_applied(client, store):
    client.get("/", headers={"Sec-GPC": "0"})
    assert list(store.export()) == []


def test_settings_page_says_gpc_is_honoured(client):
    html = client.get("/cookie-einstellungen", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Global Privacy Control" in html


def test_well_known_gpc_json(client):
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["gpc"] is True
    assert len(body["lastUpdate"]) == 10 and body["lastUpdate"][4] == "-"


def expired(response, name: str) -> list[str]:
    return [
        h for h in response.headers.getlist("Set-Cookie")
        if h.startswith(f"{name}=;") and "Max-Age=0" in h
    ]


def test_withdrawal_records_receipt_and_expires_cookies(client, store):
    accepted = post_choice(client, {"categories": {"statistics": True, "marketing": True}})
    consent_id = accepted.get_json()["consent_id"]
    for name in ("_ga", "_ga_ABC123", "_pk_id.1.a1b2", "_pk_ses.1.a1b2", "unrelated"):
        client.set_cookie(name, "1")
    token = csrf_token(client)
    response = client.post(
        "/consent/withdraw", json={"method": "settings"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["decided"] is True and not body["services"]["ga4"]
    for name in ("_ga", "_ga_ABC123", "_pk_id.1.a1b2", "_pk_ses.1.a1b2", "_fbp"):
        assert expired(response, name), f"{name} is not expired"
    assert not expired(response, "unrelated")
    assert not expired(response, "session")
    # The decision cookie is replaced by a refusal, not deleted.
    consent = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("consent=")]
    assert consent and "Max-Age=15724800" in consent[0]

    receipts = store.history(consent_id)
    assert [r.action for r in receipts] == ["custom", "withdraw"]
    assert receipts[-1].method == "settings"
    assert not any(v for k, v in receipts[-1].services.items() if k != "site")


def test_withdrawal_expires_cookies_on_host_and_parent_domain(client):
    post_choice(client, {"categories": {"statistics": True}})
    client.set_cookie("_ga", "GA1.2.3", domain="www.example.de")
    token = client.get("/", base_url="http://www.example.de").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf-token" content="([^"]+)"', token).group(1)
    response = client.post(
        "/consent/withdraw",
        json={},
        base_url="http://www.example.de",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = expired(response, "_ga")
    assert any("Domain=" not in h for h in headers)
    assert any("Domain=www.example.de" in h for h in headers)
    assert any("Domain=example.de" in h for h in headers)


def test_narrower_choice_expires_cookies_of_newly_refused_services(client):
    post_choice(client, {"categories": {"statistics": True}})
    client.set_cookie("_ga", "GA1.2.3")
    client.set_cookie("_pk_id.1.ab", "x")
    response = post_choice(client, {"categories": {"statistics": True}, "services": {"ga4": False}})
    assert expired(response, "_ga")
    assert not expired(response, "_pk_id.1.ab")  # Matomo is still granted


def test_withdrawal_bad_input(client, store):
    token = csrf_token(client)
    bad_json = client.post(
        "/consent/withdraw", data=b"{", content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert bad_json.status_code == 400 and "JSON" in bad_json.get_json()["message"]
    extra = client.post(
        "/consent/withdraw", json={"categories": {}}, headers={"X-CSRFToken": token}
    )
    assert extra.status_code == 400
    wrong_type = client.post(
        "/consent/withdraw", data="x", content_type="text/csv", headers={"X-CSRFToken": token}
    )
    assert wrong_type.status_code == 415
    no_token = client.post("/consent/withdraw", json={})
    assert no_token.status_code == 400
    assert list(store.export()) == []


def test_the_gpc_flusher_thread_runs_only_when_configured():
    import threading

    from website.consent.gpc import GpcViewCounter

    flushed: list[dict] = []
    quiet = GpcViewCounter(flush_every=0)
    quiet.flush_to = flushed.append
    before = set(threading.enumerate())
    quiet.count()
    assert set(threading.enumerate()) - before == set()
    quiet.flush()
    assert sum(flushed[0].values()) == 1
    failing = GpcViewCounter(flush_every=0)

    def down(counts):
        raise RuntimeError("database down")

    failing.flush_to = down
    failing.count()
    failing.flush()
    assert sum(failing.pending().values()) == 1  # kept for the next try, not lost
