"""Pages, languages, legal texts and the security headers every response carries."""

from __future__ import annotations

import re

import pytest

from tests.conftest import post_choice

PAGES = ["/", "/datenschutz", "/impressum", "/cookie-einstellungen"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_footer_links_csrf_meta_and_banner_script(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert '<a href="/cookie-einstellungen" data-consent-open>Cookie-Einstellungen</a>' in html
    assert '<a href="/datenschutz">Datenschutz</a>' in html
    assert '<a href="/impressum">Impressum</a>' in html
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}">', html)
    assert 'id="consent-config"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert {"Cookie", "Accept-Language", "Sec-GPC"} <= set(response.vary)


@pytest.mark.parametrize("path", [*PAGES, "/consent", "/healthz", "/.well-known/gpc.json"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert re.search(r"script-src 'nonce-[A-Za-z0-9_-]{20,}' 'strict-dynamic'", csp)
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "https://www.youtube-nocookie.com" in csp.split("frame-src", 1)[1]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_nonce_is_fresh_per_request_and_on_every_script(client):
    first, second = client.get("/"), client.get("/")
    nonces = [
        re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        for r in (first, second)
    ]
    assert nonces[0] != nonces[1]
    html = first.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        if 'type="application/json"' in tag:
            continue
        assert f'nonce="{nonces[0]}"' in tag, tag
    assert " style=" not in html  # no inline styles anywhere


def test_hsts_over_https(client):
    assert "max-age=" in client.get("/", base_url="https://localhost").headers[
        "Strict-Transport-Security"
    ]


def test_english_by_query_and_by_accept_language(client):
    en = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "Cookie settings" in en
    assert 'href="/datenschutz?lang=en"' in en  # the chosen language sticks to links
    by_header = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in by_header.get_data(as_text=True)
    german = client.get("/", headers={"Accept-Language": "es-ES,de;q=0.5"})
    assert '<html lang="de">' in german.get_data(as_text=True)
    french = client.get("/", headers={"Accept-Language": "fr-FR,de;q=0.5"})
    assert '<html lang="fr">' in french.get_data(as_text=True)
    fallback = client.get("/?lang=xx", headers={"Accept-Language": "ja"})
    assert '<html lang="de">' in fallback.get_data(as_text=True)


def test_legal_pages_render_markdown_with_their_date(client):
    privacy = client.get("/datenschutz").get_data(as_text=True)
    assert "<h1>Datenschutzerklärung</h1>" in privacy
    assert '<time datetime="2026-11-25">25. November 2026</time>' in privacy
    assert "7 Tage" in privacy
    english = client.get("/datenschutz?lang=en").get_data(as_text=True)
    assert "<h1>Privacy Policy</h1>" in english and "25 November 2026" in english
    imprint = client.get("/impressum").get_data(as_text=True)
    assert "<h1>Impressum</h1>" in imprint and "HRB" in imprint


def test_legal_text_is_re_read_when_the_operator_edits_it(app, client, tmp_path):
    folder = tmp_path / "legal"
    folder.mkdir()
    path = folder / "impressum.de.md"
    path.write_text("Title: Impressum\nStand: 2026-01-02\n\nErste Fassung\n")
    app.config["LEGAL_TEXTS_DIR"] = str(folder)
    assert "Erste Fassung" in client.get("/impressum").get_data(as_text=True)
    import os

    path = folder / "impressum.de.md"
    path.write_text("Title: Impressum\nStand: 2026-02-03\n\nZweite Fassung\n")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    page = client.get("/impressum?lang=en").get_data(as_text=True)  # falls back to German
    assert "Zweite Fassung" in page and "3 February 2026" in page


def test_home_page_gates_every_tag_before_consent(client):
    html = client.get("/").get_data(as_text=True)
    # Consent Mode default first: all seven types denied, before any Google tag.
    default = html.index('gtag("consent", "default"')
    assert html.index("googletagmanager.com") > default
    for consent_type in ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
                         "functionality_storage", "personalization_storage", "security_storage"):
        assert f'"{consent_type}": "denied"' in html
    assert 'gtag("consent", "update"' not in html
    # No live third-party script or frame: only inert copies and a placeholder.
    live_external = re.findall(r'<script nonce="[^"]+" src="https://', html)
    assert live_external == []
    assert '<iframe src="' not in html
    for service in ("ga4", "matomo", "meta_pixel"):
        inert = rf'<script type="text/plain" data-consent="\w+" data-service="{service}"'
        assert re.search(inert, html)
    assert 'data-src="https://statistik.example.de/matomo.js"' in html
    assert 'id="consent-banner"' in html


def test_home_page_after_partial_consent(client):
    post_choice(client, {"categories": {"statistics": True}, "services": {"matomo": False}})
    html = client.get("/").get_data(as_text=True)
    assert 'src="https://www.googletagmanager.com/gtag/js?id=G-EXAMPLE123" async' in html
    assert 'data-src="https://statistik.example.de/matomo.js"' in html  # still inert
    assert 'data-src="https://connect.facebook.net/en_US/fbevents.js"' in html
    update = re.search(r'gtag\("consent", "update", (\{[^}]+\})\)', html).group(1)
    assert '"analytics_storage": "granted"' in update
    assert '"ad_storage": "denied"' in update and '"security_storage": "granted"' in update
    assert 'id="consent-banner"' not in html


def test_healthz_does_not_touch_the_database(app, client, monkeypatch):
    from website.consent import storage

    def refuse(*args, **kwargs):
        raise AssertionError("healthz opened the database")

    monkeypatch.setattr(storage, "open_store", refuse)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_unknown_page_is_404_page(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_bad_stand_date_names_the_file(tmp_path):
    from website.legal import load_legal_text

    (tmp_path / "impressum.de.md").write_text("Title: Impressum\nStand: 25.11.2026\n\nText\n")
    with pytest.raises(ValueError, match=r"impressum\.de\.md: 'Stand: 25\.11\.2026' is not a date"):
        load_legal_text(str(tmp_path), "impressum", "de")


def test_legal_text_falls_back_is_re_read_when_edited_and_names_what_is_missing(tmp_path):
    import os

    from website.legal import load_legal_text

    with pytest.raises(FileNotFoundError, match=r"no datenschutz\.\{fr,en,de\}\.md in "):
        load_legal_text(str(tmp_path), "datenschutz", "fr")
    english = tmp_path / "datenschutz.en.md"
    english.write_text("Title: Privacy\nStand: 2026-11-25\n\nFirst\n")
    os.utime(english, ns=(1_000_000_000, 1_000_000_000))
    first = load_legal_text(str(tmp_path), "datenschutz", "fr")
    assert first.lang == "en" and "First" in first.html
    english.write_text("Title: Privacy\nStand: 2026-11-26\n\nSecond\n")
    os.utime(english, ns=(2_000_000_000, 2_000_000_000))  # an edit: another mtime
    second = load_legal_text(str(tmp_path), "datenschutz", "fr")
    assert "Second" in second.html and second.content_hash != first.content_hash
    assert load_legal_text(str(tmp_path), "datenschutz", "fr") is second  # unchanged: cached
