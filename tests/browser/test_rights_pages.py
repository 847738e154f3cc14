"""/meine-daten and /kontakt (website/rights, website/contact) in a real chromium under the
strict CSP, checked with axe."""

from __future__ import annotations


def run_axe(page, axe_source) -> list:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [(r["id"], r["impact"], [n["target"] for n in r["nodes"]][:3]) for r in result]


def csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    return errors


def test_my_data_shows_exports_and_erases_in_a_browser(visit):
    v = visit()
    page = v.goto("/")
    errors = csp_errors(page)
    with page.expect_response(lambda r: r.url.endswith("/consent")
                              and r.request.method == "POST"):
        page.locator("#consent-banner").get_by_role("button", name="Alle akzeptieren").click()
    assert page.locator("footer").get_by_role("link", name="Meine Daten").count() == 1
    v.goto("/meine-daten")
    consent_id = v.consent_id()
    assert consent_id in page.content()
    assert page.locator("tbody tr").count() == 1
    page.locator("details summary").first.click()
    assert page.get_by_text("Alle akzeptieren").first.is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Alle meine Daten als JSON herunterladen").click()
    assert consent_id in download.value.path().read_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Meine Daten löschen").click()
    assert "1 Nachweis gelöscht" in page.content()
    assert "consent" not in v.cookies()
    assert v.server.history(consent_id) == []
    assert errors == []


def test_my_data_and_contact_pass_axe(visit, axe_source):
    v = visit(bypass_csp=True)  # axe is injected inline; the other test runs under the CSP
    page = v.goto("/")
    with page.expect_response(lambda r: r.url.endswith("/consent")
                              and r.request.method == "POST"):
        page.locator("#consent-banner").get_by_role("button", name="Nur notwendige").click()
    for path in ("/meine-daten", "/meine-daten?lang=en", "/kontakt", "/kontakt?lang=en"):
        v.goto(path)
        if "meine-daten" in path:
            for summary in page.locator("summary").all():
                summary.click()
        assert run_axe(page, axe_source) == [], path
    v.goto("/kontakt")
    with page.expect_navigation():  # the form posts and the page comes back with its errors
        page.get_by_role("button", name="Senden").click()  # empty: errors shown
    page.locator(".form-error").nth(2).wait_for()
    assert page.locator(".form-error").count() == 3
    assert run_axe(page, axe_source) == []


def test_contact_form_posts_under_the_csp(visit):
    v = visit()
    page = v.goto("/kontakt")
    errors = csp_errors(page)
    page.get_by_label("Name").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Nachricht (höchstens 4000 Zeichen)").fill("<b>Hallo</b>")
    page.get_by_role("button", name="Senden").click()
    page.wait_for_url("**/kontakt/danke**")
    assert page.get_by_role("heading", name="Danke für Ihre Nachricht").is_visible()
    assert not page.locator("#website").is_visible()  # the honeypot stays hidden
    assert errors == []
