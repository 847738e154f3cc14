"""The signed decision cookie: tampering, expiry and catalog revisions all mean 'no decision'."""

from __future__ import annotations

import shutil
from pathlib import Path

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.conftest import post_choice
from website import create_app
from website.consent.decision import COOKIE_NAME


def consent_cookie(client) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def test_tampered_cookie_counts_as_no_decision(client):
    post_choice(client, {"categories": {"statistics": True}})
    value = consent_cookie(client)
    payload, _, signature = value.partition(".")
    client.set_cookie(COOKIE_NAME, payload[:-2] + "xx." + signature)
    state = client.get("/consent").get_json()
    assert state["decided"] is False
    assert state["services"]["ga4"] is False
    assert 'id="consent-banner"' in client.get("/").get_data(as_text=True)


def test_cookie_signed_with_another_key_counts_as_no_decision(client, app):
    forged = URLSafeTimedSerializer("attacker-key", salt="consent-decision").dumps(
        {"i": "x", "r": app.extensions["consent"].catalog.revision, "m": "banner",
         "c": ["statistics"], "s": ["ga4", "matomo"]}
    )
    client.set_cookie(COOKIE_NAME, forged)
    assert client.get("/consent").get_json()["decided"] is False
    assert 'data-src="https://www.googletagmanager.com' in client.get("/").get_data(as_text=True)


class _SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return super().get_timestamp() - 200 * 86400


def test_expired_cookie_counts_as_no_decision(client, app):
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="consent-decision", signer=_SignedLongAgo
    ).dumps(
        {"i": "old-id", "r": app.extensions["consent"].catalog.revision, "m": "banner",
         "c": ["statistics"], "s": ["ga4", "matomo"]}
    )
    client.set_cookie(COOKIE_NAME, old)
    assert client.get("/consent").get_json()["decided"] is False
    # The same cookie within its lifetime is a decision: the expiry is what made it void.
    fresh = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="consent-decision").dumps(
        {"i": "old-id", "r": app.extensions["consent"].catalog.revision, "m": "banner",
         "c": ["statistics"], "s": ["ga4", "matomo"]}
    )
    client.set_cookie(COOKIE_NAME, fresh)
    assert client.get("/consent").get_json()["services"]["ga4"] is True


def test_revision_change_asks_again_and_keeps_the_consent_id(app, client, tmp_path: Path):
    body = post_choice(client, {"categories": {"statistics": True}}).get_json()
    assert 'id="consent-banner"' not in client.get("/").get_data(as_text=True)

    changed = tmp_path / "catalog.toml"
    shutil.copy(app.config["CONSENT_CATALOG"], changed)
    text = changed.read_text(encoding="utf-8")
    changed.write_text(
        text.replace('lifetime = "2 years"', 'lifetime = "3 years"', 1),
        encoding="utf-8",
    )
    new_app = create_app({**app.config, "CONSENT_CATALOG": str(changed)})
    assert new_app.extensions["consent"].catalog.revision != body["revision"]

    new_client = new_app.test_client()
    new_client.set_cookie(COOKIE_NAME, consent_cookie(client))
    state = new_client.get("/consent").get_json()
    assert state["decided"] is False
    assert state["services"]["ga4"] is False
    page = new_client.get("/").get_data(as_text=True)
    assert 'id="consent-banner"' in page
    assert 'type="text/plain" data-consent="statistics" data-service="ga4"' in page

    again = post_choice(new_client, {"categories": {}}).get_json()
    assert again["consent_id"] == body["consent_id"]
    assert again["revision"] == new_app.extensions["consent"].catalog.revision


def test_consent_cookie_is_secure_over_https(client):
    response = post_choice(client, {"categories": {}}, **{"X-Forwarded-Proto": "https"})
    # Without trusted proxies the forwarded scheme is ignored ...
    assert "Secure" not in response.headers["Set-Cookie"]
    secure = client.post(
        "/consent",
        json={"categories": {}},
        base_url="https://localhost",
        headers={"X-CSRFToken": _token_over_https(client), "Referer": "https://localhost/"},
    )
    assert secure.status_code == 200, secure.get_data(as_text=True)
    consent = [h for h in secure.headers.getlist("Set-Cookie") if h.startswith("consent=")]
    assert consent and "Secure" in consent[0]
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def _token_over_https(client) -> str:
    import re

    page = client.get("/", base_url="https://localhost").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
