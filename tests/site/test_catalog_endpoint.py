"""The second layer's catalog file: revision-keyed, cacheable for ever, 404 JSON otherwise; and
the page's own config carrying only what the first layer needs."""

from __future__ import annotations

import json
import re

import pytest


def page_config(client, path: str = "/") -> dict:
    html = client.get(path).get_data(as_text=True)
    return json.loads(re.search(r'id="consent-config">(.*?)</script>', html).group(1))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_catalog_file_is_immutable_and_complete(app, client, lang):
    revision = app.extensions["consent"].catalog.revision
    response = client.get(f"/consent/catalog.{revision}.{lang}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert cache == {"public", "max-age=31536000", "immutable"}
    assert "Cookie" not in response.vary  # the same file for every visitor
    assert "Set-Cookie" not in response.headers
    body = response.get_json()
    assert (body["revision"], body["lang"]) == (revision, lang)
    services = {s["name"]: s for c in body["categories"] for s in c["services"]}
    assert {"site", "matomo", "ga4", "meta_pixel", "google_ads", "youtube"} <= set(services)
    assert services["ga4"]["provider"].startswith("Google Ireland Limited")
    assert any(k["name"] == "_ga_*" for k in services["ga4"]["cookies"])
    assert body["texts"]["save"] == ("Auswahl speichern" if lang == "de" else "Save selection")
    assert body["links"] == {"privacy": "/datenschutz", "imprint": "/impressum"}


def test_page_config_points_at_the_catalog_file_of_its_language(app, client):
    revision = app.extensions["consent"].catalog.revision
    assert page_config(client)["endpoints"]["catalog"] == f"/consent/catalog.{revision}.de.json"
    english = page_config(client, "/?lang=en")["endpoints"]["catalog"]
    assert english == f"/consent/catalog.{revision}.en.json"
    assert client.get(english).status_code == 200


def test_page_config_carries_no_catalog_details(client):
    config = page_config(client)
    text = json.dumps(config, ensure_ascii=False)
    for detail in ("Google Ireland", "_ga_", "Data Privacy Framework", "Auswahl speichern",
                   "Rechtsgrundlage"):
        assert detail not in text
    assert set(config) == {"lang", "decided", "method", "granted", "gpc", "cats", "required",
                           "gcm", "texts", "endpoints"}
    assert config["granted"] == ["site"] and config["decided"] is False
    assert set(config["texts"]) == {"close", "gpc", "pending", "saved"}
    assert len(json.dumps(config, ensure_ascii=False).encode()) < 1100


def test_page_config_is_utf8_and_cannot_close_its_script(client):
    html = client.get("/").get_data(as_text=True)
    block = re.search(r'id="consent-config">(.*?)</script>', html).group(1)
    assert "Schließen" in block and "\\u00df" not in block
    assert "<" not in block and "&" not in block


@pytest.mark.parametrize(
    "path",
    [
        "/consent/catalog.0000000000000000.de.json",
        "/consent/catalog.{revision}.es.json",
        "/consent/catalog.{revision}.de.json.bak",
        "/consent/catalog.{revision}..json",
        "/consent/catalog.{revision}.DE.json",
        "/consent/catalog.%3Cscript%3E.de.json",
    ],
)
def test_unknown_revision_or_language_is_a_json_404(app, client, path):
    revision = app.extensions["consent"].catalog.revision
    response = client.get(path.format(revision=revision))
    assert response.status_code == 404
    if response.mimetype == "application/json":
        assert response.get_json()["error"] == "not_found"
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script>" not in response.get_data(as_text=True)


def test_unknown_revision_answers_json_even_for_a_browser(app, client):
    response = client.get("/consent/catalog.0000000000000000.de.json",
                          headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert app.extensions["consent"].catalog.revision in response.get_json()["message"]


def test_catalog_file_writes_nothing(app, client, store):
    revision = app.extensions["consent"].catalog.revision
    for _ in range(3):
        client.get(f"/consent/catalog.{revision}.de.json", headers={"Sec-GPC": "1"})
    assert list(store.export()) == []
