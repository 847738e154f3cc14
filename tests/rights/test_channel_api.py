"""POST /api/receipts: receipts from other channels with a per-channel bearer token."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import raw_database_bytes
from tests.rights.helpers import make_app, web_client
from website.rights.api import looks_like_phone_number

NOTICE = ("Wir übermitteln Ihre Angaben an unseren Dienstleister in den USA. Dort besteht kein "
          "gleichwertiges Datenschutzniveau. Sind Sie damit einverstanden?")


def new_channel(runner, name: str = "phone-hotline") -> str:
    result = runner.invoke(args=["channel", "create", name])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert len(token) >= 40
    return token


def body(**overrides):
    return {"caller": "crm-4711", "decision_id": "call-2026-0001-abcdef",
            "categories": {"marketing": True}, "notice": NOTICE, "lang": "de", **overrides}


def post(client, token: str | None, payload, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/receipts", json=payload, headers=headers)


def test_a_valid_token_records_a_phone_receipt_with_its_notice(app, client, runner, store):
    token = new_channel(runner)
    response = post(client, token, body())
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["created"] is True and answer["method"] == "phone"
    assert answer["consent_id"].startswith("phone-hotline:")
    assert "crm-4711" not in answer["consent_id"]
    receipt = store.get(answer["receipt_id"])
    assert receipt.method == "phone" and receipt.action == "custom"
    assert receipt.services["meta_pixel"] is True and receipt.services["ga4"] is False
    assert receipt.page_path == "channel:phone-hotline"
    assert (receipt.ip_prefix, receipt.ua_browser, receipt.ua_os, receipt.ua_device) == (
        "", "", "", "")
    notice = json.loads(store.notice(receipt.notice_hash).content)
    assert notice["script"] == NOTICE and notice["channel"] == "phone-hotline"
    # The operator's proof command shows it like any receipt.
    shown = runner.invoke(args=["receipts", "show", receipt.receipt_id])
    assert NOTICE in json.loads(shown.stdout)["notice"]["script"]


def test_the_same_decision_id_is_stored_once(client, runner, store):
    token = new_channel(runner)
    first = post(client, token, body())
    again = post(client, token, body(categories={"marketing": False}))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["receipt_id"] == first.get_json()["receipt_id"]
    assert again.get_json()["created"] is False
    assert store.count() == 1
    # The same decision_id for another caller of the channel is a conflict, not a new receipt.
    clash = post(client, token, body(caller="crm-4712"))
    assert clash.status_code == 409 and clash.get_json()["error"] == "conflict"
    assert store.count() == 1


def test_withdrawal_through_the_same_api(client, runner, store):
    token = new_channel(runner)
    consent_id = post(client, token, body()).get_json()["consent_id"]
    withdrawn = post(client, token, {"caller": "crm-4711", "action": "withdraw",
                                     "decision_id": "call-2026-0002-abcdef",
                                     "notice": "Sie widerrufen Ihre Einwilligung."})
    assert withdrawn.status_code == 201
    assert withdrawn.get_json()["consent_id"] == consent_id
    history = store.history(consent_id)
    assert [r.action for r in history] == ["custom", "withdraw"]
    assert not any(v for k, v in history[1].services.items() if k != "site")
    refused = post(client, token, {"caller": "crm-4711", "action": "withdraw",
                                   "categories": {}, "decision_id": "call-2026-0003-abcdef",
                                   "notice": "x"})
    assert refused.status_code == 400


def test_token_missing_wrong_revoked_or_of_another_channel(app, client, runner, store):
    token = new_channel(runner)
    other = new_channel(runner, "branch-office")
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"Authorization": f"Bearer {token}x"},
                    {"Authorization": "Bearer " + "a" * 500}):
        response = client.post("/api/receipts", json=body(), headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    claimed = post(client, other, body(channel="phone-hotline"))
    assert claimed.status_code == 403 and claimed.get_json()["error"] == "forbidden"
    assert store.count() == 0
    # Another channel's caller with the same pseudonym is someone else.
    mine = post(client, token, body()).get_json()
    theirs = post(client, other, body()).get_json()
    assert theirs["consent_id"].startswith("branch-office:")
    assert theirs["consent_id"] != mine["consent_id"]
    assert theirs["receipt_id"] != mine["receipt_id"]

    assert runner.invoke(args=["channel", "revoke", "phone-hotline"]).exit_code == 0
    revoked = post(client, token, body(decision_id="call-2026-0009-abcdef"))
    assert revoked.status_code == 401 and store.count() == 2
    assert post(client, other, body(decision_id="call-2026-0010-abcdef")).status_code == 201


def test_channel_commands_store_only_a_hash(app, runner, store):
    token = new_channel(runner)
    assert token.encode() not in raw_database_bytes(app.config["DATABASE_URL"])
    listed = [json.loads(line) for line in
              runner.invoke(args=["channel", "list"]).stdout.splitlines()]
    assert [(c["name"], c["active"]) for c in listed] == [("phone-hotline", True)]
    assert token not in json.dumps(listed)
    again = runner.invoke(args=["channel", "create", "phone-hotline"])
    assert again.exit_code == 1 and "exists and is active" in again.output
    assert runner.invoke(args=["channel", "create", "Bad Name"]).exit_code == 1
    assert runner.invoke(args=["channel", "revoke", "nope"]).exit_code == 1
    assert runner.invoke(args=["channel", "revoke", "phone-hotline"]).exit_code == 0
    # A revoked name can be issued again, with a new token; the old one stays dead.
    reissued = new_channel(runner)
    assert reissued != token


PHONE_NUMBERS = ["+49 151 2345678", "0151/2345678", "(030) 123-456", "tel:+4930123456",
                 "004930123456", "4930123456", "0441.000.0000", "+1-202-555-0143", "12345"]
PSEUDONYMS = ["crm-4711", "kd:00042", "a3f9c2e1d4b5a6978877665544332211", "caller_7", "hotline.2"]


@pytest.mark.parametrize("value", PHONE_NUMBERS)
def test_a_phone_number_as_caller_is_refused(client, runner, store, value):
    token = new_channel(runner)
    response = post(client, token, body(caller=value))
    assert response.status_code == 400
    assert "phone number" in response.get_json()["message"]
    assert store.count() == 0


def test_pseudonyms_are_accepted_and_the_rule_has_both_sides():
    assert all(looks_like_phone_number(v) for v in PHONE_NUMBERS)
    assert not any(looks_like_phone_number(v) for v in PSEUDONYMS)


@pytest.mark.parametrize("payload, status", [
    (body(categories={"nonsense": True}), 400),
    (body(categories={"essential": False}), 400),
    (body(categories={"marketing": "yes"}), 400),
    (body(services={"ga4": 1}), 400),
    ({k: v for k, v in body().items() if k != "decision_id"}, 400),
    (body(decision_id="short"), 400),
    ({k: v for k, v in body().items() if k != "notice"}, 400),
    (body(notice=" "), 400),
    (body(notice="x" * 8001), 400),
    (body(caller="with space"), 400),
    (body(caller=None), 400),
    (body(method="banner"), 400),
    (body(lang="es"), 400),
    (body(action="maybe"), 400),
    (body(extra=1), 400),
    ([1, 2], 400),
])
def test_invalid_bodies_get_json_errors_and_store_nothing(client, runner, store, payload, status):
    token = new_channel(runner)
    response = post(client, token, payload)
    assert response.status_code == status
    assert set(response.get_json()) == {"error", "message"}
    assert store.count() == 0


def test_not_json_and_too_large(client, runner, store):
    token = new_channel(runner)
    headers = {"Authorization": f"Bearer {token}"}
    form = client.post("/api/receipts", data={"caller": "crm-4711"}, headers=headers)
    assert form.status_code == 415
    broken = client.post("/api/receipts", data=b"{", content_type="application/json",
                         headers=headers)
    assert broken.status_code == 400 and broken.get_json()["error"] == "bad_request"
    huge = client.post("/api/receipts", data=b"x" * 20000, content_type="application/json",
                       headers=headers)
    assert huge.status_code == 413
    assert store.count() == 0


def test_fuzzed_bodies_never_5xx_and_store_nothing_on_error(database_url, store):
    with make_app(database_url, RATELIMIT_ENABLED=False) as app:
        _fuzz(web_client(app), new_channel(app.test_cli_runner()), store)


def _fuzz(client, token, store):
    rng = random.Random(20261201)
    values = [None, True, 0, -1, 1.5, "", "x", "+49 151", "crm-4711", [], {}, {"a": 1},
              "é" * 70, "<script>", "marketing", {"marketing": True}, "withdraw", "decide"]
    fields = ["caller", "decision_id", "lang", "categories", "services", "notice", "action",
              "method", "channel", "zzz"]
    stored = 0
    for _ in range(300):
        payload = {f: rng.choice(values) for f in rng.sample(fields, rng.randint(0, 6))}
        if rng.random() < 0.5:
            payload = {**body(decision_id=f"fuzz-{rng.getrandbits(64):016x}"), **payload}
        response = post(client, token, payload)
        assert response.status_code < 500, (payload, response.get_data(as_text=True))
        if response.status_code == 201:
            stored += 1
        else:
            assert response.status_code in (200, 400, 403, 409), payload
    assert store.count() == stored


def test_csrf_exempt_but_other_posts_still_need_csrf(client, runner):
    token = new_channel(runner)
    assert post(client, token, body()).status_code == 201  # no CSRF token, no session
    assert client.post("/consent", json={"categories": {}}).status_code == 400


def test_channel_rate_limit(database_url):
    with make_app(database_url, CHANNEL_RATE_LIMIT="2 per minute") as app:
        token = new_channel(app.test_cli_runner())
        client = web_client(app)
        statuses = [post(client, token, body(decision_id=f"call-2026-000{i}-abcdef")).status_code
                    for i in range(3)]
        assert statuses == [201, 201, 429]
