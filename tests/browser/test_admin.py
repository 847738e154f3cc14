"""The admin in a real browser: log in through the form, the dashboard's SVG chart with data
(light, dark, phone width), the strict CSP without violations, and axe on every admin page.

Set ``ADMIN_SCREENSHOTS=1`` to refresh docs/screenshots/admin-dashboard*.png; otherwise the
screenshots go to the test's temporary folder (the repository stays unchanged).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import ROOT, Server
from tests.conftest import BACKENDS
from website import create_app
from website.admin import utc_now
from website.admin.accounts import Accounts
from website.consent.decision import Decision
from website.consent.receipts import build_receipt
from website.consent.storage import upgrade

NAME, PASSWORD = "operator", "a long browser test password"
PERIOD = "?since=2026-03-01&until=2026-03-14"
SCREENSHOTS = ROOT / "docs" / "screenshots"
USER_AGENTS = {
    "Desktop": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
}


def seed(app) -> None:
    """Two weeks of decisions with a fixed pattern (no dependence on today's date)."""
    manager = app.extensions["consent"]
    catalog = manager.catalog
    store = app.extensions["receipt_store"]
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    plan = ("accept_all", "reject_all", "custom", "accept_all", "reject_all", "withdraw")
    for day in range(14):
        for i in range(3 + (day * 7) % 5):
            action = plan[(day + i) % len(plan)]
            grant = {c.name: c.required or action == "accept_all"
                     or (action == "custom" and c.name == "statistics")
                     for c in catalog.categories}
            lang = "en" if i % 3 == 0 else "de"
            decision = Decision(f"visitor-{day}-{i}", catalog.revision, grant,
                                {s.name: grant[s.category] for s in catalog.services},
                                "banner", start + timedelta(days=day, minutes=37 * i))
            receipt = build_receipt(decision, notice=manager.notices[lang], action=action,
                                    page_path="/", remote_addr="198.51.100.9",
                                    user_agent=USER_AGENTS["Mobile" if i % 2 else "Desktop"])
            store.add(receipt, manager.notices[lang])
        if day % 2:
            store.add_gpc_views((start + timedelta(days=day)).date(), 1 + day % 4)


@pytest.fixture(scope="module", params=BACKENDS)
def admin_server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-site")
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp / 'receipts.db'}"
        upgrade(database_url)
    else:
        postgres = request.getfixturevalue("postgres")
        database_url = postgres.url(postgres.create_database())
    old = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(tmp)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "admin-browser-secret",
                          "DATABASE_URL": database_url})
    finally:
        if old is None:
            os.environ.pop("INSTANCE_PATH", None)
        else:
            os.environ["INSTANCE_PATH"] = old
    Accounts(app.extensions["receipt_store"].engine, utc_now).create(NAME, PASSWORD)
    seed(app)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield Server(app, f"http://127.0.0.1:{srv.server_port}")
    srv.shutdown()
    app.extensions["receipt_store"].close()


@pytest.fixture
def admin_page(browser, admin_server):
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        options.setdefault("reduced_motion", "reduce")
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.csp_errors = []
        page.on("console", lambda m: "Security Policy" in m.text and page.csp_errors.append(m.text))
        page.goto(admin_server.url + "/admin")
        assert page.url.startswith(admin_server.url + "/admin/login")
        page.get_by_label("User name").fill(NAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(admin_server.url + "/admin")
        page.goto(admin_server.url + "/admin" + PERIOD)
        return page

    yield make
    for context in contexts:
        context.close()


def run_axe(page, axe_source) -> list:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [(r["id"], r["impact"], [n["target"] for n in r["nodes"]][:3]) for r in result]


def shot(page, name: str, tmp_path: Path) -> Path:
    folder = SCREENSHOTS if os.environ.get("ADMIN_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_the_dashboard_chart_has_data_under_the_strict_csp(admin_page, admin_server, tmp_path,
                                                           request):
    page = admin_page()
    chart = page.locator('svg[data-chart="decisions"]')
    assert chart.is_visible()
    assert int(chart.get_attribute("data-total")) > 40
    bars = chart.locator("rect.bar")
    assert bars.count() > 30
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    heights = [float(h) for h in bars.evaluate_all("els => els.map(e => e.getAttribute('height'))")]
    assert max(heights) > 50  # the tallest day reaches well up the axis
    # The bars take their colour from admin.css (the SVG's fill attributes are the fallback).
    fill = bars.first.evaluate("e => getComputedStyle(e).fill")
    assert fill.startswith("rgb(")
    assert page.get_by_text("Day (UTC)").first.is_visible()
    assert page.locator('svg[data-chart="gpc"]').get_attribute("data-total") != "0"
    devices = page.locator("table.rates", has_text="Per device class")
    assert devices.get_by_role("rowheader", name="mobile").is_visible()
    assert devices.get_by_role("rowheader", name="pc").is_visible()
    assert page.csp_errors == []
    if request.node.callspec.params.get("admin_server") == "sqlite":
        shot(page, "admin-dashboard.png", tmp_path)
    # Logging out ends the session: the dashboard sends back to the login.
    page.get_by_role("button", name="Log out").click()
    page.goto(admin_server.url + "/admin")
    assert "/admin/login" in page.url


def test_dark_mode_and_phone_width(admin_page, tmp_path, request):
    dark = admin_page(color_scheme="dark")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 23, 27)"
    if request.node.callspec.params.get("admin_server") == "sqlite":
        shot(dark, "admin-dashboard-dark.png", tmp_path)
    phone = admin_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    # The page itself never scrolls sideways; the chart scrolls inside its own region.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    label = phone.locator('svg[data-chart="decisions"] text.tick').first
    assert label.bounding_box()["height"] >= 10  # tick labels stay readable on the phone


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_the_admin_pages(admin_page, admin_server, axe_source, scheme):
    page = admin_page(color_scheme=scheme, bypass_csp=True)
    url = admin_server.url
    receipt = page.locator('a[href^="/admin/receipts/"]')
    pages = ["/admin" + PERIOD, "/admin/receipts", "/admin/export", "/admin/audit"]
    for path in pages:
        page.goto(url + path)
        for summary in page.locator("summary").all():
            summary.click()
        assert run_axe(page, axe_source) == [], path
    page.goto(url + "/admin/receipts")
    receipt.first.click()
    page.wait_for_url(f"{url}/admin/receipts/*")
    assert "The notice the visitor was shown" in page.content()
    assert run_axe(page, axe_source) == []
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/admin/login")
    page.get_by_label("User name").fill(NAME)
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    assert run_axe(page, axe_source) == []
