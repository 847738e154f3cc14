"""Cached page skeletons serve exactly what rendering would: every cached page, for every kind of
visitor, the same bytes as with the cache off (nonce and token aside, which differ per request
and are each the request's own); and one visitor's page never reaches another."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import CLIENT_IP, FULL_USER_AGENT, post_choice
from website import create_app

PATHS = ("/", "/?lang=en", "/?utm_source=x&lang=de", "/?lang=fr", "/datenschutz",
         "/datenschutz?lang=nl", "/impressum?lang=en")

#: Visitors: (name, how they decided or None, extra request headers).
VISITORS = (
    ("undecided", None, {}),
    ("undecided, English browser", None, {"Accept-Language": "en-GB,en;q=0.9"}),
    ("undecided, Dutch browser", None, {"Accept-Language": "nl-BE,nl;q=0.9,fr;q=0.5"}),
    ("GPC", None, {"Sec-GPC": "1"}),
    ("accepted all", {"categories": {"statistics": True, "marketing": True, "media": True}}, {}),
    ("rejected all", {"categories": {}}, {}),
    ("statistics only", {"categories": {"statistics": True}}, {"Sec-GPC": "1"}),
)


def make_app(database: str, cache: bool) -> Flask:
    return create_app({
        "TESTING": True,
        "GPC_FLUSH_SECONDS": 0,
        "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
        "DATABASE_URL": f"sqlite:///{database}",
        "PAGE_CACHE": cache,
    })


@pytest.fixture
def apps(sqlite_template, tmp_path) -> Iterator[tuple[Flask, Flask]]:
    database = tmp_path / "receipts.db"
    shutil.copyfile(sqlite_template, database)
    cached, uncached = make_app(str(database), True), make_app(str(database), False)
    yield cached, uncached
    for app in (cached, uncached):
        app.extensions["receipt_store"].close()


def visitor(app: Flask, decision: dict | None) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": FULL_USER_AGENT})
    if decision is not None:
        assert post_choice(client, {**decision, "method": "banner"}).status_code == 200
    return client


def normalised(response) -> str:
    """The page with this response's own nonce and CSRF token replaced by placeholders, after
    checking that the page carries exactly those (not another request's)."""
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert set(re.findall(r'nonce="([^"]+)"', page)) == {nonce}
    return page.replace(nonce, "NONCE").replace(token, "TOKEN")


def test_every_cached_page_is_the_page_rendering_would_give(apps):
    cached_app, uncached_app = apps
    cookies = {}
    for name, decision, _ in VISITORS:
        client = visitor(cached_app, decision)
        cookies[name] = client.get_cookie("consent")
    cache = cached_app.extensions["page_cache"]
    for round_ in range(2):  # the first round fills the cache, the second is served from it
        hits_before = cache.hits
        for name, _, headers in VISITORS:
            for path in PATHS:
                pages = []
                for app in (cached_app, uncached_app):
                    client = visitor(app, None)
                    if cookies[name] is not None:
                        client.set_cookie("consent", cookies[name].value)
                    response = client.get(path, headers=headers)
                    assert response.status_code == 200
                    pages.append(normalised(response))
                assert pages[0] == pages[1], f"{name} on {path} (round {round_ + 1})"
    assert cache.hits - hits_before == len(VISITORS) * len(PATHS)


def test_each_request_gets_a_fresh_nonce_and_its_own_session_token(apps):
    cached_app, _ = apps
    first, second = visitor(cached_app, None), visitor(cached_app, None)
    one, two = first.get("/"), second.get("/")
    nonce = re.compile(r"'nonce-([^']+)'")
    assert (nonce.search(one.headers["Content-Security-Policy"]).group(1)
            != nonce.search(two.headers["Content-Security-Policy"]).group(1))
    token = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
    token_one = token.search(one.get_data(as_text=True)).group(1)
    # The cached page's token belongs to its own session: it records this visitor's choice.
    assert first.post("/consent", json={"categories": {}},
                      headers={"X-CSRFToken": token_one}).status_code == 200
    assert second.post("/consent", json={"categories": {}},
                       headers={"X-CSRFToken": token_one}).status_code == 400


def test_a_decided_visitors_page_is_never_served_to_an_undecided_one(apps):
    cached_app, _ = apps
    decided = visitor(cached_app, {"categories": {"statistics": True}})
    assert 'id="consent-banner"' not in decided.get("/").get_data(as_text=True)
    assert 'id="consent-banner"' in visitor(cached_app, None).get("/").get_data(as_text=True)


def test_the_cache_is_bounded(apps):
    cached_app, _ = apps
    cache = cached_app.extensions["page_cache"]
    cache.max_pages = 5
    client = visitor(cached_app, None)
    for number in range(20):  # a crawler's endless query strings
        assert client.get(f"/?page={number}").status_code == 200
    assert len(cache) == 5


def test_the_operator_can_turn_it_off_or_size_it(sqlite_template, tmp_path, monkeypatch):
    database = tmp_path / "receipts.db"
    shutil.copyfile(sqlite_template, database)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    config = {"TESTING": True, "GPC_FLUSH_SECONDS": 0, "DATABASE_URL": f"sqlite:///{database}",
              "SECRET_KEY": "test-secret-key-not-used-anywhere-else"}
    monkeypatch.setenv("PAGE_CACHE_SIZE", "7")
    sized = create_app(config)
    monkeypatch.setenv("PAGE_CACHE", "off")
    off = create_app(config)
    try:
        assert sized.extensions["page_cache"].max_pages == 7
        assert "page_cache" not in off.extensions
        assert off.test_client().get("/").status_code == 200
    finally:
        for app in (sized, off):
            app.extensions["receipt_store"].close()
