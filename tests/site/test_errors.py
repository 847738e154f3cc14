"""Error answers: one JSON shape with a stable code (``csrf_failed`` of its own), the codes
documented in docs/api.md, and no JSON answer kept by a cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf_token, post_choice
from website.errors import CODES, CSRF_FAILED

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Accept": "application/json"}


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body["message"]


# --- csrf_failed -----------------------------------------------------------------------------


def test_missing_csrf_token_has_its_own_code(client: FlaskClient) -> None:
    client.get("/")
    response = client.post("/consent", json={"categories": {"statistics": True}})
    assert_error(response, 400, CSRF_FAILED)


def test_csrf_token_of_another_session_has_its_own_code(app, client: FlaskClient) -> None:
    stolen = csrf_token(app.test_client())
    csrf_token(client)
    response = client.post("/consent/withdraw", json={}, headers={"X-CSRFToken": stolen})
    assert_error(response, 400, CSRF_FAILED)


def test_csrf_failure_of_a_form_post_from_an_api_client_is_json(client: FlaskClient) -> None:
    client.get("/")
    response = client.post("/consent", data={"action": "accept_all"}, headers=JSON)
    assert_error(response, 400, CSRF_FAILED)


def test_csrf_failure_of_a_browser_form_post_is_a_page(client: FlaskClient) -> None:
    client.get("/")
    page = {"Accept": "text/html"}
    response = client.post("/consent", data={"action": "accept_all"}, headers=page)
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_other_bad_requests_are_not_csrf_failures(client: FlaskClient) -> None:
    """The other side: with a valid token, a bad body is a plain ``bad_request``."""
    response = post_choice(client, {"categories": {"nonsense": True}})
    assert_error(response, 400, "bad_request")
    response = post_choice(client, {"categories": "all"})
    assert_error(response, 400, "bad_request")


# --- the JSON shape of every error -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/no-such-page", {"headers": JSON}, 404, "not_found"),
        ("GET", "/static/no-such-file.css", {"headers": JSON}, 404, "not_found"),
        ("GET", "/consent/withdraw", {"headers": JSON}, 405, "method_not_allowed"),
        ("DELETE", "/consent", {}, 405, "method_not_allowed"),
        ("POST", "/consent", {"data": "x", "content_type": "text/plain"}, 415,
         "unsupported_media_type"),
        ("POST", "/consent", {"json": {"categories": {}, "pad": "x" * 17000}}, 413,
         "payload_too_large"),
        ("POST", "/consent", {"data": b"[" * 5000, "content_type": "application/json"}, 400,
         "bad_request"),
        ("POST", "/consent", {"json": {}, "headers": {"Sec-Fetch-Site": "cross-site"}}, 403,
         "forbidden"),
    ],
    ids=["404", "404-static", "405-get", "405-delete", "415", "413", "400-nested", "403"],
)
def test_every_json_error_has_code_and_message(
    client: FlaskClient, method, path, kwargs, status, code
) -> None:
    token = csrf_token(client)
    kwargs = dict(kwargs)  # the parameters are shared by the runs on both backends
    headers = {"X-CSRFToken": token, **kwargs.pop("headers", {})}
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert_error(response, status, code)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.vary


def test_method_not_allowed_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.get("/consent/withdraw", headers=JSON)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_unexpected_exception_is_a_json_500_without_details(app, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail 203.0.113.77")

    response = client.get("/boom", headers=JSON)
    message = assert_error(response, 500, "internal_error")
    assert "secret" not in message and "203.0.113" not in message


def test_error_codes_are_documented() -> None:
    """docs/api.md lists every code the site answers with, and no other."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    assert documented == {*CODES.values(), CSRF_FAILED, "error"}


# --- caching -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/consent", "/consent/receipts", "/.well-known/gpc.json"])
def test_json_answers_are_not_cached_and_vary_by_cookie(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.is_json
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.vary


def test_a_recorded_choice_is_not_cached(client: FlaskClient) -> None:
    response = post_choice(client, {"categories": {"statistics": True}})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.vary


def test_static_files_stay_cacheable(client: FlaskClient) -> None:
    """The other side: a stylesheet is the same for everyone and may be cached."""
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert "Cookie" not in response.vary
    response.close()
