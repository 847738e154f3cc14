"""Bounded fuzzing with a fixed seed: mutated requests never get a 5xx, and a refused request
stores nothing.

Two runs over the same mutation engine: a few thousand requests through Flask's test client
(fast, every layer of the app), and a few hundred as raw bytes to real gunicorn (its HTTP parser,
chunked framing, the masking logs). The seed is fixed, so every run sends the same requests; a
failure prints the request that caused it.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token
from tests.site.gunicorn_server import (
    Gunicorn,
    chunked,
    exchange,
    new_session,
    parse_response,
    run_gunicorn,
)
from website.store import ReceiptStore

SEED = 20261201
CLIENT_REQUESTS = 3000
RAW_REQUESTS = 300

PATHS = [
    *["/consent"] * 16, *["/consent/withdraw"] * 6, "/", "/cookie-einstellungen",
    "/consent/receipts", "/static/banner.js", "/static/nope.css", "/datenschutz?lang=en",
    "/healthz", "/.well-known/gpc.json", "/%00", "/..%2f..%2fetc",
]
METHODS = ["POST"] * 16 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
CONTENT_TYPES = [
    "application/json", "application/json", "application/json; charset=utf-8",
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XB", "multipart/form-data", "multipart/form-data; boundary=",
    "text/plain", "application/json; charset=latin-1", "application/x-www-form-urlencoded; x=\0",
    "*/*", "",
]
SEED_BODIES = [
    json.dumps({"categories": {"statistics": True}, "method": "banner"}).encode(),
    json.dumps({"categories": {"marketing": False, "statistics": True},
                "services": {"ga4": False}, "decision_id": "A" * 20}).encode(),
    json.dumps({"method": "settings", "lang": "en"}).encode(),
    b"action=accept_all", b"action=save&category-statistics=on&service-ga4=on&next=/",
    b"action=reject_all&method=settings",
    b'--XB\r\nContent-Disposition: form-data; name="action"\r\n\r\naccept_all\r\n--XB--\r\n',
    b"",
]
#: Fragments the mutator splices in: structure breakers, big and odd values, other types.
FRAGMENTS = [
    b"[" * 40, b"{" * 40, b'{"a":' * 50, b"[" * 5000, b"]", b"}", b'"', b"\\", b"\\u0000",
    b"\\ud800", b"\x00", b"\xff\xfe", b"\xc3\x28", b"1" * 5000, b"1e999999", b"-0", b"NaN",
    b"null", b"true", b"[]", b"{}", b'"essential"', b'"functional"', b"%", b"%zz", b"&&&",
    b"=" * 10, b"category-", b"service-ga4=on", b"action=save", b"\r\n", b"\r\n--XB\r\n",
    b"--XB--", b'Content-Disposition: form-data\r\n\r\n', b'; filename="x"', b"\xe2\x80\xae",
    b"a" * 17000, b"203.0.113.77",
]
HEADER_VALUES = {
    "Accept": ["application/json", "text/html", "*/*", "", "application/json;q=0, text/html",
               "\x7f"],
    "Accept-Language": ["de", "en", "en-US,en;q=0.9", "xx", "*", ";;;", "e" * 300],
    "Sec-Fetch-Site": ["same-origin", "cross-site", "none", "same-site", ""],
    "Sec-GPC": ["1", "0", "1, 1", ""],
    "Referer": ["http://localhost/datenschutz", "https://evil.example/", "//evil", "\\\\x",
                "http://[::1/", "javascript:alert(1)"],
    "Origin": ["http://localhost", "null", "https://evil.example"],
    "X-Forwarded-For": ["203.0.113.77", "2001:db8::1, 198.51.100.2", "garbage", ""],
    "User-Agent": ["Mozilla/5.0", "", "a" * 2000, "curl/8.0", "\x00"],
    "Cookie": ["consent=garbage", "consent=", "consent=a.b.c", "session=forged", "=;=;"],
}


NO_BREAKS = str.maketrans("", "", "\r\n")


def mutate(rng: random.Random, data: bytes, rounds: int | None = None) -> bytes:
    """A few random edits: flip, delete, duplicate, insert a fragment, truncate."""
    for _ in range(rounds if rounds is not None else rng.randint(0, 4)):
        choice = rng.random()
        position = rng.randint(0, len(data))
        if choice < 0.2 and data:
            index = rng.randrange(len(data))
            data = data[:index] + bytes([rng.randrange(256)]) + data[index + 1 :]
        elif choice < 0.35:
            data = data[:position] + data[position + rng.randint(1, 8) :]
        elif choice < 0.45 and data:
            start = rng.randrange(len(data))
            data = data[:position] + data[start : start + rng.randint(1, 32)] + data[position:]
        elif choice < 0.9:
            data = data[:position] + rng.choice(FRAGMENTS) + data[position:]
        else:
            data = data[:position]
    return data


def random_headers(rng: random.Random) -> dict[str, str]:
    headers = {}
    for name, values in HEADER_VALUES.items():
        if rng.random() < 0.25:
            headers[name] = rng.choice(values)
    return headers


class Receipts:
    """Counts receipts in the SQLite file through one read-only connection."""

    def __init__(self, database: Path) -> None:
        self._connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def count(self) -> int:
        return self._connection.execute("SELECT count(*) FROM receipts").fetchone()[0]

    def close(self) -> None:
        self._connection.close()


def check(status: int, before: int, after: int, described: str) -> None:
    assert status < 500, f"{status} for {described}"
    if status >= 400:
        assert after == before, f"{status} stored {after - before} receipt(s) for {described}"
    else:
        assert after - before in (0, 1), f"{status} stored {after - before} for {described}"


# --- through the test client --------------------------------------------------------------------


def test_fuzzed_requests_through_the_app(
    app: Flask, client: FlaskClient, store: ReceiptStore
) -> None:
    receipts = store  # counted through the store: SQLite or PostgreSQL alike
    rng = random.Random(SEED)
    token = csrf_token(client)
    stranger = app.test_client()  # no session, so no valid token
    statuses: dict[int, int] = {}
    for number in range(CLIENT_REQUESTS):
        method = rng.choice(METHODS)
        path = rng.choice(PATHS)
        if rng.random() < 0.1:
            # Quoted: the test client parses the URL itself (raw paths go to gunicorn below).
            path = "/" + quote(mutate(rng, path.encode(), 2), safe="/%?=&").lstrip("/")
        body = mutate(rng, rng.choice(SEED_BODIES))
        headers = random_headers(rng)
        if rng.random() < 0.9:
            forged = mutate(rng, token.encode(), 3).decode("latin-1")
            # A WSGI server never passes a line break inside a header value.
            headers["X-CSRFToken"] = token if rng.random() < 0.9 else forged.translate(NO_BREAKS)
        content_type = rng.choice(CONTENT_TYPES)
        if content_type:
            headers["Content-Type"] = content_type
        host = "localhost"
        if rng.random() < 0.05:
            host = rng.choice(["a..b", "a" * 64 + ".example", ".x", "x..:80"])
        user = stranger if rng.random() < 0.1 else client
        described = f"#{number} {method} {path} {headers!r} body={body[:200]!r}"
        before = receipts.count()
        response = user.open(
            path,
            method=method,
            data=body if method not in ("GET", "HEAD") else None,
            headers=headers,
            environ_overrides={"HTTP_HOST": host},
        )
        status = response.status_code
        response.close()
        statuses[status] = statuses.get(status, 0) + 1
        check(status, before, receipts.count(), described)
    # The fuzzer reached both sides: some requests were stored, many were refused.
    assert sum(n for s, n in statuses.items() if s < 400) > 50, statuses
    assert statuses.get(400, 0) > 500 and statuses.get(413, 0) > 5, statuses
    print(sorted(statuses.items()))


# --- as raw bytes to real gunicorn ---------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    with run_gunicorn(tmp_path_factory.mktemp("fuzz")) as gunicorn:
        yield gunicorn


def raw_request(rng: random.Random, cookie: str, token: str) -> bytes:
    method = rng.choice(METHODS)
    path = rng.choice(PATHS)
    body = mutate(rng, rng.choice(SEED_BODIES))
    headers = [f"Host: {rng.choice(['localhost', 'localhost', 'a..b', 'x' * 64, ''])}",
               "Connection: close", f"Cookie: {cookie}", f"X-CSRFToken: {token}"]
    content_type = rng.choice(CONTENT_TYPES)
    if content_type:
        headers.append(f"Content-Type: {content_type}")
    headers += [f"{name}: {value}" for name, value in random_headers(rng).items()
                if name != "Cookie"]
    framing = rng.random()
    if framing < 0.45:
        headers.append(f"Content-Length: {len(body)}")
        payload = body
    elif framing < 0.6:  # a length that does not match the body
        headers.append(f"Content-Length: {max(0, len(body) + rng.randint(-5, 5))}")
        payload = body
    else:
        headers.append("Transfer-Encoding: chunked")
        payload = chunked(body, size=rng.randint(1, 64))
        if framing < 0.85:
            payload = mutate(rng, payload, rng.randint(1, 3))
    head = "\r\n".join([f"{method} {path} HTTP/1.1", *headers]).encode("latin-1", "replace")
    request = head + b"\r\n\r\n" + payload
    if rng.random() < 0.15:  # the request line and headers themselves
        cut = request.index(b"\r\n\r\n")
        request = mutate(rng, request[:cut], rng.randint(1, 3)) + request[cut:]
    return request


def test_fuzzed_raw_requests_through_gunicorn(site: Gunicorn) -> None:
    rng = random.Random(SEED + 1)
    session = new_session(site.port)
    receipts = Receipts(site.database)
    statuses: dict[int, int] = {}
    try:
        for number in range(RAW_REQUESTS):
            data = raw_request(rng, session.cookie, session.token)
            described = f"#{number} {data[:400]!r}"
            before = receipts.count()
            answer = exchange(site.port, data)
            if not answer:  # gunicorn closed the connection without an answer
                statuses[0] = statuses.get(0, 0) + 1
                assert receipts.count() == before, described
                continue
            status = parse_response(answer).status
            statuses[status] = statuses.get(status, 0) + 1
            if status == 501 and b"Unsupported transfer coding" in answer:
                # gunicorn's answer to a mangled Transfer-Encoding, as RFC 9112 section 6.1
                # asks: the protocol's refusal, before the app, not a server failure.
                status = 400
            check(status, before, receipts.count(), described)
    finally:
        receipts.close()
    assert sum(n for s, n in statuses.items() if 0 < s < 400) > 10, statuses
    log = site.error_log.read_text()
    assert "Traceback" not in log and "Error handling request" not in log
