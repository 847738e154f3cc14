"""Real gunicorn for the tests: started from the shipped ``gunicorn.conf.py`` on a free loopback
port, and spoken to with raw bytes over a socket (so malformed requests arrive as sent)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def http_status(url: str, timeout: float = 10) -> int:
    """The status a GET of ``url`` answers; 0 when nothing answers (refused, reset)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Gunicorn:
    """A running gunicorn: where it listens and the files it writes."""

    host: str
    port: int
    folder: Path
    database_url: str
    access_log: Path
    error_log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def receipt_count(self) -> int:
        """Receipts in the SQLite file, read through a read-only connection."""
        return count_receipts(self.database)


def count_receipts(database: Path) -> int:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM receipts").fetchone()[0]
    finally:
        connection.close()


@contextmanager
def run_gunicorn(
    folder: Path,
    *args: str,
    workers: int = 2,
    database_url: str | None = None,
    migrate: bool = True,
    **env: str,
) -> Iterator[Gunicorn]:
    """Migrate (the deploy step, ``flask db upgrade``), start gunicorn with the shipped config
    (plus ``args``), wait until ``/healthz`` answers, and stop it afterwards. Both logs go to
    files in ``folder``; the database is a SQLite file there unless ``database_url`` says."""
    port = free_port()
    server = Gunicorn(
        host="127.0.0.1",
        port=port,
        folder=folder,
        database_url=database_url or f"sqlite:///{folder / 'receipts.db'}",
        access_log=folder / "access.log",
        error_log=folder / "error.log",
    )
    environment = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": server.database_url,
        "SECRET_KEY": "gunicorn-test-key",
        "ACCESS_LOG": str(server.access_log),
        "ERROR_LOG": str(server.error_log),
        **env,
    }
    if migrate:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env=environment, check=True, capture_output=True)
    output = open(folder / "gunicorn.out", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "wsgi:app"],
        cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    logs = [(folder / name) for name in ("gunicorn.out", "error.log")]
                    pytest.fail("\n".join(p.read_text() for p in logs if p.exists()))
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        output.close()


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def send_raw(port: int, data: bytes, timeout: float = 10) -> RawResponse:
    """Send ``data`` as it is and read the answer until the server closes the connection."""
    return parse_response(exchange(port, data, timeout))


def exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` as it is; the raw bytes of the answer (empty if there was none).

    The bytes go out from a second thread while this one reads, so a server that answers
    before reading a large body (413) is heard rather than deadlocked on a full socket buffer.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send() -> None:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before taking all of it

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    chunks = []
    try:
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sender.join(timeout)
        sock.close()
    return b"".join(chunks)


def parse_response(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert match, f"no HTTP status line in {raw[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(match.group(1)), headers, body, raw)


def request_bytes(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    host: str | None = "localhost",
    content_length: bool = True,
) -> bytes:
    """One HTTP/1.1 request as bytes, with ``Connection: close``."""
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines.append("Connection: close")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if content_length and (body or method == "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 4096) -> bytes:
    """``body`` in chunked transfer coding (well-formed)."""
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


@dataclass(frozen=True)
class Session:
    """A visitor's CSRF session: the cookie and the token a page handed out."""

    cookie: str
    token: str

    def headers(self, **more: str) -> dict[str, str]:
        return {"Cookie": self.cookie, "X-CSRFToken": self.token, **more}


def new_session(port: int) -> Session:
    page = send_raw(port, request_bytes("GET", "/"))
    assert page.status == 200
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page.body)
    cookie = re.search(r"(session=[^;]+)", page.header("Set-Cookie") or "")
    assert token and cookie
    return Session(cookie.group(1), token.group(1).decode())
