"""Layouts (CONSENT_LAYOUT = box | bar) and themes (light, dark): the phone bottom sheet, the
second layer's sticky footer, switches that stay checkboxes, service counters, the reopen
button, the equal-weight rule computed per theme, and axe at 1280, 360 px and 400 % zoom."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_banner import BANNER, MODAL, decide, run_axe

LAYOUTS = ("box", "bar")
THEMES = ("light", "dark")
VIEWPORTS = {"desktop": (1280, 800), "phone": (360, 800), "zoom400": (320, 256)}
FIRST_LAYER_BUTTONS = ("Nur notwendige", "Alle akzeptieren", "Einstellungen")


def open_page(visit, layout_servers, layout, theme, size, **options):
    width, height = size
    v = visit(viewport={"width": width, "height": height}, color_scheme=theme, **options)
    return v, v.goto("/", server=layout_servers[layout])


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+(?:\.\d+)?", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


STYLE = ["fontFamily", "fontSize", "fontWeight", "color", "backgroundColor", "borderTopWidth",
         "borderTopColor", "borderRadius", "paddingTop", "textDecorationLine"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_equal_weight_holds_in_every_layout_and_theme(visit, layout_servers, layout, theme, size):
    _, page = open_page(visit, layout_servers, layout, theme, size)
    buttons = [page.locator(BANNER).get_by_role("button", name=n) for n in FIRST_LAYER_BUTTONS]
    styles = [b.evaluate("(e, k) => k.map(p => getComputedStyle(e)[p])", STYLE) for b in buttons]
    assert styles[0] == styles[1] == styles[2], styles
    boxes = [b.bounding_box() for b in buttons]
    for box in boxes[1:]:
        assert abs(box["width"] - boxes[0]["width"]) < 0.5
        assert abs(box["height"] - boxes[0]["height"]) < 0.5
    fg, bg = styles[0][3], styles[0][4]
    assert contrast(fg, bg) >= 4.5, (theme, fg, bg)
    for box in boxes:  # always in view: the text scrolls, the buttons do not
        assert box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5
        assert box["y"] >= 0 and box["y"] + box["height"] <= size[1] + 0.5


@pytest.mark.parametrize("layout", LAYOUTS)
def test_phone_bottom_sheet_takes_at_most_40_percent(visit, layout_servers, layout):
    _, page = open_page(visit, layout_servers, layout, "light", (390, 844))
    sheet = page.locator(BANNER).bounding_box()
    assert sheet["height"] <= 0.4 * 844
    assert abs(sheet["y"] + sheet["height"] - 844) < 1 and sheet["x"] == 0
    assert abs(sheet["width"] - 390) < 1
    for name in FIRST_LAYER_BUTTONS:
        button = page.locator(BANNER).get_by_role("button", name=name).bounding_box()
        assert sheet["y"] <= button["y"] and button["y"] + button["height"] <= 844


def test_box_is_a_corner_card_and_bar_spans_the_width(visit, layout_servers):
    _, page = open_page(visit, layout_servers, "box", "light", (1280, 800))
    card = page.locator(BANNER).bounding_box()
    assert card["width"] <= 481 and 1280 - (card["x"] + card["width"]) == pytest.approx(16, 1)
    assert card["height"] <= 0.4 * 800 + 1
    _, page = open_page(visit, layout_servers, "bar", "light", (1280, 800))
    bar = page.locator(BANNER).bounding_box()
    assert bar["x"] == 0 and bar["width"] == 1280 and bar["height"] <= 0.4 * 800 + 1


def open_second_layer(page):  # noqa: ANN001, ANN201
    """Open the settings from the banner and every service's details in it."""
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    modal = page.locator(MODAL)
    modal.wait_for()
    closed = modal.locator("details:not([open]) > summary")
    while closed.count():
        closed.first.click()
    return modal


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_axe_finds_nothing_in_either_layer(visit, layout_servers, axe_source, layout, theme,
                                           size):
    _, page = open_page(visit, layout_servers, layout, theme, size, bypass_csp=True)
    assert run_axe(page, axe_source) == []
    open_second_layer(page)
    assert run_axe(page, axe_source) == []


@pytest.mark.parametrize("size", [(1280, 800), (360, 800), (320, 256)])
def test_second_layer_footer_keeps_the_three_choices_in_view(visit, server, size):
    v = visit(viewport={"width": size[0], "height": size[1]})
    page = v.goto("/")
    modal = open_second_layer(page)
    modal.locator("details").last.scroll_into_view_if_needed()
    for name in ("Nur notwendige", "Alle akzeptieren", "Auswahl speichern"):
        button = modal.locator(".cc-foot").get_by_role("button", name=name)
        box = button.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= size[1] + 0.5, (name, box)
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit == name
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]


def test_switches_are_real_checkboxes_and_categories_count_their_services(visit):
    page = visit().goto("/")
    page.locator(BANNER).get_by_role("button", name="Einstellungen").click()
    modal = page.locator(MODAL)
    modal.wait_for()
    switches = modal.locator(".cc-switch")
    assert switches.count() == modal.get_by_role("checkbox", include_hidden=True).count() == 10
    assert all(s == ["checkbox", "none"] for s in switches.evaluate_all(
        "els => els.map(e => [e.type, getComputedStyle(e).appearance])"))
    statistics = modal.get_by_role("checkbox", name="Statistik")
    statistics.press("Space")
    assert statistics.is_checked()
    counts = modal.locator(".cc-count").all_inner_texts()
    assert counts == ["1 Dienst", "3 Dienste", "2 Dienste", "1 Dienst"]


def test_floating_reopen_button_is_off_by_default(visit, server):
    v = visit()
    page = v.goto("/")
    decide(page, page.get_by_role("button", name="Nur notwendige").click)
    page.reload()
    assert page.locator(".cc-reopen").count() == 0


def test_floating_reopen_button_when_switched_on(visit, layout_servers):
    v = visit()
    page = v.goto("/", server=layout_servers["box"])
    assert page.locator(".cc-reopen").count() == 0  # the first layer is there
    decide(page, page.get_by_role("button", name="Nur notwendige").click)
    page.reload()
    reopen = page.get_by_role("button", name="Cookie-Einstellungen öffnen")
    assert reopen.get_attribute("aria-haspopup") == "dialog"
    reopen.click()
    page.locator(MODAL).wait_for()
    assert page.locator("footer").get_by_role("button", name="Cookie-Einstellungen").is_visible()
    nojs = visit(java_script_enabled=False)
    nojs.context.add_cookies(v.context.cookies())
    link = nojs.goto("/", server=layout_servers["box"]).get_by_role(
        "link", name="Cookie-Einstellungen öffnen")
    assert link.get_attribute("href") == "/cookie-einstellungen"
