"""The consent banner in a real browser against the real app: what a visitor sees, what the
browser loads and stores, and which receipts the server keeps."""

from __future__ import annotations

import json
import re

import pytest

from website.consent.storage import open_store

BANNER = "#consent-banner"
MODAL = ".cc-modal"
ESSENTIAL_COOKIES = {"session", "consent"}
SEVEN = {
    "ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
    "functionality_storage", "personalization_storage", "security_storage",
}


def is_decision(response) -> bool:
    return response.request.method == "POST" and re.search(r"/consent(/withdraw)?$", response.url)


def decide(page, locator):
    """Click (or press on) a control and wait for the server's answer to the decision."""
    with page.expect_response(is_decision) as info:
        locator()
    response = info.value
    assert response.status == 200, response.text()
    return response.json()


def last_receipt(server, consent_id):
    history = server.history(consent_id)
    assert history, "no receipt stored"
    return history[-1]


def consent_updates(page) -> list[dict]:
    return page.evaluate(
        "(window.dataLayer || []).filter(a => a[0] === 'consent' && a[1] === 'update')"
        ".map(a => a[2])"
    )


def test_first_visit_shows_dialog_and_loads_nothing(visit):
    v = visit()
    csp_errors = []
    v.page.on("console", lambda m: "Security Policy" in m.text and csp_errors.append(m.text))
    page = v.goto("/")
    dialog = page.get_by_role("dialog", name="Datenschutz-Einstellungen")
    assert dialog.is_visible()
    assert dialog.get_attribute("aria-modal") == "false"  # first layer: no cookie wall
    assert page.evaluate("document.activeElement.id") == "consent-banner"
    for purpose in ("Statistik", "Marketing", "Externe Medien", "Google Analytics 4", "YouTube"):
        assert purpose in dialog.inner_text()
    for role, name in (("button", "Alle akzeptieren"), ("button", "Nur notwendige"),
                       ("button", "Einstellungen")):
        assert dialog.get_by_role(role, name=name).is_visible()
    page.wait_for_load_state("networkidle")
    assert v.third_party == []
    assert set(v.cookies()) <= ESSENTIAL_COOKIES
    assert "consent" not in v.cookies()
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("typeof window.__stubLoaded") == "undefined"
    # The page stays usable: its own Datenschutz and Impressum links are not covered.
    for name in ("Datenschutz", "Impressum"):
        link = page.locator("footer").get_by_role("link", name=name, exact=True)
        link.scroll_into_view_if_needed()
        box = link.bounding_box()
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert hit == name
    # Overlay only: no layout shift; no inline styles anywhere.
    shift = page.evaluate(
        """() => new Promise(done => {
            let sum = 0;
            new PerformanceObserver(list => list.getEntries().forEach(e => sum += e.value))
              .observe({type: 'layout-shift', buffered: true});
            setTimeout(() => done(sum), 300);
        })"""
    )
    assert shift == 0
    page.get_by_role("button", name="Einstellungen").first.click()
    page.locator(MODAL).wait_for()  # the second layer loads when it opens
    assert page.locator(MODAL).is_visible()
    assert page.evaluate("document.querySelectorAll('[style]').length") == 0
    assert csp_errors == []


