"""Accessibility defects found in review (issue 12), each checked in the real browser: reflow at
400 % zoom, the inert page behind the modal, dialog openers that are buttons, the Tab distance of
reject and accept, and the settings page's own first layer."""

from __future__ import annotations

import pytest

from tests.browser.test_banner import BANNER, MODAL, focused, run_axe

#: 1280 x 1024 at 400 % zoom is 320 x 256 CSS px (WCAG 1.4.10).
ZOOM_400 = {"width": 320, "height": 256}


def sideways(page) -> int:
    """How many CSS px the page scrolls sideways (0 = it reflows)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_settings_page_reflows_at_400_percent_with_every_detail_open(visit):
    v = visit(viewport=ZOOM_400)
    page = v.goto("/cookie-einstellungen")
    page.locator("details", has_text="Meta Pixel").locator("summary").click()
    assert sideways(page) == 0
    closed = page.locator("main details:not([open]) > summary")
    while closed.count():
        closed.first.click()
    assert page.locator("main details[open]").count() == page.locator("main details").count()
    assert sideways(page) == 0
    # Every box lies inside the viewport: nothing is clipped either.
    overflowing = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 0.5).map(e => e.outerHTML.slice(0, 80))"
    )
    assert overflowing == []


@pytest.mark.parametrize("width", [320, 360, 390])
def test_privacy_page_tables_fit_narrow_screens(visit, width):
    v = visit(viewport={"width": width, "height": 800})
    for path in ("/datenschutz", "/datenschutz?lang=en"):
        page = v.goto(path)
        assert page.locator(".legal table").count() >= 2
        assert sideways(page) == 0
        cells = page.evaluate(
            "[...document.querySelectorAll('.legal table, .legal th, .legal td')]"
            ".map(e => [e.getBoundingClientRect().right, e.scrollWidth - e.clientWidth])"
        )
        assert all(right <= width + 0.5 and hidden <= 0 for right, hidden in cells), cells


def test_the_page_behind_the_open_modal_is_inert(visit):
    v = visit()
    page = v.goto("/")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    page.locator(MODAL).wait_for()
    behind = "[...document.body.children].filter(e => !e.matches('.cc-backdrop, #consent-status'))"
    assert page.evaluate(f"{behind}.every(e => e.inert)")
    assert page.evaluate("document.querySelector('.cc-backdrop').inert") is False
    # Focus cannot reach the page: a click on a page link is swallowed by the backdrop too.
    page.evaluate("document.querySelector('footer a').focus()")
    assert page.evaluate("!!document.activeElement.closest('.cc-modal')")
    page.keyboard.press("Escape")
    assert page.evaluate("[...document.body.children].some(e => e.inert)") is False
    assert focused(page) == "Einstellungen"


def test_controls_that_open_the_dialog_are_buttons(visit):
    page = visit().goto("/")
    for opener in (page.locator(BANNER).get_by_role("button", name="Einstellungen"),
                   page.locator("footer").get_by_role("button", name="Cookie-Einstellungen")):
        assert opener.evaluate("e => [e.tagName, e.type, e.getAttribute('aria-haspopup')]") == [
            "BUTTON", "button", "dialog"]
    assert page.locator("a[data-consent-open]").count() == 0


def test_without_javascript_the_openers_are_links_to_the_settings_page(visit):
    page = visit(java_script_enabled=False).goto("/")
    link = page.locator(BANNER).get_by_role("link", name="Einstellungen")
    assert link.get_attribute("href") == "/cookie-einstellungen"
    footer = page.locator("footer").get_by_role("link", name="Cookie-Einstellungen")
    footer.click()
    page.wait_for_url("**/cookie-einstellungen")
    assert page.get_by_role("button", name="Auswahl speichern").is_visible()


def presses_to(visit, name: str) -> int:
    """Tab presses from a fresh page load to the first-layer button ``name``."""
    page = visit().goto("/")
    for presses in range(1, 30):
        page.keyboard.press("Tab")
        if focused(page) == name:
            return presses
    raise AssertionError(f"{name!r} not reachable")


def test_reject_is_not_a_tab_further_than_accept(visit):
    assert presses_to(visit, "Nur notwendige") <= presses_to(visit, "Alle akzeptieren")


def test_settings_page_shows_no_first_layer_and_no_withdrawal_before_a_decision(visit, server):
    v = visit()
    page = v.goto("/cookie-einstellungen")
    assert page.locator(BANNER).count() == 0
    assert page.get_by_role("button", name="Alle Einwilligungen widerrufen").count() == 0
    page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").click()
    modal = page.locator(MODAL)
    modal.wait_for()
    assert modal.get_by_role("button", name="Alle Einwilligungen widerrufen").count() == 0
    with page.expect_navigation():  # the page reloads with the stored decision
        modal.get_by_role("button", name="Nur notwendige").click()
    history = page.locator(".consent-history").inner_text()
    assert "Nur Notwendiges erlaubt" in history and "Banner" in history
    assert "reject_all" not in history and "Diese Website" in history
    assert page.get_by_role("button", name="Alle Einwilligungen widerrufen").is_visible()


def test_first_layer_at_400_percent_zoom_reflows_and_passes_axe(visit, axe_source):
    v = visit(viewport=ZOOM_400, bypass_csp=True)
    page = v.goto("/")
    assert sideways(page) == 0
    assert run_axe(page, axe_source) == []
    for name in ("Nur notwendige", "Alle akzeptieren", "Einstellungen"):
        button = page.locator(BANNER).get_by_role("button", name=name)
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["y"] + box["height"] <= 256


def test_second_layer_and_catalog_load_only_when_it_opens(visit, server):
    v = visit()
    loaded = []
    v.page.on("response", lambda r: loaded.append((r.url.split("/", 3)[3], r.status)))
    page = v.goto("/")
    page.wait_for_load_state("networkidle")
    assert not any("banner-layer" in u or "catalog." in u for u, _ in loaded)
    assert ("static/banner.min.js", 200) in loaded and ("static/banner.min.css", 200) in loaded
    for _ in range(2):
        page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
        page.locator(MODAL).wait_for()
        page.keyboard.press("Escape")
    revision = server.app.extensions["consent"].catalog.revision
    fetched = [u for u, status in loaded if "banner-layer" in u or "catalog." in u]
    assert sorted(fetched) == [f"consent/catalog.{revision}.de.json",
                               "static/banner-layer.min.css", "static/banner-layer.min.js"]


def test_unreachable_second_layer_falls_back_to_the_settings_page(visit):
    v = visit()
    v.context.route("**/consent/catalog.*", lambda route: route.fulfill(status=404, body="{}"))
    page = v.goto("/")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    page.wait_for_url("**/cookie-einstellungen")
    assert page.get_by_role("button", name="Auswahl speichern").is_visible()
