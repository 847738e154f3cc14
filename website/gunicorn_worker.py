"""gunicorn's threaded worker, with one change: a thread is given a connection only once its whole
request (head, and a body of known, small length) has arrived.

Stock ``gthread`` hands each readable connection to a thread, which then reads the request with
blocking ``recv`` calls: a client that sends one byte and stops holds that thread for as long
as it likes, so as many slow clients as there are threads (2 workers x 4 threads = 8) take the
site offline. Here the worker reads whatever bytes are there without blocking, keeps them with
the connection, and returns the connection to the worker's poller (gunicorn's own "pending
connections", which cost no thread) until the request is complete; only then does a thread
parse and serve it, from memory. A request must arrive within :data:`REQUEST_TIMEOUT` seconds,
and a connection that sends nothing is closed after gunicorn's ``keepalive`` seconds.

Anything this cannot judge (TLS in gunicorn, HTTP/2 prior knowledge, chunked or large bodies,
an over-long head) goes to the stock code path unchanged; gunicorn's parser still does all the
HTTP parsing and limit checks. No extra dependency: it is gunicorn's ``ThreadWorker``.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

from gunicorn.http2 import negotiation
from gunicorn.workers import gthread

#: Seconds from a request's first byte until it must be complete (nginx: client_header_timeout).
REQUEST_TIMEOUT = 10.0
#: Bodies up to this size are buffered before a thread is used (the app refuses > 16 KiB).
BUFFERED_BODY = 64 * 1024
#: A head longer than this goes to gunicorn's parser, which refuses it (limit_request_*).
MAX_HEAD = 64 * 1024

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*(?=\r\n)", re.I)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.I)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:", re.I)


def request_complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole request (or enough for gunicorn's parser to decide)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) > MAX_HEAD
    head = b"\r\n" + data[:end] + b"\r\n"
    if _TRANSFER_ENCODING.search(head) or _EXPECT.search(head):
        return True  # chunked, or waiting for "100 Continue": the parser reads the body
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1:
        return True  # no body, or conflicting lengths (the parser refuses them)
    length = int(lengths[0])
    return length > BUFFERED_BODY or len(data) >= end + 4 + length


class HeadFirstThreadWorker(gthread.ThreadWorker):
    """``gthread`` that serves a connection only once its request has fully arrived."""

    def handle(self, conn: Any) -> Any:
        if self.cfg.is_ssl or negotiation.prior_knowledge_allowed(self.cfg, conn.client):
            return super().handle(conn)
        pending: bytearray = getattr(conn, "pending_request", None) or bytearray()
        if conn.parser is not None:  # a kept-alive connection: bytes read ahead come first
            pending[:0] = conn.parser.unreader.buf.getvalue()
            conn.parser.unreader.buf = io.BytesIO()
        closed = False
        conn.sock.setblocking(False)
        try:
            while not request_complete(bytes(pending)):
                chunk = conn.sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                pending += chunk
        except BlockingIOError:
            pass
        except OSError:
            return False
        if not closed and not request_complete(bytes(pending)):
            started = getattr(conn, "request_started", None)
            now = time.monotonic()
            if pending and started is None:
                conn.request_started = started = now
            if started is not None and now - started > REQUEST_TIMEOUT:
                return False  # too slow: close (gunicorn's main loop does it)
            conn.pending_request = pending  # wait in the poller, not in a thread
            return gthread._DEFER
        conn.pending_request = None
        conn.request_started = None
        conn.data_ready = True
        conn.init()
        conn.parser.unreader.unread(bytes(pending))
        return super().handle(conn)
