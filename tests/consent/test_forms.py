"""The no-JavaScript path: plain form posts from the banner, the settings page and embeds."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import csrf_token
from website.consent.decision import COOKIE_NAME


def form_fields(html: str, form_marker: str) -> dict[str, list[str]]:
    """The hidden inputs of the first form whose opening tag or body contains ``form_marker``."""
    for form in re.findall(r"<form.*?</form>", html, flags=re.S):
        if form_marker in form:
            fields: dict[str, list[str]] = {}
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form
            ):
                fields.setdefault(name, []).append(value)
            return fields
    raise AssertionError(f"no form with {form_marker!r}")


def test_banner_form_reject_all_redirects_back(client, store):
    html = client.get("/impressum").get_data(as_text=True)
    fields = form_fields(html, 'value="reject_all"')
    assert fields["next"] == ["/impressum"]
    response = client.post(
        "/consent", data={**{k: v[0] for k, v in fields.items()}, "action": "reject_all"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/impressum"
    assert client.get_cookie(COOKIE_NAME) is not None
    (receipt,) = list(store.export())
    assert (receipt.action, receipt.method) == ("reject_all", "form")
    assert receipt.page_path == "/impressum"
    follow = client.get("/impressum").get_data(as_text=True)
    assert 'id="consent-banner"' not in follow


def test_banner_form_accept_all_makes_tags_live(client, store):
    token = csrf_token(client)
    response = client.post("/consent", data={"csrf_token": token, "action": "accept_all"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert 'src="https://www.googletagmanager.com/gtag/js?id=G-EXAMPLE123" async' in html
    assert 'type="text/plain"' not in html
    assert '<iframe src="https://www.youtube-nocookie.com/embed/' in html
    assert list(store.export())[0].action == "accept_all"


@pytest.mark.parametrize(
    ("fields", "granted"),
    [
        ({"category-statistics": "on"}, {"matomo", "ga4", "gtm"}),
        ({"category-statistics": "on", "service-ga4": "on"}, {"ga4"}),
        ({"service-ga4": "on"}, {"ga4"}),  # a ticked service counts without its category
        ({"service-ga4": "on", "service-youtube": "on"}, {"ga4", "youtube"}),
        ({"category-media": "on", "category-marketing": "on"},
         {"youtube", "meta_pixel", "google_ads"}),
        ({}, set()),
    ],
)
def test_settings_form_save_semantics(client, store, fields, granted):
    token = csrf_token(client, "/cookie-einstellungen")
    response = client.post(
        "/consent",
        data={"csrf_token": token, "action": "save", "method": "settings",
              "next": "/cookie-einstellungen", **fields},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/cookie-einstellungen"
    (receipt,) = list(store.export())
    assert receipt.method == "settings"
    assert {k for k, v in receipt.services.items() if v and k != "site"} == granted
    assert receipt.action == ("custom" if granted else "reject_all")


def test_settings_page_shows_state_and_history(client):
    token = csrf_token(client, "/cookie-einstellungen")
    client.post("/consent", data={"csrf_token": token, "action": "save",
                                  "category-statistics": "on", "service-matomo": "on"})
    client.post("/consent/withdraw", data={"csrf_token": token, "method": "settings"})
    html = client.get("/cookie-einstellungen").get_data(as_text=True)
    assert "Ihre aktuelle Auswahl" in html
    assert html.count("<tr><td><time") == 2
    # Receipts in words, not raw ids (issue 12), newest first.
    assert html.index(">Einwilligungen widerrufen<") < html.index(">Eigene Auswahl<")
    assert ">Einstellungsseite<" in html and ">Formular ohne JavaScript<" in html
    assert ">custom<" not in html and ">form<" not in html
    assert 'name="category-statistics" id="category-statistics" value="on">' in html  # unticked


def test_settings_page_never_pre_ticks(client):
    html = client.get("/cookie-einstellungen").get_data(as_text=True)
    optional = re.findall(r'<input type="checkbox" name="(?:category|service)-[^>]*>', html)
    assert len(optional) == 3 + 6  # three optional categories, six optional services
    assert not any("checked" in box for box in optional)
    assert 'id="category-essential" checked disabled' in html
    for text in ("Google Ireland Limited", "_ga_*", "2 Jahre", "Data Privacy Framework",
                 "https://policies.google.com/privacy", "Art. 6 Abs. 1 lit. a DSGVO",
                 "Verantwortlich: Beispiel Digitalagentur GmbH", "Verarbeitete Daten",
                 "<code>yt-player-*</code> (Local Storage)",
                 "Warum notwendig: Nur so kann die Website erkennen"):
        assert text in html
    for label in ("Alle akzeptieren", "Nur notwendige", "Auswahl speichern"):
        assert label in html
    # Nothing to withdraw before a decision exists; the settings page is its own first layer.
    assert "Alle Einwilligungen widerrufen" not in html
    assert 'id="consent-banner"' not in html


def test_embed_placeholder_form_keeps_existing_grants(client, store):
    token = csrf_token(client)
    client.post("/consent", data={"csrf_token": token, "action": "save",
                                  "category-statistics": "on", "service-matomo": "on"})
    html = client.get("/").get_data(as_text=True)
    assert "consent-placeholder" in html and "youtube-nocookie.com/embed" in html
    assert "<iframe src=" not in html
    fields = form_fields(html, "YouTube laden")
    response = client.post("/consent", data=MultiDict(
        [(name, value) for name, values in fields.items() for value in values]
    ))
    assert response.status_code == 303
    last = list(store.export())[-1]
    assert {k for k, v in last.services.items() if v and k != "site"} == {"matomo", "youtube"}
    assert '<iframe src="https://www.youtube-nocookie.com/embed/' in client.get("/").get_data(
        as_text=True
    )


def test_offsite_next_is_ignored(client):
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/consent", data={"csrf_token": token, "action": "reject_all", "next": target}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/", target


def test_form_without_csrf_token_shows_a_page_and_records_nothing(client, store):
    client.get("/")
    response = client.post("/consent", data={"action": "accept_all"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Es wurde nichts gespeichert" in response.get_data(as_text=True)
    assert list(store.export()) == []


@pytest.mark.parametrize(
    "fields",
    [{"action": "maybe"}, {"action": "save", "category-tracking": "on"},
     {"action": "save", "service-hotjar": "on"}, {}],
)
def test_bad_form_input_is_400_and_records_nothing(client, store, fields):
    token = csrf_token(client)
    response = client.post("/consent", data={"csrf_token": token, **fields})
    assert response.status_code == 400
    assert list(store.export()) == []