def test_reject_is_one_click_and_sticks(visit, server):
    v = visit()
    page = v.goto("/")
    state = decide(page, page.get_by_role("button", name="Nur notwendige").click)
    assert page.locator(BANNER).is_hidden()
    assert not any(state["services"][s] for s in ("ga4", "matomo", "meta_pixel", "youtube"))
    receipt = last_receipt(server, state["consent_id"])
    assert (receipt.action, receipt.method) == ("reject_all", "banner")
    assert "consent" in v.cookies()
    assert page.evaluate("localStorage.getItem('consent-pending')") is None
    # Consent Mode hears about a refusal too: all seven types, analytics denied.
    update = consent_updates(page)[-1]
    assert set(update) == SEVEN and update["analytics_storage"] == "denied"
    page.locator("footer").get_by_role("link", name="Datenschutz", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(BANNER).count() == 0
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(BANNER).count() == 0
    assert v.third_party == []


def test_accept_all_loads_statistics_and_grants_consent_mode(visit, server):
    v = visit()
    page = v.goto("/")
    assert page.locator(".consent-placeholder").count() == 1
    with page.expect_request(re.compile(r"googletagmanager\.com/gtag/js")):
        state = decide(page, page.get_by_role("button", name="Alle akzeptieren").click)
    page.wait_for_function("() => (window.__stubLoaded || []).length >= 3")
    hosts = {re.sub(r"^https://([^/]+)/.*", r"\1", u) for u in v.third_party}
    assert {"www.googletagmanager.com", "statistik.example.de", "connect.facebook.net"} <= hosts
    update = consent_updates(page)[-1]
    assert set(update) == SEVEN
    # Granted: what the granted services declare; no shipped service uses personalization.
    assert {t for t, v in update.items() if v == "denied"} == {"personalization_storage"}
    # The inline tags ran as written, with the page's nonce (CSP would block them otherwise).
    assert page.evaluate("Array.isArray(window._paq) && typeof window.fbq") == "function"
    assert page.evaluate("dataLayer.some(a => a[0] === 'config')")
    frame = page.locator(".consent-embed iframe")
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/")
    assert page.locator(BANNER).is_hidden()
    receipt = last_receipt(server, state["consent_id"])
    assert (receipt.action, receipt.method) == ("accept_all", "banner")


def test_custom_choice_in_second_layer(visit, server):
    v = visit()
    page = v.goto("/")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    modal = page.get_by_role("dialog", name="Datenschutz-Einstellungen").and_(page.locator(MODAL))
    assert modal.get_attribute("aria-modal") == "true"
    boxes = modal.locator("input[type=checkbox]:not([disabled])")
    assert boxes.count() == 3 + 6  # three categories, six optional services
    assert all(not boxes.nth(i).is_checked() for i in range(boxes.count()))  # never pre-ticked
    modal.get_by_role("checkbox", name="Statistik").check()
    assert modal.locator("input[data-name=matomo]").is_checked()  # its services follow
    modal.get_by_text("Details: Google Analytics 4").click()
    details = modal.locator("details", has_text="Google Analytics 4")
    for fact in ("Google Ireland Limited", "_ga_*", "2 Jahre", "Data Privacy Framework",
                 "Verarbeitete Daten", "Client-ID"):
        assert fact in details.inner_text()
    modal.get_by_role("checkbox", name="Google Analytics 4").uncheck()
    # Statistics also holds Google Tag Manager (issue 12): untick it too, only Matomo stays.
    modal.get_by_text("Details: Google Tag Manager").click()
    modal.get_by_role("checkbox", name="Google Tag Manager").uncheck()
    assert modal.get_by_role("checkbox", name="Statistik").is_checked()
    with page.expect_request(re.compile(r"statistik\.example\.de/matomo\.js")):
        state = decide(page, modal.get_by_role("button", name="Auswahl speichern").click)
    assert page.locator(MODAL).count() == 0 and page.locator(BANNER).is_hidden()
    assert state["services"] == {
        "site": True, "matomo": True, "ga4": False, "gtm": False, "meta_pixel": False,
        "google_ads": False, "youtube": False,
    }
    receipt = last_receipt(server, state["consent_id"])
    assert (receipt.action, receipt.method) == ("custom", "banner")
    assert receipt.services["matomo"] and not receipt.services["ga4"]
    assert not any("googletagmanager" in u or "facebook" in u for u in v.third_party)


def focused(page) -> str:
    """The focused control's visible name (a checkbox is named by its label)."""
    return page.evaluate(
        "(e => (e.labels && e.labels.length ? e.labels[0] : e).textContent.trim())"
        "(document.activeElement)"
    )


def tab_to(page, text: str, limit: int = 30, within: str = BANNER) -> int:
    for presses in range(1, limit):
        page.keyboard.press("Tab")
        assert page.evaluate(f"!!document.activeElement.closest({within!r})"), "focus left"
        if focused(page) == text:
            return presses
    raise AssertionError(f"{text!r} not reachable by Tab")


def test_keyboard_reject(visit, server):
    v = visit()
    page = v.goto("/")
    tab_to(page, "Nur notwendige")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    state = decide(page, lambda: page.keyboard.press("Enter"))
    assert last_receipt(server, state["consent_id"]).action == "reject_all"
    assert page.locator(BANNER).is_hidden()
    assert page.evaluate("document.activeElement.id") == "main"  # focus returned to the page


def test_keyboard_save_with_focus_trap(visit, server):
    v = visit()
    page = v.goto("/")
    tab_to(page, "Einstellungen")
    page.keyboard.press("Enter")
    page.locator(MODAL).wait_for()  # the second layer loads when it opens
    assert page.evaluate("!!document.activeElement.closest('.cc-modal')")
    # Focus is kept inside the modal layer: Shift+Tab from its start wraps to its end.
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("!!document.activeElement.closest('.cc-modal')")
    page.locator(".cc-x").last.focus()
    tab_to(page, "Statistik", within=MODAL)
    page.keyboard.press("Space")
    assert page.get_by_role("checkbox", name="Statistik").is_checked()
    tab_to(page, "Auswahl speichern", limit=60, within=MODAL)
    state = decide(page, lambda: page.keyboard.press("Enter"))
    receipt = last_receipt(server, state["consent_id"])
    assert receipt.action == "custom"
    assert receipt.categories["statistics"] and not receipt.categories["marketing"]


def test_escape_and_close_record_nothing(visit):
    v = visit()
    page = v.goto("/")
    settings = page.locator(BANNER).get_by_role("button", name="Einstellungen")
    settings.focus()
    page.keyboard.press("Enter")
    page.locator(MODAL).wait_for()  # the second layer loads when it opens
    assert page.locator(MODAL).is_visible()
    page.keyboard.press("Escape")
    assert page.locator(MODAL).count() == 0
    assert page.evaluate("document.activeElement.textContent.trim()") == "Einstellungen"
    assert page.locator(BANNER).is_visible()
    page.keyboard.press("Escape")  # first layer: closes for this page, without a decision
    assert page.locator(BANNER).is_hidden()
    page.reload()
    page.get_by_role("button", name="Schließen, ohne einzuwilligen").click()
    assert page.locator(BANNER).is_hidden()
    page.wait_for_load_state("networkidle")
    assert v.posts == []
    assert "consent" not in v.cookies()
    assert v.third_party == []
    page.reload()
    assert page.locator(BANNER).is_visible()  # asked again: nothing was decided


def test_withdrawal_from_footer_link_deletes_cookies(visit, server):
    v = visit()
    page = v.goto("/")
    state = decide(page, page.get_by_role("button", name="Alle akzeptieren").click)
    consent_id = state["consent_id"]
    v.context.add_cookies([
        {"name": name, "value": "GA1.1.123", "url": server.url}
        for name in ("_ga", "_ga_EXAMPLE123", "_pk_id.1.abcd", "unrelated")
    ])
    page.reload()
    page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").focus()
    page.keyboard.press("Enter")
    modal = page.locator(MODAL)
    assert modal.get_by_role("checkbox", name="Statistik").is_checked()  # current state
    # GA was running: after the server has the withdrawal, the page reloads to stop it.
    with page.expect_navigation(), page.expect_response(is_decision) as response:
        modal.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    assert response.value.url.endswith("/consent/withdraw") and response.value.status == 200
    assert set(v.cookies()) == {"session", "consent", "unrelated"}
    receipt = last_receipt(server, consent_id)
    assert (receipt.action, receipt.method) == ("withdraw", "banner")
    assert not any(receipt.services[s] for s in ("ga4", "matomo", "meta_pixel", "youtube"))
    assert page.locator(BANNER).count() == 0
    assert page.locator(".consent-placeholder").count() == 1


GPC_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
)


