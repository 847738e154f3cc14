"""The visitor's own erasure (POST /meine-daten/loeschen) expires what a withdrawal expires:
the decision cookie and every cookie of an optional service (catalog.toml), on every domain
it may live on here. Cookies of no service, and the required session cookie, are kept.
(The admin's erasure answers the operator's browser: tests/admin/test_requests.py.)"""

from __future__ import annotations

import re

from tests.conftest import csrf_token, post_choice
from tests.rights.helpers import make_app, web_client

SENT = ("_ga", "_ga_ABC123", "_pk_id.1.a1b2", "_pk_ses.1.a1b2")  # exact names and patterns
LISTED = ("_ga", "_fbp", "_fbc")  # exact names in the catalog: expired even if not sent
HOST = "http://www.example.de"


def expired(response, name: str) -> list[str]:
    return [
        h for h in response.headers.getlist("Set-Cookie")
        if h.startswith(f"{name}=;") and "Max-Age=0" in h
    ]


def erase(client, **request):
    token = csrf_token(client, "/meine-daten") if not request else re.search(
        r'name="csrf-token" content="([^"]+)"',
        client.get("/meine-daten", **request).get_data(as_text=True),
    ).group(1)
    return client.post("/meine-daten/loeschen", data={"csrf_token": token}, **request)


def test_erasure_expires_the_cookies_consented_services_set(client, store):
    consent_id = post_choice(
        client, {"categories": {"statistics": True, "marketing": True}}
    ).get_json()["consent_id"]
    for name in (*SENT, "unrelated"):
        client.set_cookie(name, "1")

    response = erase(client)

    assert response.status_code == 200 and store.history(consent_id) == []
    for name in (*SENT, *LISTED, "consent"):
        assert expired(response, name), f"{name} is not expired"
    assert not expired(response, "unrelated")  # no service's cookie
    assert not expired(response, "session")  # required (CSRF), not a service's
    assert all(client.get_cookie(name) is None for name in (*SENT, "consent"))
    assert client.get_cookie("unrelated") is not None
    assert client.get("/consent").get_json()["decided"] is False


def test_a_browser_with_nothing_stored_still_loses_its_service_cookies(client, store):
    client.set_cookie("_ga", "GA1.2.3")
    response = erase(client)
    assert response.status_code == 200
    assert expired(response, "_ga") and client.get_cookie("_ga") is None


def test_erasure_expires_them_on_host_parent_and_shared_domain(database_url):
    """With CONSENT_COOKIE_DOMAIN the decision cookie lives on the shared domain: a host-only
    deletion alone would leave it (and the banner would not ask again)."""
    with make_app(database_url, CONSENT_COOKIE_DOMAIN="example.de") as app:
        client = web_client(app)
        page = client.get("/", base_url=HOST).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        decided = client.post("/consent", json={"categories": {"statistics": True}},
                              base_url=HOST, headers={"X-CSRFToken": token})
        assert decided.status_code == 200, decided.get_data(as_text=True)
        assert client.get_cookie("consent", domain="example.de") is not None
        client.set_cookie("_ga", "GA1.2.3", domain="example.de")
        client.set_cookie("_pk_id.1.a1b2", "x", domain="www.example.de")

        response = erase(client, base_url=HOST)

        assert response.status_code == 200
        for name in ("consent", "_ga", "_pk_id.1.a1b2"):
            domains = {re.search(r"Domain=([^;]+)", h)[1] if "Domain=" in h else None
                       for h in expired(response, name)}
            assert {None, "www.example.de", "example.de"} <= domains, (name, domains)
        assert client.get_cookie("consent", domain="example.de") is None
        assert client.get_cookie("_ga", domain="example.de") is None
        assert client.get("/consent", base_url=HOST).get_json()["decided"] is False
