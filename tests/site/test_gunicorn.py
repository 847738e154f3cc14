"""The site under real gunicorn workers: concurrent decisions, every receipt kept."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import BACKENDS
from tests.site.gunicorn_server import run_gunicorn
from website.consent.storage import open_store

VISITORS = 12
DECISIONS_EACH = 10


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    database_url = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres")
        database_url = postgres.url(postgres.create_database(template=None))
    folder = tmp_path_factory.mktemp("gunicorn")
    with run_gunicorn(folder, workers=3, database_url=database_url) as gunicorn:
        yield gunicorn.base, gunicorn.database_url


def visitor(base: str, number: int) -> list[str]:
    """One browser: load a page for its token, then decide several times."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    receipt_ids = []
    for decision in range(DECISIONS_EACH):
        body = json.dumps({"categories": {"statistics": bool((number + decision) % 2)},
                           "method": "banner"}).encode()
        request = urllib.request.Request(
            f"{base}/consent", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        with opener.open(request) as response:
            assert response.status == 200
            receipt_ids.append(json.loads(response.read())["receipt_id"])
    return receipt_ids


def test_concurrent_decisions_through_gunicorn_lose_no_receipt(server):
    base, database = server
    with ThreadPoolExecutor(max_workers=VISITORS) as pool:
        results = list(pool.map(lambda n: visitor(base, n), range(VISITORS)))
    answered = [receipt_id for ids in results for receipt_id in ids]
    assert len(answered) == len(set(answered)) == VISITORS * DECISIONS_EACH

    store = open_store(database)
    stored = list(store.export())
    store.close()
    assert sorted(r.receipt_id for r in stored) == sorted(answered)
    assert len({r.consent_id for r in stored}) == VISITORS  # one history per browser
    assert {r.ip_prefix for r in stored} == {"127.0.0.0"}


def test_gunicorn_serves_pages_with_headers(server):
    base, _ = server
    with urllib.request.urlopen(f"{base}/cookie-einstellungen") as response:
        assert response.status == 200
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert "Cookie-Einstellungen" in response.read().decode()