def test_gpc_is_honoured_without_a_receipt_and_an_explicit_choice_wins(visit, server):
    v = visit(extra_http_headers={"Sec-GPC": "1"})
    v.context.add_init_script(GPC_SCRIPT)
    page = v.goto("/")
    page.wait_for_load_state("networkidle")
    assert page.locator(BANNER).count() == 0
    assert v.consent_id() is None  # honoured, not recorded: a refusal needs no proof
    assert "consent" not in v.cookies() and v.third_party == [] and v.posts == []
    page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").click()
    modal = page.locator(MODAL)
    assert "Global Privacy Control" in modal.inner_text()
    boxes = modal.locator("input[type=checkbox]:not([disabled])")
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    state = decide(page, modal.get_by_role("button", name="Alle akzeptieren").click)
    receipt = last_receipt(server, state["consent_id"])
    assert (receipt.action, receipt.method, receipt.gpc) == ("accept_all", "banner", True)
    page.reload()
    page.wait_for_function("() => (window.__stubLoaded || []).length >= 3")
    assert page.locator(".consent-embed iframe").count() == 1


def test_gpc_signal_only_in_the_browser_is_shown_on_the_first_layer(visit):
    v = visit()
    v.context.add_init_script(GPC_SCRIPT)
    page = v.goto("/")
    assert "Global Privacy Control" in page.locator(BANNER).inner_text()
    assert v.third_party == []


