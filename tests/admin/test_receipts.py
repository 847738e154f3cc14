"""The admin's receipt search (filters, paging) and receipt page (the exact notice text it
points to, the privacy policy in force); every stored field is shown escaped."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.admin.helpers import add, make_receipt
from tests.conftest import post_choice
from website.consent.receipts import Notice

T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)


def ids_on(page: str) -> list[str]:
    return re.findall(r'href="/admin/receipts/([0-9a-f-]{36})"', page)


def test_search_by_each_field_and_paging(app, store, logged_in):
    visitor = "11111111-2222-4333-8444-555555555555"
    made = [add(app, store, T0 + timedelta(hours=i), consent_id=visitor if i < 3 else None,
                action="reject_all" if i % 2 else "accept_all",
                method="settings" if i == 5 else "banner")
            for i in range(120)]
    first = logged_in.get("/admin/receipts").get_data(as_text=True)
    assert "120 receipts found." in first and "Page 1 of 3" in first
    assert ids_on(first)[0] == made[-1].receipt_id  # newest first
    assert len(ids_on(first)) == 50
    third = logged_in.get("/admin/receipts?page=3").get_data(as_text=True)
    assert ids_on(third) == [r.receipt_id for r in reversed(made[:20])]
    assert "Previous page" in third and "Next page" not in third

    def found(**query: str) -> list[str]:
        return ids_on(logged_in.get("/admin/receipts", query_string=query).get_data(as_text=True))

    assert found(consent_id=visitor) == [r.receipt_id for r in reversed(made[:3])]
    assert found(receipt_id=made[7].receipt_id) == [made[7].receipt_id]
    assert found(method="settings") == [made[5].receipt_id]
    day = found(since="2026-02-02", until="2026-02-02")  # hours 14..37 of the run
    assert day == [r.receipt_id for r in reversed(made[14:38])]
    both = found(since="2026-02-02", until="2026-02-02", action="reject_all")
    assert both == [r.receipt_id for r in reversed(made[14:38]) if r.action == "reject_all"]
    assert found(consent_id="nobody") == []
    # Filters survive paging.
    paged = logged_in.get("/admin/receipts?action=accept_all&page=2").get_data(as_text=True)
    assert "action=accept_all" in re.search(r'href="([^"]*page=1[^"]*)"', paged).group(1)


@pytest.mark.parametrize("query", [{"page": "x"}, {"action": "drop table"},
                                   {"since": "2026-02-30"}, {"consent_id": "a\x00b"},
                                   {"consent_id": "x" * 65},
                                   {"since": "2026-03-02", "until": "2026-03-01"}])
def test_bad_search_input_is_a_400(logged_in, query):
    assert logged_in.get("/admin/receipts", query_string=query).status_code == 400


def test_a_receipt_is_shown_next_to_its_notice_and_policy(app, store, logged_in):
    receipt = add(app, store, T0, action="custom", grant=("media",), language="en")
    response = logged_in.get(f"/admin/receipts/{receipt.receipt_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    notice = store.notice(receipt.notice_hash)
    shown = re.search(r'<pre class="notice">(.*?)</pre>', page, re.S).group(1)
    assert json.loads(html.unescape(shown)) == json.loads(notice.content)
    assert "the stored text matches the receipt" in page
    assert receipt.notice_hash in page and "External media" in html.unescape(shown)
    # This fixture receipt records no policy version: said plainly, and compared with today's.
    assert "not recorded" in page and "differs" in page


def test_a_receipt_under_the_current_policy_says_so(app, client, store, logged_in):
    body = post_choice(client, {"categories": {"statistics": True}}).get_json()
    page = logged_in.get(f"/admin/receipts/{body['receipt_id']}").get_data(as_text=True)
    stored = store.get(body["receipt_id"])
    assert stored.policy_version and stored.policy_version in page
    assert stored.policy_hash in page and "has the same hash" in page


def test_a_tampered_notice_is_flagged_and_unknown_receipts_are_404(app, store, logged_in):
    fake = Notice("f" * 64, "rev", "de", json.dumps({"texts": "changed"}))
    receipt = replace(make_receipt(app, T0), notice_hash=fake.notice_hash)
    store.add(receipt, fake)
    page = logged_in.get(f"/admin/receipts/{receipt.receipt_id}").get_data(as_text=True)
    assert "does NOT match" in page
    assert logged_in.get("/admin/receipts/" + "0" * 36).status_code == 404
    assert logged_in.get("/admin/receipts/%3Cscript%3E").status_code == 404
    assert logged_in.get("/admin/receipts/a%00b").status_code == 404


XSS = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'


def test_stored_xss_through_receipt_fields_is_shown_escaped(app, store, logged_in):
    evil_notice = Notice.of("rev-x", "de", {"texts": {"title": XSS}, "purposes": [IMG]})
    receipt = replace(
        make_receipt(app, T0), page_path=f"/{XSS}", ua_browser=IMG, ua_os=XSS, ua_device=XSS,
        consent_id="c-<b>bold</b>", revision=f"r{XSS}", method=XSS, language="de",
        notice_hash=evil_notice.notice_hash, policy_version=IMG, categories={XSS: True},
        decision_id=IMG,
    )
    store.add(receipt, evil_notice)
    pages = [
        logged_in.get("/admin/receipts").get_data(as_text=True),
        logged_in.get(f"/admin/receipts/{receipt.receipt_id}").get_data(as_text=True),
        logged_in.get("/admin", query_string={"since": "2026-01-20", "until": "2026-02-10"})
        .get_data(as_text=True),
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1]
    assert "c-&lt;b&gt;bold&lt;/b&gt;" in pages[1]
    assert "&lt;script&gt;" in pages[2]  # the device class in the dashboard's table
