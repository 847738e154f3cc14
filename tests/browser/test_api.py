"""The banner's JavaScript API and DOM events, Google Tag Manager, and one decision shared by
two host names on loopback: all in the real browser against the real app."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, live_app
from tests.browser.test_banner import BANNER, MODAL, decide

LISTEN = """
window.__events = [];
for (const type of ['consent:ready', 'consent:change'])
  document.addEventListener(type, e => window.__events.push(
    [type, e.detail, localStorage.getItem('consent-pending')]));
"""


def test_read_the_current_decision_and_hear_ready(visit):
    v = visit()
    v.context.add_init_script(LISTEN)
    page = v.goto("/")
    page.wait_for_function("() => window.__events.length === 1")
    (kind, detail, _), = page.evaluate("window.__events")
    assert kind == "consent:ready"
    assert detail == {"decided": False, "method": None, "categories": ["essential"],
                      "services": ["site"]}
    assert page.evaluate("consent.get()") == detail
    assert page.evaluate("[consent.granted('site'), consent.granted('ga4')]") == [True, False]


def test_change_event_carries_granted_categories_and_services(visit):
    v = visit()
    v.context.add_init_script(LISTEN)
    page = v.goto("/")
    page.evaluate("consent.onChange(d => { window.__viaOnChange = d; })")
    decide(page, page.get_by_role("button", name="Alle akzeptieren").click)
    page.wait_for_function("() => window.__events.length === 2")
    kind, detail, pending = page.evaluate("window.__events[1]")
    assert kind == "consent:change" and pending is None  # fired after the server stored it
    assert set(detail["categories"]) == {"essential", "statistics", "marketing", "media"}
    assert {"ga4", "gtm", "matomo", "meta_pixel", "google_ads", "youtube"} <= set(
        detail["services"])
    assert detail["decided"] is True and detail["method"] == "banner"
    assert page.evaluate("window.__viaOnChange") == detail
    # Tag Manager hears it too, as a dataLayer event.
    pushed = page.evaluate("dataLayer.filter(e => e && e.event === 'consent_change')")
    assert pushed[-1]["consent_services"] == detail["services"]


def test_when_granted_waits_for_the_servers_acknowledgement(visit, server):
    v = visit()
    outage = {"on": True, "refused": 0}

    def unavailable(route):
        if route.request.method == "POST" and outage["on"]:
            outage["refused"] += 1
            route.fulfill(status=503, headers={"Retry-After": "1"},
                          content_type="application/json", body='{"error": "unavailable"}')
        else:
            route.fallback()

    v.context.route(re.compile(r"/consent$"), unavailable)
    v.context.add_init_script(LISTEN)
    page = v.goto("/")
    page.evaluate("() => { consent.whenGranted('ga4').then(d => { window.__ga4 = d; }); }")
    page.evaluate("() => { consent.whenGranted('meta_pixel').then(() => { window.__meta = 1; }); }")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    modal = page.locator(MODAL)
    modal.get_by_role("checkbox", name="Statistik").check()
    modal.get_by_role("button", name="Auswahl speichern").click()
    page.locator("#consent-status").filter(has_text="noch nicht gespeichert").wait_for()
    assert outage["refused"] >= 1
    assert page.evaluate("[window.__ga4, window.__events.length]") == [None, 1]
    outage["on"] = False
    page.wait_for_function("() => window.__ga4", timeout=20_000)
    assert page.evaluate("localStorage.getItem('consent-pending')") is None
    assert "ga4" in page.evaluate("window.__ga4.services")
    assert page.evaluate("window.__meta") is None  # refused: never resolves
    # Already granted: resolves at once.
    assert page.evaluate("consent.whenGranted('matomo').then(d => d.decided)") is True


def test_open_the_settings_from_the_sites_own_code(visit):
    page = visit().goto("/")
    page.evaluate("consent.open()")
    page.locator(MODAL).wait_for()
    assert page.locator(MODAL).get_attribute("aria-modal") == "true"


def test_gtm_loads_only_after_consent_with_consent_mode_defaults_before(visit):
    v = visit()
    page = v.goto("/")
    page.wait_for_load_state("networkidle")
    assert not any("gtm.js" in u for u in v.third_party)
    first = page.evaluate("dataLayer.findIndex(a => a[0] === 'consent' && a[1] === 'default')")
    assert first == 0
    modal_opened = page.locator(BANNER).get_by_role("button", name="Einstellungen")
    modal_opened.click()
    modal = page.locator(MODAL)
    modal.get_by_text("Details: Google Tag Manager").click()
    modal.get_by_role("checkbox", name="Google Tag Manager").check()
    with page.expect_request(re.compile(r"googletagmanager\.com/gtm\.js\?id=GTM-EXAMPLE1")):
        decide(page, modal.get_by_role("button", name="Auswahl speichern").click)
    layer = page.evaluate("dataLayer.map(a => a.event || (a[0] + ':' + a[1]))")
    assert layer.index("consent:default") < layer.index("consent:update") < layer.index("gtm.js")
    assert not any("gtag/js" in u for u in v.third_party)  # GA4 itself was not consented


# --- One decision across subdomains (CONSENT_COOKIE_DOMAIN) ---------------------------------

DOMAIN = "site.localtest"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    srv, _ = live_app(tmp_path_factory.mktemp("shared-domain"), CONSENT_COOKIE_DOMAIN=DOMAIN)
    yield srv.server_port
    srv.shutdown()


@pytest.fixture(scope="module")
def resolving_browser(browser):
    """A second Chromium in which every *.site.localtest name resolves to 127.0.0.1 (no DNS)."""
    b = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*ARGS, f"--host-resolver-rules=MAP *.{DOMAIN} 127.0.0.1"]
    )
    yield b
    b.close()


def test_one_decision_for_two_subdomains_and_withdrawal_reaches_both(
    resolving_browser, shared_server
):
    context = resolving_browser.new_context(locale="de-DE", reduced_motion="reduce")
    third_party = []

    def stub(route):
        third_party.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body="")

    context.route(lambda url: not urlsplit(url).hostname.endswith(DOMAIN), stub)
    a, b = (f"http://{host}.{DOMAIN}:{shared_server}" for host in ("a", "b"))
    page = context.new_page()
    page.goto(a + "/")
    decide(page, page.get_by_role("button", name="Alle akzeptieren").click)
    (cookie,) = [c for c in context.cookies() if c["name"] == "consent"]
    assert cookie["domain"] in (DOMAIN, "." + DOMAIN)
    page.goto(b + "/")
    assert page.locator(BANNER).count() == 0  # decided on a.: b. knows it
    assert page.evaluate("consent.granted('ga4')") is True
    context.add_cookies([{"name": "_ga", "value": "GA1.1.1", "domain": "." + DOMAIN,
                          "path": "/"}])
    page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").focus()
    page.keyboard.press("Enter")
    page.locator(MODAL).wait_for()
    # A narrower choice reloads the page once the server has stored it.
    with page.expect_navigation(), page.expect_response(lambda r: r.url.endswith("/withdraw")):
        page.locator(MODAL).get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    names = {c["name"] for c in context.cookies()}
    assert "_ga" not in names  # expired on the shared domain
    page.goto(a + "/")
    assert page.locator(BANNER).count() == 0
    assert page.evaluate("consent.get().services") == ["site"]  # a. sees the withdrawal
    context.close()