def test_click_to_load_embed_grants_only_that_service(visit, server):
    v = visit()
    page = v.goto("/")
    placeholder = page.locator(".consent-placeholder")
    assert "Google Ireland Limited" in placeholder.inner_text()
    with page.expect_request(re.compile(r"youtube-nocookie\.com/embed/")):
        state = decide(page, placeholder.get_by_role("button", name="YouTube laden").click)
    frame = page.locator(".consent-embed iframe")
    assert frame.get_attribute("title") and frame.get_attribute("loading") == "lazy"
    assert [k for k, on in state["services"].items() if on] == ["site", "youtube"]
    assert last_receipt(server, state["consent_id"]).action == "custom"
    assert not any("googletagmanager" in u for u in v.third_party)


def test_failed_request_is_retried_and_never_lost(visit, server):
    v = visit()
    failures = []

    def flaky(route):
        if route.request.method == "POST" and len(failures) < 2:
            failures.append(route.request.url)
            route.abort()
        else:
            route.fallback()

    v.context.route(re.compile(r"/consent$"), flaky)
    page = v.goto("/")
    page.get_by_role("button", name="Nur notwendige").click()
    assert page.locator(BANNER).is_hidden()
    pending = json.loads(page.evaluate("localStorage.getItem('consent-pending')"))
    assert pending["b"]["categories"] == {"statistics": False, "marketing": False, "media": False}
    page.get_by_role("status").filter(has_text="noch nicht gespeichert").wait_for(state="attached")
    # Leaving the page before the server has it: the next page sends it again.
    page.reload()
    assert page.locator(BANNER).is_hidden()
    page.wait_for_function(
        "() => localStorage.getItem('consent-pending') === null", timeout=10_000
    )
    assert len(failures) == 2
    receipt = last_receipt(server, v.consent_id())
    assert (receipt.action, receipt.method) == ("reject_all", "banner")


def test_nothing_optional_runs_while_the_server_cannot_store_the_receipt(visit, server):
    """The endpoint answers 503; the visitor accepts and browses two pages: no third-party
    request, the status line says the choice is not saved yet; when the endpoint recovers the
    retry stores the receipt and only then activates."""
    v = visit()
    outage = {"on": True, "refused": 0}

    def unavailable(route):
        if route.request.method == "POST" and outage["on"]:
            outage["refused"] += 1
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                          body='{"error": "storage_unavailable", "message": "try later"}')
        else:
            route.fallback()

    v.context.route(re.compile(r"/consent$"), unavailable)
    page = v.goto("/")
    page.get_by_role("button", name="Alle akzeptieren").click()
    status = page.locator("#consent-status")
    status.filter(has_text="noch nicht gespeichert").wait_for()
    assert status.is_visible()
    for path in ("/impressum", "/datenschutz"):
        page.goto(server.url + path)
        page.locator("#consent-status").filter(has_text="noch nicht gespeichert").wait_for()
        assert page.locator(BANNER).is_hidden()
        page.wait_for_timeout(300)
    assert v.third_party == []
    assert consent_updates(page) == []
    assert "consent" not in v.cookies()
    assert page.locator(".consent-embed iframe").count() == 0
    assert outage["refused"] >= 3
    outage["on"] = False
    with page.expect_request(re.compile(r"googletagmanager\.com/gtag/js"), timeout=20_000):
        pass
    page.wait_for_function("() => localStorage.getItem('consent-pending') === null")
    assert "consent" in v.cookies()
    receipt = last_receipt(server, v.consent_id())
    assert (receipt.action, receipt.method) == ("accept_all", "banner")
    assert consent_updates(page)[-1]["analytics_storage"] == "granted"


