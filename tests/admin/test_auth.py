"""Admin authentication: every route behind the login, the session cookie's flags, CSRF on every
form, the lockout held in the database across two app instances, idle and absolute timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from tests.admin.helpers import PASSWORD, form_token, login, new_client
from website import create_app
from website.admin.accounts import LOCK_DURATION, MAX_FAILED_LOGINS, Accounts

PUBLIC = {"admin.login"}


def admin_rules(app: Flask):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert {r.endpoint for r in rules} >= {
        "admin.login", "admin.logout", "admin.dashboard", "admin.receipts", "admin.receipt",
        "admin.export_page", "admin.export_download", "admin.audit", "admin.messages",
        "admin.message_answered", "admin.message_delete", "admin.visitor",
        "admin.visitor_export", "admin.visitor_erase",
    }
    return rules


def url_of(rule) -> str:
    return (rule.rule.replace("<receipt_id>", "00000000-0000-4000-8000-000000000000")
            .replace("<int:message_id>", "1"))


def test_every_admin_endpoint_without_a_session_answers_302_to_login(app, clock):
    client = new_client(app)
    checked = 0
    for rule in admin_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": form_token(client)} if method == "POST" else None
            response = client.open(url_of(rule), method=method, data=data)
            assert response.status_code in (302, 401), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/admin/login"), rule.rule
            checked += 1
    assert checked >= 7


def test_a_session_from_the_public_site_is_no_admin_session(app, admin, clock):
    client = new_client(app)
    assert login(client).status_code == 302
    admin_cookie = client.get_cookie("admin_session", path="/admin")
    assert admin_cookie is not None
    # The same signed value under the site's cookie name and path opens nothing in the admin.
    stranger = new_client(app)
    stranger.set_cookie("session", admin_cookie.value, path="/")
    assert stranger.get("/admin").status_code == 302


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(app, admin, clock, accounts):
    client = new_client(app)
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("admin_")]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain HTTP in the test; see the HTTPS test below
    assert "Expires" not in cookie  # a browser-session cookie
    assert client.get("/admin").status_code == 200
    token = form_token(client, "/admin/export")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert client.get("/admin").status_code == 302
    entries, _ = accounts.audit_log(10)
    assert [e.action for e in entries] == ["logout", "login"]
    assert {e.address for e in entries} == {"203.0.113.0"}  # truncated, never the address
    assert {e.actor for e in entries} == {"alice"}


def test_over_https_the_admin_cookie_is_secure(app, admin, clock):
    client = new_client(app)
    # Flask-WTF's strict HTTPS check wants a same-origin Referer, as a browser sends it.
    response = login(client, base_url="https://localhost",
                     headers={"Referer": "https://localhost/admin/login"})
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("admin_")]
    assert "Secure" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("name,password", [("alice", "wrong password!!"), ("bob", PASSWORD),
                                           ("", ""), ("x" * 300, "y" * 5000)])
def test_a_wrong_login_fails_the_same_way(app, admin, clock, name, password):
    client = new_client(app)
    response = login(client, name, password)
    assert response.status_code in (400, 401)
    assert client.get("/admin").status_code == 302
    if name and len(name) <= 64 and password:
        assert "Login failed" in response.get_data(as_text=True)


def test_next_only_leads_into_the_admin(app, admin, clock):
    for target, expected in [("/admin/receipts", "/admin/receipts"),
                             ("//evil.example/admin", "/admin"),
                             ("https://evil.example/admin", "/admin"), ("/", "/admin")]:
        client = new_client(app)
        token = form_token(client)
        response = client.post("/admin/login", query_string={"next": target},
                               data={"csrf_token": token, "name": "alice", "password": PASSWORD})
        assert response.headers["Location"] == expected, target


def test_every_admin_form_needs_its_csrf_token(app, logged_in, accounts):
    before = accounts.audit_log(100)[1]
    for rule in admin_rules(app):
        if "POST" not in rule.methods:
            continue
        for data in ({}, {"csrf_token": "forged"}):
            response = logged_in.post(url_of(rule), data={**data, "name": "alice",
                                                          "password": PASSWORD,
                                                          "format": "csv"})
            assert response.status_code == 400, rule.rule
    assert accounts.audit_log(100)[1] == before  # nothing was logged out, exported or logged
    assert logged_in.get("/admin").status_code == 200  # the refused logout did not log out
    # And the token of another session does not do either.
    other = new_client(app)
    foreign = form_token(other)
    assert logged_in.post("/admin/logout", data={"csrf_token": foreign}).status_code == 400


def test_lockout_holds_across_two_app_instances_on_one_database(app, database_url, admin,
                                                                clock, accounts):
    second = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
                         "DATABASE_URL": database_url, "ADMIN_CLOCK": clock})
    try:
        one, two = new_client(app), new_client(second)
        for attempt in range(MAX_FAILED_LOGINS):
            client = one if attempt % 2 == 0 else two  # the attempts alternate between nodes
            assert login(client, password=f"wrong password {attempt}").status_code == 401
        user = accounts.get("alice")
        assert user is not None and user.locked(clock())
        assert user.locked_until == clock() + LOCK_DURATION
        # The right password is refused on both instances while the lock holds ...
        assert login(one).status_code == 401
        clock.advance(minutes=14, seconds=59)
        assert login(two).status_code == 401
        # ... and accepted on either once it is over.
        clock.advance(seconds=2)
        assert login(two).status_code == 302
        assert accounts.get("alice").failed_logins == 0
        actions = [e.action for e in accounts.audit_log(20)[0]]
        assert actions.count("login_failed") == MAX_FAILED_LOGINS - 1
        assert actions.count("login_locked") == 3 and actions[0] == "login"
    finally:
        second.extensions["receipt_store"].close()


def test_a_success_resets_the_count(app, admin, clock, accounts):
    client = new_client(app)
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert login(client, password="wrong password!").status_code == 401
    assert login(client).status_code == 302
    other = new_client(app)
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert login(other, password="wrong password!").status_code == 401
    assert not accounts.get("alice").locked(clock())
    assert login(new_client(app)).status_code == 302


def test_failed_logins_racing_on_two_nodes_still_lock(app, database_url, admin, clock, accounts):
    """The count is one UPDATE per failure in the database: interleaving loses none."""
    other = Accounts(accounts.engine, clock)
    for i in range(MAX_FAILED_LOGINS):
        (accounts if i % 2 else other).authenticate("alice", "wrong password!")
    assert accounts.get("alice").locked(clock())


def test_idle_timeout_ends_a_session(app, logged_in, clock):
    idle = app.config["ADMIN_IDLE_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert logged_in.get("/admin").status_code == 200  # activity keeps it alive
    clock.advance(minutes=idle - 1)
    assert logged_in.get("/admin/receipts").status_code == 200
    clock.advance(minutes=idle, seconds=1)
    response = logged_in.get("/admin")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    clock.advance(seconds=1)
    assert logged_in.get("/admin").status_code == 302  # stays logged out


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(app, logged_in, clock):
    hours = app.config["ADMIN_SESSION_HOURS"]
    elapsed = timedelta()
    while elapsed < timedelta(hours=hours) - timedelta(minutes=20):
        clock.advance(minutes=20)
        elapsed += timedelta(minutes=20)
        assert logged_in.get("/admin/audit").status_code == 200
    clock.advance(minutes=21)
    assert logged_in.get("/admin/audit").status_code == 302


def test_a_new_password_or_disabling_ends_existing_sessions(app, logged_in, accounts):
    accounts.set_password("alice", "another good password")
    assert logged_in.get("/admin").status_code == 302
    assert login(logged_in, password="another good password").status_code == 302
    assert logged_in.get("/admin").status_code == 200
    accounts.disable("alice")
    assert logged_in.get("/admin").status_code == 302
    assert login(logged_in, password="another good password").status_code == 401


def test_the_audit_page_lists_logins_escaped(app, logged_in, clock):
    login(new_client(app), name="<script>alert(1)</script>", password="wrong password!")
    page = logged_in.get("/admin/audit").get_data(as_text=True)
    assert "login_failed" in page and "203.0.113.0" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_pages_keep_the_strict_csp(app, logged_in):
    for path in ("/admin", "/admin/receipts", "/admin/export", "/admin/audit", "/admin/login"):
        response = logged_in.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "style-src 'self'" in csp
        page = response.get_data(as_text=True)
        assert " style=" not in page and "<style" not in page and "<script" not in page
        assert response.headers["Cache-Control"] == "no-store"




def test_the_public_site_is_untouched_by_the_admin(app, logged_in):
    """No admin cookie outside /admin, no session read on static files (they stay cacheable)."""
    response = logged_in.get("/static/site.css")
    assert "Cookie" not in response.vary
    page = logged_in.get("/")
    assert not any(c.startswith("admin_") for c in page.headers.getlist("Set-Cookie"))
    assert logged_in.get_cookie("session", path="/") is not None  # the site's own, separate


@pytest.mark.parametrize("name", ["a\x00b", "\x1b[31mroot", "ä" * 60, "alice\r\nforged"])
def test_hostile_login_names_are_a_401_and_logged_printable(app, admin, clock, accounts, name):
    response = login(new_client(app), name, "wrong password!")
    assert response.status_code == 401
    (entry,), _ = accounts.audit_log(1)
    assert entry.action == "login_failed" and entry.actor.isprintable()
    assert len(entry.actor) <= 64 and "\x00" not in entry.actor


def test_without_a_database_the_admin_answers_503_not_500(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/missing.db"})
    client = new_client(app)
    assert client.get("/admin/login").status_code == 200
    response = login(client)
    assert response.status_code == 503 and "Retry-After" in response.headers
    app.extensions["receipt_store"].close()
