"""The banner in every language, in a real browser: both layers speak the page's language, and
at 400 % zoom (320 CSS px) no button breaks a word in the middle ("Einstel-lungen")."""

from __future__ import annotations

import pytest

from website.i18n import LANGUAGES, gettext_in, ngettext_in

BANNER = "#consent-banner"
MODAL = ".cc-modal"

#: For each button of the first layer, the words that were split across lines (none allowed):
#: a word whose characters lie on more than one line box was broken inside.
SPLIT_WORDS = """buttons => buttons.map(b => {
  const split = [];
  const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const r = document.createRange();
      r.setStart(node, m.index);
      r.setEnd(node, m.index + m[0].length);
      const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
      if (tops.size > 1) split.push(m[0]);
    }
  }
  return [b.textContent.trim(), split, b.scrollWidth <= b.clientWidth];
})"""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_both_layers_speak_the_page_language(visit, lang):
    v = visit()
    page = v.goto(f"/?lang={lang}")
    banner = page.locator(BANNER)
    assert banner.get_attribute("lang") == lang
    settings = gettext_in(lang, "Settings")
    banner.get_by_role("button", name=gettext_in(lang, "Accept all")).wait_for()
    banner.get_by_role("button", name=settings).click()
    modal = page.locator(MODAL)
    modal.wait_for()
    assert modal.get_attribute("lang") == lang
    assert modal.get_by_role("heading", name=gettext_in(lang, "Privacy settings")).is_visible()
    statistics = gettext_in(lang, "Statistics", "catalog")
    assert modal.get_by_role("checkbox", name=statistics).count() == 1
    counts = modal.locator(".cc-count").all_inner_texts()
    assert counts == [ngettext_in(lang, "%(num)d service", "%(num)d services", n)
                      for n in (1, 3, 2, 1)]
    assert modal.get_by_role("button", name=gettext_in(lang, "Save selection")).is_visible()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_banner_button_breaks_a_word_at_400_percent_zoom(visit, lang):
    v = visit(viewport={"width": 320, "height": 256})
    page = v.goto(f"/?lang={lang}")
    buttons = page.locator(f"{BANNER} .consent-actions .consent-button")
    assert buttons.count() == 3
    for text, split, fits in buttons.evaluate_all(SPLIT_WORDS):
        assert split == [], f"{lang}: {text!r} breaks {split} inside the word"
        assert fits, f"{lang}: {text!r} overflows its button"