def test_lost_answer_is_retried_without_a_second_receipt(visit, server):
    """The server stored the decision but its answer never arrived: the retry carries the same
    decision_id, so the browser ends with that receipt's consent id and only one receipt."""
    v = visit()
    sent = []

    def lose_first_answer(route):
        if route.request.method == "POST" and not sent:
            sent.append(route.request.post_data_json["decision_id"])
            route.fetch()  # reaches the server, which stores the receipt ...
            route.abort()  # ... but the browser sees a network error
        else:
            route.fallback()

    v.context.route(re.compile(r"/consent$"), lose_first_answer)
    page = v.goto("/")
    page.get_by_role("button", name="Alle akzeptieren").click()
    page.wait_for_function(
        "() => localStorage.getItem('consent-pending') === null", timeout=10_000
    )
    store = open_store(server.app.config["DATABASE_URL"])
    try:
        stored = store.by_decision_id(v.consent_id(), sent[0])
    finally:
        store.close()
    assert stored is not None and stored.action == "accept_all"
    assert v.consent_id() == stored.consent_id
    assert [r.receipt_id for r in server.history(stored.consent_id)] == [stored.receipt_id]


def test_without_javascript_the_forms_record_decisions(visit, server):
    v = visit(java_script_enabled=False)
    page = v.goto("/")
    banner = page.locator(BANNER)
    assert banner.is_visible()
    banner.get_by_role("button", name="Nur notwendige").click()
    page.wait_for_load_state()
    assert page.locator(BANNER).count() == 0
    consent_id = json.loads(page.goto(server.url + "/consent").text())["consent_id"]
    assert last_receipt(server, consent_id).method == "form"
    v.goto("/cookie-einstellungen")
    page.locator("#category-statistics").check()
    page.get_by_role("button", name="Auswahl speichern").click()
    page.wait_for_load_state()
    receipt = last_receipt(server, consent_id)
    assert (receipt.action, receipt.method) == ("custom", "settings")
    page.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    page.wait_for_load_state()
    assert last_receipt(server, consent_id).action == "withdraw"
    assert v.third_party == []


def test_english_texts_follow_the_page_language(visit):
    v = visit(locale="en-GB")
    page = v.goto("/?lang=en")
    dialog = page.get_by_role("dialog", name="Privacy settings")
    for name in ("Accept all", "Only essential"):
        assert dialog.get_by_role("button", name=name).is_visible()
    dialog.get_by_role("button", name="Settings").click()
    modal = page.locator(MODAL)
    assert modal.get_attribute("lang") == "en"
    assert modal.get_by_role("button", name="Save selection").is_visible()


def run_axe(page, axe_source) -> list:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        (r["id"], r["impact"], [n["target"] for n in r["nodes"]][:3]) for r in result
    ]


STYLE = ["fontFamily", "fontSize", "fontWeight", "color",
         "backgroundColor", "borderTopWidth", "borderTopColor", "borderRadius", "paddingTop"]


