"""The admin's screens for requests that arrive by e-mail: contact messages (read, mark answered,
delete) and one visitor's data by consent id (show, download, erase), each audited."""

from __future__ import annotations

import json
import re

from tests.admin.helpers import form_token
from tests.conftest import csrf_token, post_choice
from website.contact.messages import add_message, list_messages


def test_messages_are_shown_escaped_marked_answered_and_deleted(app, logged_in, store, clock):
    message = add_message(store, name="<script>alert(1)</script>", email="erika@example.org",
                          message="Bitte <b>rufen</b> Sie an", ip_prefix="198.51.100.0",
                          consent_to_contact=True, now=clock())
    page = logged_in.get("/admin/messages").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Bitte &lt;b&gt;rufen&lt;/b&gt;" in page
    token = form_token(logged_in, "/admin/messages")
    answered = logged_in.post(f"/admin/messages/{message.id}/answered",
                              data={"csrf_token": token})
    assert answered.status_code == 303
    assert list_messages(store)[0].answered_at is not None
    missing = logged_in.post("/admin/messages/999/delete", data={"csrf_token": token})
    assert missing.status_code == 404
    assert logged_in.post(f"/admin/messages/{message.id}/delete",
                          data={"csrf_token": token}).status_code == 303
    assert list_messages(store) == []
    audit = logged_in.get("/admin/audit").get_data(as_text=True)
    assert "message answered" in audit and f"#{message.id}" in audit
    assert "message deleted" in audit


def test_a_visitor_request_by_consent_id_shows_downloads_and_erases(app, logged_in, store):
    visitor = app.test_client()
    decision = post_choice(visitor, {"categories": {"statistics": True}}).get_json()
    other = post_choice(app.test_client(), {"categories": {}}).get_json()
    consent_id = decision["consent_id"]
    page = logged_in.get(f"/admin/visitor?consent_id={consent_id}").get_data(as_text=True)
    assert "1 receipt for" in page and decision["receipt_id"] in page
    download = logged_in.get(f"/admin/visitor/export?consent_id={consent_id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.get_data(as_text=True))
    assert [r["receipt_id"] for r in document["receipts"]] == [decision["receipt_id"]]
    assert document["notices"]  # the notice text the visitor saw comes with it
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    refused = logged_in.post("/admin/visitor/erase", data={
        "csrf_token": token, "consent_id": consent_id, "reason": "asked by erika@example.org"})
    assert refused.status_code == 400  # a reason with personal data is refused, nothing erased
    assert len(store.history(consent_id)) == 1
    erased = logged_in.post("/admin/visitor/erase", data={
        "csrf_token": token, "consent_id": consent_id, "reason": "request by e-mail, Art. 17"})
    assert erased.status_code == 303
    assert store.history(consent_id) == []
    assert len(store.history(other["consent_id"])) == 1  # nobody else's
    again = logged_in.post("/admin/visitor/erase", data={
        "csrf_token": token, "consent_id": consent_id, "reason": "request by e-mail, Art. 17"})
    assert again.status_code == 404
    audit = logged_in.get("/admin/audit").get_data(as_text=True)
    assert "visitor erased" in audit and consent_id not in audit  # the pseudonym is gone


def test_the_admin_erasure_cannot_reach_the_visitors_browser(app, logged_in, store):
    """The answer goes to the operator's browser, so it expires none of the visitor's cookies:
    their decision cookie and service cookies stay until the visitor erases (or withdraws) on
    their side, which still expires them all (docs/visitor-rights.md)."""
    visitor = app.test_client()
    consent_id = post_choice(visitor, {"categories": {"statistics": True}}).get_json()[
        "consent_id"]
    visitor.set_cookie("_ga", "GA1.2.3")
    token = form_token(logged_in, f"/admin/visitor?consent_id={consent_id}")

    erased = logged_in.post("/admin/visitor/erase", data={
        "csrf_token": token, "consent_id": consent_id, "reason": "request by e-mail, Art. 17"})

    assert erased.status_code == 303 and store.history(consent_id) == []
    assert not [h for h in erased.headers.getlist("Set-Cookie") if "Max-Age=0" in h]
    assert visitor.get_cookie("consent") is not None and visitor.get_cookie("_ga") is not None
    own = visitor.post("/meine-daten/loeschen?lang=en",
                       data={"csrf_token": csrf_token(visitor, "/meine-daten")})
    assert "Nothing was stored for this browser" in own.get_data(as_text=True)
    assert visitor.get_cookie("consent") is None and visitor.get_cookie("_ga") is None
