"""Browser fixtures: the real app on a live server, one Debian chromium per session, a fresh
context per test with every request to a host other than 127.0.0.1 routed to a local stub."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.conftest import BACKENDS
from website import create_app
from website.consent.storage import open_store, upgrade

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def _missing(reason: str) -> None:
    """Skip locally; in CI (CI=true) a missing browser or axe-core is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser suite must run)")
    pytest.skip(reason)


class Server:
    def __init__(self, app, url: str) -> None:
        self.app = app
        self.url = url

    def history(self, consent_id: str) -> list:
        """The receipts stored for one consent id, oldest first."""
        store = open_store(self.app.config["DATABASE_URL"])
        try:
            return store.history(consent_id)
        finally:
            store.close()


def live_app(tmp: Path, database_url: str | None = None, **config):
    """The real app with its own instance folder, on a loopback port; its store is a migrated
    SQLite file in ``tmp`` unless ``database_url`` names another (migrated) database."""
    if database_url is None:
        database_url = f"sqlite:///{tmp / 'receipts.db'}"
        upgrade(database_url)
    old = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(tmp)
    try:
        app = create_app(
            {
                "TESTING": True,
                "GPC_FLUSH_SECONDS": 0,  # no background thread: tests flush explicitly
                "SECRET_KEY": "browser-test-secret",
                "DATABASE_URL": database_url,
                **config,
            }
        )
    finally:
        if old is None:
            os.environ.pop("INSTANCE_PATH", None)
        else:
            os.environ["INSTANCE_PATH"] = old
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, Server(app, f"http://127.0.0.1:{srv.server_port}")


@pytest.fixture(scope="session", params=BACKENDS)
def server(request, tmp_path_factory) -> Server:
    """The site on a real HTTP server, once on SQLite and once on PostgreSQL."""
    database_url = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres")
        database_url = postgres.url(postgres.create_database())
    srv, live = live_app(tmp_path_factory.mktemp("banner-site"), database_url)
    yield live
    srv.shutdown()


@pytest.fixture(scope="session")
def layout_servers(tmp_path_factory) -> dict[str, Server]:
    """One live app per first-layer layout (CONSENT_LAYOUT), with the reopen button on."""
    running, servers = [], {}
    for layout in ("box", "bar"):
        srv, live = live_app(tmp_path_factory.mktemp(f"layout-{layout}"),
                             CONSENT_LAYOUT=layout, CONSENT_REOPEN_BUTTON=True)
        running.append(srv)
        servers[layout] = live
    yield servers
    for srv in running:
        srv.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"chromium not found at {CHROMIUM} (apt-get install chromium; or CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Visit:
    """One fresh browser profile: its page, the third-party requests it tried, its cookies."""

    def __init__(self, context, server: Server) -> None:
        self.context = context
        self.server = server
        self.page = context.new_page()
        self.third_party: list[str] = []
        self.posts: list[tuple[str, str]] = []
        self.page.on(
            "request",
            lambda r: r.method == "POST" and self.posts.append((r.url, r.post_data or "")),
        )

    def goto(self, path: str = "/", server: Server | None = None):
        self.page.goto((server or self.server).url + path)
        return self.page

    def cookies(self) -> dict[str, str]:
        return {c["name"]: c["value"] for c in self.context.cookies()}

    def consent_id(self) -> str:
        return self.page.evaluate("fetch('/consent').then(r => r.json())")["consent_id"]


@pytest.fixture
def visit(browser, server):
    contexts = []

    def make(**options) -> Visit:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "de-DE")
        options.setdefault("reduced_motion", "reduce")
        context = browser.new_context(**options)
        contexts.append(context)
        v = Visit(context, server)

        def stub(route) -> None:
            url = route.request.url
            v.third_party.append(url)
            kind = route.request.resource_type
            if kind == "script":
                route.fulfill(status=200, content_type="text/javascript",
                              body=f"window.__stubLoaded=(window.__stubLoaded||[]).concat({url!r});")
            else:
                route.fulfill(status=200, content_type="text/html", body="<p>stub</p>")

        def is_third_party(url: str) -> bool:
            return urlsplit(url).hostname != "127.0.0.1"

        context.route(is_third_party, stub)
        return v

    yield make
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        _missing("axe-core is not installed (run `npm ci`)")
    return AXE.read_text()
