"""The banner's HTTP API: state, recording a choice, and every kind of bad input."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CLIENT_IP, FULL_USER_AGENT, csrf_token, post_choice, raw_database_bytes

OPTIONAL_SERVICES = {"matomo", "ga4", "meta_pixel", "youtube"}


def test_state_before_any_decision(client):
    state = client.get("/consent").get_json()
    assert state["decided"] is False
    assert state["consent_id"] is None
    assert state["categories"] == {
        "essential": True,
        "statistics": False,
        "marketing": False,
        "media": False,
    }
    assert state["services"]["site"] is True
    assert not any(state["services"][s] for s in OPTIONAL_SERVICES)
    assert len(state["revision"]) == 16


def test_accept_all_records_receipt_and_sets_cookie(client, store):
    response = post_choice(
        client,
        {"categories": {"statistics": True, "marketing": True, "media": True}, "method": "banner"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["decided"] is True
    assert body["receipt_id"]
    assert all(body["services"][s] for s in OPTIONAL_SERVICES)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("consent=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=15724800" in cookie
    assert "Secure" not in cookie  # plain HTTP in this test

    (receipt,) = store.history(body["consent_id"])
    assert receipt.receipt_id == body["receipt_id"]
    assert receipt.action == "accept_all"
    assert receipt.method == "banner"
    assert receipt.categories == body["categories"]
    assert receipt.services == body["services"]
    assert receipt.language == "de"
    assert receipt.ip_prefix == "203.0.113.0"
    assert (receipt.ua_browser, receipt.ua_os, receipt.ua_device) == ("Chrome", "Windows", "pc")
    assert receipt.as_json()["created_at"].endswith("Z")
    notice = store.notice(receipt.notice_hash)
    assert notice is not None
    assert "Statistik (Matomo, Google Analytics 4, Google Tag Manager)" in notice.content

    # The cookie is now the decision the server reads back.
    state = client.get("/consent").get_json()
    assert state["decided"] is True and state["consent_id"] == body["consent_id"]
    assert state["services"]["ga4"] is True


def test_per_service_choice_overrides_its_category(client, store):
    body = post_choice(
        client, {"categories": {"statistics": True}, "services": {"ga4": False}}
    ).get_json()
    assert body["services"]["matomo"] is True
    assert body["services"]["ga4"] is False
    assert body["categories"]["statistics"] is True
    (receipt,) = store.history(body["consent_id"])
    assert receipt.action == "custom"
    assert receipt.method == "api"
    # Refused services are recorded as refused, not left out.
    assert receipt.services["ga4"] is False and receipt.services["meta_pixel"] is False


def test_reject_all_and_later_change_share_one_history(client, store):
    first = post_choice(client, {"categories": {}}).get_json()
    assert first["categories"]["statistics"] is False
    second = post_choice(client, {"categories": {"media": True}}).get_json()
    assert second["consent_id"] == first["consent_id"]
    actions = [r.action for r in store.history(first["consent_id"])]
    assert actions == ["reject_all", "custom"]


def test_receipt_page_path_comes_from_referrer_without_query(client, store):
    token = csrf_token(client)
    body = client.post(
        "/consent",
        json={"categories": {}},
        headers={"X-CSRFToken": token, "Referer": "http://localhost/impressum?utm_source=x"},
    ).get_json()
    assert store.history(body["consent_id"])[0].page_path == "/impressum"


def test_no_raw_ip_or_full_user_agent_reaches_the_database(app, client):
    post_choice(client, {"categories": {"statistics": True}})
    client.post("/consent/withdraw", json={}, headers={"X-CSRFToken": csrf_token(client)})
    raw = raw_database_bytes(app.config["DATABASE_URL"])
    assert b"203.0.113.0" in raw  # the truncated network is there ...
    assert CLIENT_IP.encode() not in raw  # ... the address is not
    assert FULL_USER_AGENT.encode() not in raw
    assert b"Chrome/131" not in raw and b"Win64" not in raw


def test_ipv6_visitor_is_stored_as_48_bit_prefix(client, store):
    client.environ_base["REMOTE_ADDR"] = "2001:db8:abcd:1234:5678:9abc:def0:1234"
    body = post_choice(client, {"categories": {}}).get_json()
    assert store.history(body["consent_id"])[0].ip_prefix == "2001:db8:abcd::"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"categories": {"statistics": "yes"}}', "true or false"),
        (b'{"categories": {"statistics": 1}}', "true or false"),
        (b'{"categories": {"tracking": true}}', "Unknown category 'tracking'"),
        (b'{"categories": {}, "services": {"hotjar": true}}', "Unknown service 'hotjar'"),
        (b'{"categories": {"essential": false}}', "essential"),
        (b'{"categories": {}, "services": {"site": false}}', "essential"),
        (b'{"services": {}}', '"categories"'),
        (b'{"categories": [], "services": {}}', '"categories"'),
        (b'{"categories": {}, "services": []}', '"services"'),
        (b'{"categories": {}, "extra": 1}', "Unknown field(s): extra"),
        (b'{"categories": {}, "method": "email"}', '"method"'),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_bad_json_is_400_with_a_message_and_records_nothing(client, store, body, message):
    token = csrf_token(client)
    response = client.post(
        "/consent", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["error"] == "bad_request"
    assert message in response.get_json()["message"]
    assert "Set-Cookie" not in response.headers or "consent=" not in response.headers["Set-Cookie"]
    assert list(store.export()) == []


def test_wrong_content_type_is_415(client, store):
    token = csrf_token(client)
    response = client.post(
        "/consent",
        data='{"categories": {}}',
        content_type="text/plain",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"
    assert "application/json" in response.get_json()["message"]
    assert list(store.export()) == []


def test_body_over_16_kib_is_413(client, store):
    token = csrf_token(client)
    padding = "x" * (16 * 1024)
    response = client.post(
        "/consent",
        data=json.dumps({"categories": {}, "method": padding}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"
    assert "16384" in response.get_json()["message"]
    assert list(store.export()) == []


def test_missing_csrf_token_is_refused(client, store):
    client.get("/")
    response = client.post("/consent", json={"categories": {"statistics": True}})
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["message"]
    assert list(store.export()) == []


def test_forged_csrf_token_is_refused(client, store):
    csrf_token(client)
    response = client.post(
        "/consent", json={"categories": {}}, headers={"X-CSRFToken": "forged.token.value"}
    )
    assert response.status_code == 400
    assert list(store.export()) == []


def test_token_from_another_session_is_refused(app, client, store):
    other = app.test_client()
    stolen = csrf_token(other)
    csrf_token(client)
    response = client.post("/consent", json={"categories": {}}, headers={"X-CSRFToken": stolen})
    assert response.status_code == 400
    assert list(store.export()) == []


def test_cross_site_post_records_nothing(client, store):
    token = csrf_token(client)
    response = client.post(
        "/consent",
        json={"categories": {"marketing": True}},
        headers={"X-CSRFToken": token, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert list(store.export()) == []


def test_get_on_withdraw_is_not_allowed(client):
    response = client.get("/consent/withdraw", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_my_receipts_download_lists_only_this_visitors_receipts(app, client):
    other = app.test_client()
    post_choice(other, {"categories": {"marketing": True}})
    post_choice(client, {"categories": {"statistics": True}})
    post_choice(client, {"categories": {}})
    response = client.get("/consent/receipts")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    receipts = response.get_json()
    assert [r["action"] for r in receipts] == ["custom", "reject_all"]
    assert {r["consent_id"] for r in receipts} == {client.get("/consent").get_json()["consent_id"]}
    assert receipts[0]["schema"] == "website-consent-receipt/2"


def test_my_receipts_without_a_decision_is_empty(client):
    assert client.get("/consent/receipts").get_json() == []


def same_browser_without_consent_cookie(app, client):
    """A client with the browser's session cookie but not the consent cookie: what a retry
    looks like when the first answer (and its Set-Cookie) was lost."""
    retry = app.test_client()
    retry.environ_base.update(client.environ_base)
    retry.set_cookie("session", client.get_cookie("session").value)
    return retry


def test_retried_decision_is_stored_once(app, client, store):
    """A retry whose first answer was lost (no cookie arrived) must not add a second receipt."""
    choice = {"categories": {"statistics": True}, "method": "banner",
              "decision_id": "0b7c9e1e-5a43-4d3f-9a57-2f6c1f0a9d11"}
    first = post_choice(client, choice).get_json()
    lost_answer = same_browser_without_consent_cookie(app, client)
    token = csrf_token(client)
    second = lost_answer.post("/consent", json=choice, headers={"X-CSRFToken": token})
    assert second.status_code == 200
    assert second.get_json()["receipt_id"] == first["receipt_id"]
    assert second.get_json()["consent_id"] == first["consent_id"]
    assert second.get_json()["services"]["matomo"] is True
    assert [r.receipt_id for r in store.export()] == [first["receipt_id"]]
    assert store.history(first["consent_id"])[0].decision_id == choice["decision_id"]

    stranger = app.test_client()
    theirs = post_choice(stranger, choice).get_json()
    assert theirs["receipt_id"] != first["receipt_id"]
    assert theirs["consent_id"] != first["consent_id"]
    assert len(list(store.export())) == 2

    other = post_choice(client, {**choice, "decision_id": "another-decision-0001"}).get_json()
    assert other["receipt_id"] != first["receipt_id"]
    assert len(list(store.export())) == 3


def test_a_stolen_decision_id_takes_over_nobody(app, client, store):
    """Visitor B sends visitor A's decision_id: B gets a consent id and receipt of B's own,
    never A's cookie, and cannot read or extend A's history."""
    choice = {"categories": {"marketing": True}, "method": "banner",
              "decision_id": "visitor-a-decision-0001"}
    a = post_choice(client, choice).get_json()
    b_client = app.test_client()
    b = post_choice(b_client, {**choice, "categories": {"statistics": True}})
    assert b.status_code == 200
    assert b.get_json()["consent_id"] != a["consent_id"]
    assert b.get_json()["receipt_id"] != a["receipt_id"]
    assert b_client.get("/consent").get_json()["consent_id"] == b.get_json()["consent_id"]
    assert [r["consent_id"] for r in b_client.get("/consent/receipts").get_json()] == [
        b.get_json()["consent_id"]
    ]
    assert [r.receipt_id for r in store.history(a["consent_id"])] == [a["receipt_id"]]
    # B retrying the same id is idempotent for B alone.
    again = post_choice(b_client, {**choice, "categories": {"statistics": True}}).get_json()
    assert again["receipt_id"] == b.get_json()["receipt_id"]
    assert len(list(store.export())) == 2


def test_retried_withdrawal_is_stored_once(client, store):
    post_choice(client, {"categories": {"marketing": True}})
    body = {"method": "banner", "decision_id": "withdrawal-attempt-0001"}
    token = csrf_token(client)
    for _ in range(3):
        response = client.post("/consent/withdraw", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 200
    assert [r.action for r in store.export()] == ["custom", "withdraw"]


@pytest.mark.parametrize(
    "decision_id",
    ["short", "x" * 65, "has space in it 123", 12345678901234567, "trailing-newline-0001\n"],
)
def test_bad_decision_id_is_400(client, store, decision_id):
    response = post_choice(client, {"categories": {}, "decision_id": decision_id})
    assert response.status_code == 400
    assert "decision_id" in response.get_json()["message"]
    assert list(store.export()) == []
