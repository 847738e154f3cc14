"""What a receipt proves and what a page grants: the notice language the visitor saw, Consent
Mode types per granted service, the first layer's content, and GET requests that never write."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import csrf_token, post_choice


def update_call(html: str) -> dict[str, str] | None:
    match = re.search(r'gtag\("consent", "update", (\{[^}]+\})\)', html)
    return json.loads(match.group(1)) if match else None


@pytest.mark.parametrize(
    ("services", "granted"),
    [
        ({"meta_pixel": True}, set()),  # Meta is not Google: no Google type granted
        ({"matomo": True}, set()),  # nor is Matomo
        ({"ga4": True}, {"analytics_storage"}),
        ({"google_ads": True}, {"ad_storage", "ad_user_data", "ad_personalization"}),
        ({"ga4": True, "google_ads": True},
         {"analytics_storage", "ad_storage", "ad_user_data", "ad_personalization"}),
    ],
)
def test_consent_mode_types_follow_the_services_granted(client, services, granted):
    categories = {"statistics": False, "marketing": False, "media": False}
    body = {"categories": categories, "services": {
        name: name in services for name in ("matomo", "ga4", "meta_pixel", "google_ads")}}
    assert post_choice(client, body).status_code == 200
    update = update_call(client.get("/").get_data(as_text=True))
    assert update is not None
    optional_types = {"analytics_storage", "ad_storage", "ad_user_data", "ad_personalization"}
    assert {t for t in optional_types if update.get(t) == "granted"} == granted
    assert {t for t in optional_types if update.get(t) == "denied"} == optional_types - granted
    assert update["security_storage"] == "granted"  # the site's own, essential


def test_banner_config_carries_the_consent_mode_map_per_service(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'id="consent-config">(.*?)</script>', html).group(1))
    # The first layer's config carries the map service -> types (only services with types);
    # the rest of the catalog comes with the second layer (issue 12).
    assert config["gcm"]["ga4"] == ["analytics_storage"]
    assert "meta_pixel" not in config["gcm"]
    assert set(config["cats"]) == {"statistics", "marketing", "media"}


@pytest.mark.parametrize("form", [False, True])
def test_receipt_records_the_language_of_the_notice_seen(app, client, store, form):
    """/?lang=en with a German Accept-Language: the visitor read English, so the receipt says
    en and points to the English notice, for JSON and no-JS posts alike."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    if form:
        assert '<input type="hidden" name="lang" value="en">' in page
        response = client.post("/consent", data={"csrf_token": token, "action": "reject_all",
                                                 "lang": "en"})
        assert response.status_code == 303
    else:
        response = client.post("/consent", json={"categories": {}, "lang": "en"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 200
    (receipt,) = list(store.export())
    english = app.extensions["consent"].notices["en"]
    assert receipt.language == "en" and receipt.notice_hash == english.notice_hash
    assert json.loads(store.notice(receipt.notice_hash).content)["language"] == "en"


def test_receipt_language_without_lang_is_the_requests(client, store):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    post_choice(client, {"categories": {}})
    assert list(store.export())[0].language == "en"
    bad = post_choice(client, {"categories": {}, "lang": "es"})  # not a site language
    assert bad.status_code == 400 and '"lang"' in bad.get_json()["message"]
    assert len(list(store.export())) == 1


def test_first_layer_names_controller_purposes_and_transfers(client):
    html = client.get("/").get_data(as_text=True)
    banner = html[html.index('id="consent-banner"'):]
    assert "Verantwortlich: Beispiel Digitalagentur GmbH" in banner
    assert "Statistik (Matomo, Google Analytics 4, Google Tag Manager): Reichweiten" in banner
    assert "Marketing (Meta Pixel, Google Ads Conversion Tracking): Messung" in banner
    assert "Übermittlung in Drittländer (Vereinigte Staaten) durch Google Analytics 4" in banner
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Controller: Beispiel Digitalagentur GmbH" in english
    assert ("Transfer to third countries (United States) by Google Analytics 4, Google Tag "
            "Manager") in english
    text = re.sub(r"<[^>]+>", " ", banner[: banner.index("</section>")])
    assert len(" ".join(text.split())) < 1500  # still a short, readable first layer


def test_no_get_request_writes(app, client, store):
    """Every GET route, with and without GPC, with odd paths and a decision cookie: the
    database's receipts stay exactly as they were."""
    post_choice(client, {"categories": {"statistics": True}})
    before = [r.receipt_id for r in store.export()]
    paths = {"/", "/nope", "/static/missing.js", "/consent?x=1", "/%2e%2e/etc"}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            paths.add(rule.rule)
    stranger = app.test_client()
    for path in sorted(paths):
        for browser in (client, stranger):
            for headers in ({}, {"Sec-GPC": "1"}, {"Sec-Fetch-Site": "cross-site"}):
                assert browser.get(path, headers=headers).status_code < 500, path
    assert [r.receipt_id for r in store.export()] == before


def test_form_post_without_lang_still_works(client, store):
    token = csrf_token(client)
    assert client.post("/consent", data={"csrf_token": token, "action": "accept_all"}
                       ).status_code == 303
    assert list(store.export())[0].language == "de"
