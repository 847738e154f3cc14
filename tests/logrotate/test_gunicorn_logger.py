"""The site's own access log under real gunicorn: no raw address is ever written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.logrotate.conftest import ROOT
from tests.logrotate.logdata import FIREFOX

# gunicorn's default (combined) format plus the X-Forwarded-For header, as nginx's "main".
COMBINED_WITH_FORWARDED_FOR = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({x-forwarded-for}i)s"'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_access_log_is_masked_at_write_time(tmp_path: Path) -> None:
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "ACCESS_LOG": str(access_log),
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'receipts.db'}",
        "SECRET_KEY": "logrotate-test",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--access-logformat",
            COMBINED_WITH_FORWARDED_FOR,
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz?ip=203.0.113.77",
            headers={
                "User-Agent": FIREFOX,
                "Referer": "http://198.51.100.23/admin",
                "X-Forwarded-For": "192.0.2.44, 2001:db8:1:2::3",
            },
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        while not access_log.exists() or b"healthz" not in access_log.read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=20)
    line = [row for row in access_log.read_text().splitlines() if "healthz" in row][-1]
    assert line.startswith("127.0.0.0 - - [")
    assert '"GET /healthz?ip=203.0.113.0 HTTP/1.1"' in line
    assert line.endswith(
        '"http://198.51.100.0/admin" "Firefox 121 / Windows 10 / pc" "192.0.2.0, 2001:db8:1::"'
    )
    for raw in ("203.0.113.77", "198.51.100.23", "127.0.0.1", "192.0.2.44", "Gecko"):
        assert raw not in access_log.read_text()
