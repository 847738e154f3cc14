"""The site under real gunicorn workers: concurrent decisions, every receipt kept."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from website.consent.storage import open_store

ROOT = Path(__file__).resolve().parents[2]
VISITORS = 12
DECISIONS_EACH = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    if request.param == "sqlite":
        database = f"sqlite:///{folder / 'receipts.db'}"
    else:
        postgres = request.getfixturevalue("postgres")
        database = postgres.url(postgres.create_database(template=None))
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "3",
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": database,
        "SECRET_KEY": "gunicorn-test-key",
    }
    # The deploy step: migrate first (without a schema the app serves but cannot record).
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(folder / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail((folder / "gunicorn.log").read_text())
            time.sleep(0.1)
    yield base, database
    process.terminate()
    process.wait(timeout=20)
    log.close()


def visitor(base: str, number: int) -> list[str]:
    """One browser: load a page for its token, then decide several times."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    receipt_ids = []
    for decision in range(DECISIONS_EACH):
        body = json.dumps({"categories": {"statistics": bool((number + decision) % 2)},
                           "source": "banner"}).encode()
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
