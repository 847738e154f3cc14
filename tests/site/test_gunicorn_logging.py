"""The site's own logs under real gunicorn: no raw address is ever written, neither to the access
log nor to the error log (``Invalid request from ip=...``, raw request lines, tracebacks)."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.config import Config

from tests.logrotate.logdata import FIREFOX
from tests.site.gunicorn_server import Gunicorn, request_bytes, run_gunicorn, send_raw
from website.gunicorn_logging import MaskingFormatter, MaskingLogger

# gunicorn's default (combined) format plus the X-Forwarded-For header, as nginx's "main".
COMBINED_WITH_FORWARDED_FOR = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({x-forwarded-for}i)s"'
)
# Anything that might hold an address: ipaddress decides whether it is one.
_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]{3,}")


def addresses(text: str) -> set[str]:
    """Every IPv4/IPv6 address in ``text``, as ``ipaddress`` (the oracle) parses them; also one
    followed by ``:port`` or by the ``.`` or ``:`` of the sentence around it."""
    found = set()
    for candidate in _CANDIDATE.findall(text):
        for piece in (candidate, candidate.rstrip(".:"), candidate.rsplit(":", 1)[0]):
            with contextlib.suppress(ValueError):
                found.add(str(ipaddress.ip_address(piece)))
    return found


def is_masked(address: str) -> bool:
    """Masked with the default prefixes: IPv4 keeps 24 bits, IPv6 48 (IPv4-mapped: 24)."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    host_bits = 8 if parsed.version == 4 else 80
    return int(parsed) & ((1 << host_bits) - 1) == 0


def test_oracle_finds_raw_and_masked_addresses() -> None:
    text = "ip=127.0.0.1: 'GET /?ip=2001:db8:1:2::3 x' [::ffff:198.51.100.7] 203.0.113.0:443."
    mapped = str(ipaddress.ip_address("::ffff:198.51.100.7"))
    assert addresses(text) >= {"127.0.0.1", "2001:db8:1:2::3", mapped, "203.0.113.0"}
    assert not any(map(is_masked, ("127.0.0.1", "2001:db8:1:2::3", mapped)))
    assert is_masked("203.0.113.0") and is_masked("2001:db8:1::")


def wait_for(path: Path, needle: bytes) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() or needle not in path.read_bytes():
        assert time.monotonic() < deadline, f"{needle!r} never reached {path}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    folder = tmp_path_factory.mktemp("logging")
    with run_gunicorn(
        folder, "--access-logformat", COMBINED_WITH_FORWARDED_FOR, workers=1
    ) as gunicorn:
        yield gunicorn


def test_access_log_is_masked_at_write_time(site: Gunicorn) -> None:
    request = urllib.request.Request(
        f"{site.base}/healthz?ip=203.0.113.77",
        headers={
            "User-Agent": FIREFOX,
            "Referer": "http://198.51.100.23/admin",
            "X-Forwarded-For": "192.0.2.44, 2001:db8:1:2::3",
        },
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    wait_for(site.access_log, b"healthz?ip")
    log = site.access_log.read_text()
    line = [row for row in log.splitlines() if "healthz?ip" in row][-1]
    assert line.startswith("127.0.0.0 - - [")
    assert '"GET /healthz?ip=203.0.113.0 HTTP/1.1"' in line
    assert line.endswith(
        '"http://198.51.100.0/admin" "Firefox 121 / Windows 10 / pc" "192.0.2.0, 2001:db8:1::"'
    )
    for raw in ("203.0.113.77", "198.51.100.23", "127.0.0.1", "192.0.2.44", "Gecko"):
        assert raw not in log


#: Requests gunicorn itself refuses, each logging the client and part of what it sent.
MALFORMED = [
    b"GET /x?ip=203.0.113.77 HTTP/1.1 junk\r\nHost: a\r\n\r\n",
    b"GET /x?ip=2001:db8:1:2::3 HTTP/9.9\r\nHost: a\r\n\r\n",
    b"G@T /x?ip=198.51.100.23 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?ip=[2001:db8:aa:bb::1]\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?ip=::ffff:198.51.100.99 HTTP/1.1\r\nHost: a\r\nX-Forwarded-For 192.0.2.44\r\n\r\n",
    b"GET /203.0.113.78 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
]


def test_error_log_masks_client_and_request_line(site: Gunicorn) -> None:
    for data in MALFORMED:
        assert 400 <= send_raw(site.port, data).status < 500
    # A marker request that gunicorn logs after the others, so all of them are in the file.
    send_raw(site.port, b"M@RKER / HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_for(site.error_log, b"M@RKER")
    log = site.error_log.read_text()
    # Both sides: the lines are there (with the masked client) ...
    assert log.count("Invalid request from ip=127.0.0.0") >= len(MALFORMED)
    assert "X-Forwarded-For 192.0.2.0" in log
    # ... and every address in the whole log is a masked one.
    found = addresses(log)
    assert "127.0.0.0" in found
    assert {a for a in found if not is_masked(a)} == set()
    for raw in ("127.0.0.1", "203.0.113.77", "198.51.100.23", "192.0.2.44", "2001:db8:1:2::3"):
        assert raw not in log


def test_request_data_in_the_access_line_of_a_refused_request_is_masked(site: Gunicorn) -> None:
    data = request_bytes("GET", "/203.0.113.79?via=2001:db8:1:2::9") + b"\x00garbage\r\n\r\n"
    send_raw(site.port, data)
    send_raw(site.port, b"GET /healthz?done HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    wait_for(site.access_log, b"healthz?done")
    log = site.access_log.read_text()
    assert {a for a in addresses(log) if not is_masked(a)} == set()


def test_application_records_reach_the_masked_error_log(tmp_path: Path) -> None:
    """What the site logs itself (Flask's ``Exception on /path``) propagates to the root
    logger, which the masking logger gives the error log's handlers."""
    error_log = tmp_path / "error.log"
    config = Config()
    config.set("errorlog", str(error_log))
    config.set("accesslog", None)
    root = logging.getLogger()
    before = list(root.handlers)
    logger = MaskingLogger(config)
    try:
        assert all(isinstance(h.formatter, MaskingFormatter) for h in logger.error_log.handlers)
        try:
            raise ValueError("client 198.51.100.23 sent /?ip=2001:db8:1:2::3")
        except ValueError:
            logging.getLogger("website").exception("Exception on /203.0.113.77 [POST]")
        logger.setup(config)  # a configuration reload replaces the handlers, none doubled
        logging.getLogger("website").error("after reload from 192.0.2.55")
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
    log = error_log.read_text()
    assert "Exception on /203.0.113.0 [POST]" in log
    assert "ValueError: client 198.51.100.0 sent /?ip=2001:db8:1::" in log  # traceback too
    assert log.count("after reload from 192.0.2.0") == 1
    assert {a for a in addresses(log) if not is_masked(a)} == set()
