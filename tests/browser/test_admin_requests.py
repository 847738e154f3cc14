"""axe on the two admin screens for requests that arrive by e-mail: /admin/messages with
contact messages (one answered, one not, one with markup in it) and /admin/visitor with a
visitor's receipts shown, the erasure form, and the confirmation after an erasure; in light
and dark, on both backends. The fixtures (a logged-in admin on a seeded site) are those of
test_admin.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.browser.test_admin import admin_page, admin_server, run_axe  # noqa: F401 (fixtures)
from website.contact.messages import add_message, list_messages, mark_answered

VISITOR = "visitor-3-1"  # seeded by test_admin.seed: receipts on 2026-03-04
MESSAGES = (
    ("Erika Mustermann", "erika@example.org", "Bitte rufen Sie mich zurück.\nDanke!", True),
    ("<b>Mallory</b>", "mallory@example.org", '<script>alert("x")</script> & more', False),
)


@pytest.fixture(scope="module")
def with_messages(admin_server):  # noqa: F811 (the imported fixture)
    store = admin_server.app.extensions["receipt_store"]
    when = datetime(2026, 3, 5, 9, tzinfo=UTC)
    for name, email, text, consent in MESSAGES:
        add_message(store, name=name, email=email, message=text, ip_prefix="203.0.113.0",
                    consent_to_contact=consent, now=when)
    mark_answered(store, list_messages(store)[-1].id, now=when)
    return admin_server


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_messages_and_visitor(admin_page, with_messages, axe_source,  # noqa: F811
                                                   scheme):
    page = admin_page(color_scheme=scheme, bypass_csp=True)
    url = with_messages.url

    page.goto(url + "/admin/messages")
    assert page.locator("article.contact-message").count() >= len(MESSAGES)
    assert page.get_by_role("button", name="Delete").count() >= len(MESSAGES)
    assert "<b>Mallory</b>" in page.locator("article.contact-message").first.inner_text()
    assert run_axe(page, axe_source) == [], "/admin/messages"

    page.goto(url + "/admin/visitor")
    assert run_axe(page, axe_source) == [], "/admin/visitor (empty)"

    page.get_by_label("Consent id").fill(VISITOR)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{url}/admin/visitor?consent_id={VISITOR}")
    assert page.locator('a[href^="/admin/receipts/"]').count() >= 1
    assert page.get_by_role("button", name="Erase these receipts").is_visible()
    assert run_axe(page, axe_source) == [], "/admin/visitor with a visitor shown"

    page.goto(url + "/admin/visitor?consent_id=nobody-sent-this")
    assert run_axe(page, axe_source) == [], "/admin/visitor without receipts"

    if scheme == "dark":  # erase once (the light run above has seen the visitor first)
        page.goto(f"{url}/admin/visitor?consent_id={VISITOR}")
        page.get_by_label("Reason (no personal data)").fill("Art. 17 request by e-mail")
        page.get_by_role("button", name="Erase these receipts").click()
        page.wait_for_url(f"{url}/admin/visitor?erased=*")
        assert page.get_by_role("status").is_visible()
        assert run_axe(page, axe_source) == [], "/admin/visitor after an erasure"