@pytest.mark.parametrize("width", [1280, 360])
def test_accessibility_and_equal_weight(visit, axe_source, width):
    # Playwright's add_script_tag inserts an inline script: CSP would refuse it, so this
    # context bypasses CSP for axe only (every other test runs under the real policy).
    v = visit(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = v.goto("/")
    assert run_axe(page, axe_source) == []
    banner = page.locator(BANNER)
    accept, reject, settings = (
        banner.get_by_role("button", name="Alle akzeptieren"),
        banner.get_by_role("button", name="Nur notwendige"),
        banner.get_by_role("button", name="Einstellungen"),
    )
    styles = [
        el.evaluate("(e, keys) => keys.map(k => getComputedStyle(e)[k])", STYLE)
        for el in (accept, reject, settings)
    ]
    assert styles[0] == styles[1] == styles[2]
    boxes = [el.bounding_box() for el in (accept, reject, settings)]
    for box in boxes[1:]:  # same size (the grid may round a fraction of a pixel)
        assert abs(box["width"] - boxes[0]["width"]) < 0.5
        assert abs(box["height"] - boxes[0]["height"]) < 0.5
    targets = page.locator("#consent-banner a, #consent-banner button").all()
    assert all(t.bounding_box()["height"] >= 24 for t in targets)
    settings.click()
    page.locator(MODAL).wait_for()
    assert run_axe(page, axe_source) == []
    modal = page.locator(MODAL)
    for i in range(modal.locator("summary").count()):
        modal.locator("summary").nth(i).click()
    assert run_axe(page, axe_source) == []
    for target in modal.locator("button, input, summary").all():
        box = target.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, target.evaluate("e => e.outerHTML")
    page.keyboard.press("Escape")
    v.goto("/cookie-einstellungen")
    assert run_axe(page, axe_source) == []


def test_dark_scheme_keeps_contrast(visit, axe_source):
    v = visit(color_scheme="dark", bypass_csp=True)
    page = v.goto("/")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    page.locator(MODAL).wait_for()
    assert run_axe(page, axe_source) == []


def test_focused_page_link_is_not_hidden_behind_the_first_layer(visit):
    v = visit()
    page = v.goto("/")
    page.keyboard.press("Shift+Tab")  # from the banner back to the footer's last link
    assert focused(page) == "Cookie-Einstellungen"
    link = page.evaluate("document.activeElement.getBoundingClientRect().bottom")
    top = page.evaluate("document.getElementById('consent-banner').getBoundingClientRect().top")
    assert link <= top


def test_motion_only_when_the_visitor_allows_it(visit):
    still = visit(reduced_motion="reduce").goto("/")
    assert still.evaluate("getComputedStyle(document.getElementById('consent-banner'))"
                          ".animationName") == "none"
    moving = visit(reduced_motion="no-preference").goto("/")
    assert moving.evaluate("getComputedStyle(document.getElementById('consent-banner'))"
                           ".animationName") == "cc-in"


def test_new_catalog_revision_asks_again(visit, server):
    from website.consent.decision import DecisionCookie

    old = DecisionCookie(server.app.config["SECRET_KEY"], 3600).serializer.dumps(
        {"i": "old-visitor", "r": "an-old-revision", "m": "banner", "c": ["essential",
         "statistics"], "s": ["site", "ga4", "matomo"]}
    )
    v = visit()
    v.context.add_cookies([{"name": "consent", "value": old, "url": server.url}])
    page = v.goto("/")
    assert page.get_by_role("dialog", name="Datenschutz-Einstellungen").is_visible()
    page.wait_for_load_state("networkidle")
    assert v.third_party == []


def test_settings_page_dialog_decision_updates_the_page(visit, server):
    v = visit()
    page = v.goto("/cookie-einstellungen")
    page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").focus()
    page.keyboard.press("Enter")
    with page.expect_navigation():  # the server-rendered state and history are refreshed
        page.locator(MODAL).get_by_role("button", name="Alle akzeptieren").click()
    assert "Statistik: erlaubt" in page.locator(".consent-state").inner_text()
    # Receipts are listed in words (issue 12), no longer as the raw id "accept_all".
    assert "Alles erlaubt" in page.locator(".consent-history").inner_text()


def test_missing_browser_skips_locally_but_fails_in_ci(monkeypatch):
    from tests.browser.conftest import _missing

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _missing("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _missing("no chromium")
