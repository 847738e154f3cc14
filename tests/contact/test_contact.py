"""/kontakt: CSRF, honeypot, length limits, rate limit, stored messages, SMTP notification."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from flask import render_template
from sqlalchemy import select

from tests.conftest import CLIENT_IP, csrf_token, raw_database_bytes
from tests.rights.helpers import make_app, web_client
from website.contact.messages import get_message, list_messages
from website.rights.tables import contact_messages

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def form(client, **fields):
    data = {"csrf_token": csrf_token(client, "/kontakt"), "name": "Erika Mustermann",
            "email": "erika@example.org", "message": "Guten Tag,\nbitte rufen Sie zurück.",
            "consent_to_contact": "y", **fields}
    return client.post("/kontakt", data={k: v for k, v in data.items() if v is not None})


def rows(store) -> list[dict]:
    with store.engine.connect() as connection:
        return [row._asdict() for row in connection.execute(select(contact_messages))]


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.mails.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks readiness by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_message_is_stored_with_a_truncated_address(app, client, store):
    page = client.get("/kontakt").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'name="website"' in page
    response = form(client)
    assert response.status_code == 303 and response.headers["Location"].startswith(
        "/kontakt/danke")
    assert "Danke" in client.get(response.headers["Location"]).get_data(as_text=True)
    [row] = rows(store)
    assert row["name"] == "Erika Mustermann" and row["email"] == "erika@example.org"
    assert row["message"] == "Guten Tag,\nbitte rufen Sie zurück."
    assert row["ip_prefix"] == "203.0.113.0" and row["consent_to_contact"] is True
    assert row["created_at"] == row["last_activity_at"] and row["answered_at"] is None
    assert CLIENT_IP.encode() not in raw_database_bytes(app.config["DATABASE_URL"])
    form(client, consent_to_contact=None)
    assert [m.consent_to_contact for m in list_messages(store)] == [False, True]


def test_without_csrf_nothing_is_stored(client, store):
    response = client.post("/kontakt", data={"name": "A", "email": "a@example.org",
                                             "message": "Hallo"})
    assert response.status_code == 400 and rows(store) == []
    stale = client.post("/kontakt", data={"csrf_token": "bogus", "name": "A",
                                          "email": "a@example.org", "message": "Hallo"})
    assert stale.status_code == 400 and rows(store) == []


def test_a_filled_honeypot_looks_like_success_and_stores_nothing(client, store, smtp):
    response = form(client, website="http://spam.example")
    assert response.status_code == 303 and rows(store) == []


@pytest.mark.parametrize("fields", [
    {"name": ""}, {"name": "x" * 101}, {"email": "not-an-address"}, {"email": "a@b"},
    {"email": "a" * 250 + "@example.org"}, {"message": ""}, {"message": " \n "},
    {"message": "x" * 4001}, {"name": "Erika\r\nBcc: victim@example.org"},
    {"name": "Null\x00byte"},
])
def test_limits_and_bad_fields_are_refused_with_the_form_again(client, store, fields):
    response = form(client, **fields)
    assert response.status_code == 400
    assert 'class="form-error"' in response.get_data(as_text=True)
    assert rows(store) == []


def test_limits_hold_exactly_at_the_edge(client, store):
    assert form(client, name="x" * 100, message="y" * 4000).status_code == 303
    assert len(rows(store)) == 1


def test_stored_xss_is_shown_escaped(app, client, store):
    # Reflected in the form after an error ...
    page = form(client, name=XSS, email="bad").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # ... stored as typed (it is evidence, not markup) ...
    assert form(client, name=XSS, message=XSS).status_code == 303
    message = list_messages(store)[0]
    assert message.name == XSS and message.message == XSS
    # ... and escaped wherever it is shown: the partial the admin includes, and the CLI's JSON.
    with app.test_request_context():
        html = render_template("contact/message.html", message=message)
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    listed = app.test_cli_runner().invoke(args=["contact", "list"]).stdout
    assert json.loads(listed.splitlines()[0])["message"] == XSS


def test_rate_limit(database_url):
    with make_app(database_url, CONTACT_RATE_LIMIT="2 per minute") as app:
        client = web_client(app)
        statuses = [form(client).status_code for _ in range(3)]
        assert statuses == [303, 303, 429]
        assert client.get("/kontakt").status_code == 200  # reading the form is not limited


def test_notification_reaches_a_real_smtp_server(database_url, smtp):
    inbox, port = smtp
    with make_app(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                  CONTACT_NOTIFY_TO="office@example.org") as app:
        client = web_client(app)
        assert form(client, name="Erika <Mustermann>").status_code == 303
    [raw] = inbox.mails
    mail = message_from_bytes(raw, policy=default_policy)
    assert mail["To"] == "office@example.org" and mail["Subject"].startswith(
        "Kontaktformular: Nachricht #")
    text = mail.get_content()
    assert "Erika <Mustermann>" in text and "bitte rufen Sie zurück" in text
    assert "erika@example.org" in text


def test_mail_server_down_keeps_the_message(database_url, caplog):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with make_app(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                  CONTACT_NOTIFY_TO="office@example.org") as app:
        client = web_client(app)
        assert form(client).status_code == 303
        with app.app_context():
            from website.store import get_store

            assert len(list_messages(get_store())) == 1
    assert "could not be sent" in caplog.text


def test_no_notification_without_settings(client, store, smtp):
    inbox, _port = smtp
    assert form(client).status_code == 303 and inbox.mails == []


def test_cli_list_answered_delete(app, client, runner, store):
    form(client)
    form(client, name="Zweite")
    listed = [json.loads(line) for line in runner.invoke(args=["contact", "list"]).stdout
              .splitlines()]
    assert [m["name"] for m in listed] == ["Zweite", "Erika Mustermann"]
    first = listed[1]["id"]
    result = runner.invoke(args=["contact", "answered", str(first)])
    assert result.exit_code == 0
    answered = get_message(store, first)
    assert answered.answered_at is not None and answered.last_activity_at == answered.answered_at
    unanswered = runner.invoke(args=["contact", "list", "--unanswered"]).stdout
    assert [json.loads(line)["name"] for line in unanswered.splitlines()] == ["Zweite"]
    assert runner.invoke(args=["contact", "delete", str(first)]).exit_code == 0
    assert get_message(store, first) is None
    for command in ("answered", "delete"):
        missing = runner.invoke(args=["contact", command, "99999"])
        assert missing.exit_code == 1 and "no message 99999" in missing.output


def test_english_form(client):
    page = client.get("/kontakt?lang=en").get_data(as_text=True)
    assert "E-mail address" in page and 'lang="en"' in page
    response = form(client, email="nope")
    assert "Das ist keine E-Mail-Adresse." in response.get_data(as_text=True)
