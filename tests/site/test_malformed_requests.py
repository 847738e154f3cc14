"""Malformed requests as raw bytes to real gunicorn: each gets a 4xx (JSON for the API) and
stores nothing; the well-formed request next to each case still works.

Before the fixes each of these answered 500 (or, for the 1 MB chunked body, 303 with a receipt
stored from the first 16 KiB of the body).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.site.gunicorn_server import (
    Gunicorn,
    RawResponse,
    Session,
    chunked,
    new_session,
    request_bytes,
    run_gunicorn,
    send_raw,
)

LIMIT = 16 * 1024  # MAX_CONTENT_LENGTH
JSON = {"Content-Type": "application/json", "Accept": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
VALID_CHOICE = json.dumps({"categories": {"statistics": True}}).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    with run_gunicorn(tmp_path_factory.mktemp("malformed")) as gunicorn:
        yield gunicorn


@pytest.fixture(scope="module")
def session(site: Gunicorn) -> Session:
    return new_session(site.port)


def send(site: Gunicorn, data: bytes) -> RawResponse:
    return send_raw(site.port, data)


def assert_json_error(response: RawResponse, status: int, code: str) -> dict:
    assert response.status == status, response.raw[:500]
    assert response.header("Content-Type") == "application/json"
    body = json.loads(response.body)
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert response.header("Cache-Control") == "no-store"
    return body


def assert_stores_nothing(site: Gunicorn, data: bytes) -> RawResponse:
    before = site.receipt_count()
    response = send(site, data)
    assert site.receipt_count() == before
    return response


def test_the_well_formed_choice_is_stored(site: Gunicorn, session: Session) -> None:
    """The other side of every case below: the same request, well formed, stores a receipt."""
    before = site.receipt_count()
    response = send(site, request_bytes("POST", "/consent", session.headers(**JSON), VALID_CHOICE))
    assert response.status == 200
    assert site.receipt_count() == before + 1


# --- deeply nested JSON -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/consent", "/consent/withdraw"])
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,
        b"[" * 5000 + b"]" * 5000,  # valid JSON, far too deep
        b'{"categories": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2001,
        b"[" * 33 + b"]" * 33,  # one level over the bound
    ],
    ids=["open-brackets", "closed-brackets", "nested-objects", "depth-33"],
)
def test_deeply_nested_json_is_a_400(
    site: Gunicorn, session: Session, path: str, body: bytes
) -> None:
    data = request_bytes("POST", path, session.headers(**JSON), body)
    response = assert_stores_nothing(site, data)
    message = assert_json_error(response, 400, "bad_request")["message"]
    assert "nested deeper than 32" in message


def test_json_within_the_depth_bound_is_parsed(site: Gunicorn, session: Session) -> None:
    """Depth 32 passes the bound and is judged by the schema (a list is not an object)."""
    body = b"[" * 32 + b"]" * 32
    response = assert_stores_nothing(
        site, request_bytes("POST", "/consent", session.headers(**JSON), body)
    )
    assert assert_json_error(response, 400, "bad_request")["message"] == (
        "The request body must be a JSON object."
    )


# --- multipart ----------------------------------------------------------------------------


def multipart(*parts: bytes) -> tuple[dict[str, str], bytes]:
    body = b"".join(b"--XB\r\n" + part + b"\r\n" for part in parts) + b"--XB--\r\n"
    return {"Content-Type": "multipart/form-data; boundary=XB"}, body


ACCEPT_ALL_PART = b'Content-Disposition: form-data; name="action"\r\n\r\naccept_all'


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (b"Content-Disposition: form-data\r\n\r\naccept_all", "has no name"),
        (b'Content-Disposition: form-data; filename="a.txt"\r\n\r\nx', "has no name"),
        # Werkzeug drops the whole form at a part without headers: then "action" is missing.
        (b"\r\nno headers at all", '"action" must be'),
    ],
    ids=["no-name", "file-without-name", "no-disposition"],
)
def test_multipart_part_without_a_name_is_a_400(
    site: Gunicorn, session: Session, part: bytes, message: str
) -> None:
    headers, body = multipart(ACCEPT_ALL_PART, part)
    as_api = session.headers(**headers, Accept="application/json")
    response = assert_stores_nothing(site, request_bytes("POST", "/consent", as_api, body))
    assert message in assert_json_error(response, 400, "bad_request")["message"]
    # A browser posting the form gets the error page, not JSON.
    response = assert_stores_nothing(
        site, request_bytes("POST", "/consent", session.headers(**headers), body)
    )
    assert response.status == 400
    assert response.header("Content-Type") == "text/html; charset=utf-8"


def test_multipart_form_with_named_parts_is_stored(site: Gunicorn, session: Session) -> None:
    headers, body = multipart(ACCEPT_ALL_PART)
    before = site.receipt_count()
    response = send(site, request_bytes("POST", "/consent", session.headers(**headers), body))
    assert response.status == 303
    assert site.receipt_count() == before + 1


# --- chunked framing and the body limit ------------------------------------------------------


def chunked_post(session: Session, framed: bytes, path: str = "/consent", **headers: str) -> bytes:
    all_headers = session.headers(
        **FORM, Accept="application/json", **{"Transfer-Encoding": "chunked"}, **headers
    )
    return request_bytes("POST", path, all_headers, framed, content_length=False)


@pytest.mark.parametrize(
    "framed",
    [
        b"zz\r\naction=accept_all\r\n0\r\n\r\n",  # chunk size is not hex
        b"5\r\naction=accept_all\r\n0\r\n\r\n",  # chunk longer than its size
        b"11\r\naction=accept_all",  # the stream ends inside a chunk
        b"11\r\naction=accept_all\r\n",  # the stream ends before the last chunk
        b"-1\r\naction=accept_all\r\n0\r\n\r\n",
        b"11;\x00\r\naction=accept_all\r\n0\r\n\r\n",  # a NUL in a chunk extension
    ],
    ids=["size-not-hex", "missing-terminator", "cut-in-chunk", "no-last-chunk", "negative",
         "bad-extension"],
)
def test_malformed_chunked_framing_is_a_400(
    site: Gunicorn, session: Session, framed: bytes
) -> None:
    response = assert_stores_nothing(site, chunked_post(session, framed))
    assert response.status == 400, response.raw[:300]
    if response.header("Content-Type") == "application/json":  # gunicorn may answer first
        assert_json_error(response, 400, "bad_request")


def test_chunked_body_over_the_limit_is_refused_not_cut(site: Gunicorn, session: Session) -> None:
    """A 1 MB chunked form used to be parsed from its first 16 KiB and stored."""
    body = b"action=accept_all&padding=" + b"a" * (1024 * 1024)
    response = assert_stores_nothing(site, chunked_post(session, chunked(body)))
    message = assert_json_error(response, 413, "payload_too_large")["message"]
    assert str(LIMIT) in message


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * LIMIT])
def test_chunked_body_just_over_the_limit_is_refused(
    site: Gunicorn, session: Session, size: int
) -> None:
    body = b"action=accept_all&padding="
    body += b"a" * (size - len(body))
    response = assert_stores_nothing(site, chunked_post(session, chunked(body)))
    assert_json_error(response, 413, "payload_too_large")


def test_chunked_json_over_the_limit_is_refused(site: Gunicorn, session: Session) -> None:
    body = VALID_CHOICE[:-1] + b" " * LIMIT + b"}"
    headers = session.headers(**JSON, **{"Transfer-Encoding": "chunked"})
    data = request_bytes("POST", "/consent", headers, chunked(body), content_length=False)
    assert_json_error(assert_stores_nothing(site, data), 413, "payload_too_large")


def test_chunked_body_at_the_limit_is_accepted(site: Gunicorn, session: Session) -> None:
    """Exactly MAX_CONTENT_LENGTH bytes, in chunks: stored like the same body with a length."""
    body = b"action=accept_all&padding="
    body += b"a" * (LIMIT - len(body))
    before = site.receipt_count()
    response = send(site, chunked_post(session, chunked(body, size=1000)))
    assert response.status == 303, response.raw[:300]
    assert site.receipt_count() == before + 1


def test_body_with_a_length_over_the_limit_is_refused(site: Gunicorn, session: Session) -> None:
    body = VALID_CHOICE[:-1] + b" " * LIMIT + b"}"
    data = request_bytes("POST", "/consent", session.headers(**JSON), body)
    assert_json_error(assert_stores_nothing(site, data), 413, "payload_too_large")


# --- static files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/static/missing.css", "/static/nested/missing.js"])
def test_missing_static_file_is_a_404(site: Gunicorn, path: str) -> None:
    response = send(site, request_bytes("GET", path, {"Accept": "text/css,*/*;q=0.1"}))
    assert response.status == 404
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
    assert response.header("Set-Cookie") is None  # no CSRF session for a missing asset


def test_missing_static_file_asked_for_json_is_a_json_404(site: Gunicorn) -> None:
    data = request_bytes("GET", "/static/missing.css", {"Accept": "application/json"})
    response = send(site, data)
    assert_json_error(response, 404, "not_found")


def test_existing_static_file_is_served(site: Gunicorn) -> None:
    response = send(site, request_bytes("GET", "/static/site.css"))
    assert response.status == 200
    assert response.header("Content-Type").startswith("text/css")


# --- Host header ----------------------------------------------------------------------------

BAD_HOSTS = ["a..example", "a" * 64 + ".example", ".example", "example..", "a..b:8000"]


@pytest.mark.parametrize("host", BAD_HOSTS, ids=["empty-label", "label-64", "leading-dot",
                                                  "two-trailing-dots", "with-port"])
def test_host_with_an_empty_or_long_label_is_a_400(
    site: Gunicorn, session: Session, host: str
) -> None:
    post = request_bytes("POST", "/consent", session.headers(**JSON), VALID_CHOICE, host=host)
    assert_json_error(assert_stores_nothing(site, post), 400, "bad_request")
    api = request_bytes("GET", "/consent", {"Accept": "application/json"}, host=host)
    assert_json_error(send(site, api), 400, "bad_request")
    page = send(site, request_bytes("GET", "/", {"Accept": "text/html"}, host=host))
    assert page.status == 400
    assert page.header("Content-Type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize("host", ["a" * 63 + ".example", "example.", "localhost:8000"])
def test_host_with_labels_up_to_63_characters_is_served(site: Gunicorn, host: str) -> None:
    response = send(site, request_bytes("GET", "/consent", host=host))
    assert response.status == 200


# --- Referer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("referer", ["http://[::1/", "http://[2001:db8::1/x", "https://]/"])
def test_unparseable_referer_is_ignored(site: Gunicorn, session: Session, referer: str) -> None:
    """Found by test_fuzz.py: urlsplit raises on these, which was a 500 on every form post."""
    headers = session.headers(**FORM, Referer=referer)
    before = site.receipt_count()
    response = send(site, request_bytes("POST", "/consent", headers, b"action=reject_all"))
    assert response.status == 303
    assert response.header("Location") == "/"  # not back to the unparseable referrer
    assert site.receipt_count() == before + 1


def test_raw_requests_wrote_no_traceback(site: Gunicorn) -> None:
    """Runs last in this module: none of the requests above reached an unhandled exception."""
    log = Path(site.error_log).read_text()
    assert "Traceback" not in log and "Exception on" not in log
