"""Slow clients: with 300 idle or slow connections open against the shipped gunicorn settings
(2 workers x 4 threads), real visitors still get their pages and record decisions. The other
side: stock ``gthread`` with the same threads is taken offline by the same connections (each
slow client holds a thread), which is what website/gunicorn_worker.py fixes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from tests.site.gunicorn_server import new_session, request_bytes, run_gunicorn, send_raw

SLOW = 300
#: Only a bound for the failing side (stock gthread never answers while the slow clients wait).
STARVED_WAIT_S = 3


@contextmanager
def slow_clients(port: int, count: int = SLOW) -> Iterator[list[socket.socket]]:
    """``count`` connections: a third idle, a third sent one byte, a third an unfinished head."""
    opened: list[socket.socket] = []
    try:
        for number in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            opened.append(sock)
            kind = number % 3
            if kind == 1:
                sock.sendall(b"G")
            elif kind == 2:
                sock.sendall(b"POST /consent HTTP/1.1\r\nHost: localhost\r\nContent-Length: 40\r\n")
        yield opened
    finally:
        for sock in opened:
            with suppress(OSError):
                sock.close()


def test_hundreds_of_slow_connections_do_not_starve_visitors(tmp_path):
    with run_gunicorn(tmp_path) as server, slow_clients(server.port) as opened:
        assert len(opened) == SLOW
        for _ in range(20):
            page = send_raw(server.port, request_bytes("GET", "/"), timeout=30)
            assert page.status == 200
        assert send_raw(server.port, request_bytes("GET", "/healthz"), timeout=30).status == 200
        for statistics in (True, False, True):
            session = new_session(server.port)
            body = json.dumps({"categories": {"statistics": statistics}}).encode()
            answer = send_raw(server.port, request_bytes(
                "POST", "/consent", session.headers(**{"Content-Type": "application/json"}),
                body), timeout=30)
            assert answer.status == 200, answer.body
        # A body that arrives in two parts, with a pause, is served whole.
        session = new_session(server.port)
        body = json.dumps({"categories": {"statistics": True}}).encode()
        request = request_bytes("POST", "/consent",
                                session.headers(**{"Content-Type": "application/json"}), body)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(request[:-5])
            sock.sendall(request[-5:])
            reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert server.receipt_count() == 4


def test_stock_gthread_is_starved_by_the_same_connections(tmp_path):
    with run_gunicorn(tmp_path, "--worker-class", "gthread") as server, \
            slow_clients(server.port), pytest.raises(TimeoutError):
        send_raw(server.port, request_bytes("GET", "/healthz"), timeout=STARVED_WAIT_S)


def test_a_request_counts_as_arrived_only_when_it_is_whole():
    from website.gunicorn_worker import MAX_HEAD, request_complete

    head = b"POST /consent HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert not request_complete(b"G")
    assert not request_complete(head[:-2])
    assert not request_complete(head + b"abcd")
    assert request_complete(head + b"abcde")
    assert request_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    # What the parser must judge goes to it at once: chunked, 100-continue, conflicting or
    # large lengths, an over-long head.
    assert request_complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert request_complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert request_complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
    assert request_complete(b"POST / HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n")
    assert request_complete(b"GET /" + b"a" * (MAX_HEAD + 1))
