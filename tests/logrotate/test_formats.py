"""User agents in the formats people run, JSON escapes, NUL bytes, ``--keep-user-agent``.

Each format: the user agent is reduced, every address is masked, other fields are kept.
"""

from __future__ import annotations

import json

import pytest

from logrotate.lines import LogMasker
from tests.logrotate.logdata import CHROME, FIREFOX, combined_line

FIREFOX_REDUCED = "Firefox 121 / Windows 10 / pc"
CHROME_REDUCED = "Chrome 120 / Windows 10 / pc"


def process(text: str, **options: bool) -> str:
    return LogMasker(**options).process(text.encode()).decode()


def json_line(key: str, agent: str = FIREFOX) -> str:
    return json.dumps({"remote_addr": "198.51.100.77", key: agent}) + "\n"


@pytest.mark.parametrize(
    "key",
    [
        "user_agent",
        "http_user_agent",
        "ua",
        "User-Agent",
        "userAgent",
        "useragent",
        "user_agent.original",
        "request_User-Agent",  # Traefik
        "ClientRequestUserAgent",  # Cloudflare Logpush
    ],
)
def test_json_keys(key: str) -> None:
    out = process(json_line(key))
    assert json.loads(out) == {"remote_addr": "198.51.100.0", key: FIREFOX_REDUCED}


def test_json_escaped_slashes_are_decoded_before_parsing() -> None:
    """``json.dumps`` style escapes: ``Mozilla\\/5.0 ... Firefox\\/121.0`` is still Firefox."""
    line = '{"ua":"' + FIREFOX.replace("/", "\\/") + '","ip":"203.0.113.9"}\n'
    assert process(line) == '{"ua":"' + FIREFOX_REDUCED + '","ip":"203.0.113.0"}\n'
    line = '{"ua":"' + FIREFOX.replace("F", "\\u0046") + '"}\n'
    assert process(line) == '{"ua":"' + FIREFOX_REDUCED + '"}\n'


def test_caddy_header_array_and_ecs_object() -> None:
    caddy = {
        "level": "info",
        "request": {"remote_ip": "2001:db8:1:2::7", "headers": {"User-Agent": [FIREFOX]}},
    }
    out = json.loads(process(json.dumps(caddy) + "\n"))
    assert out["request"] == {
        "remote_ip": "2001:db8:1::",
        "headers": {"User-Agent": [FIREFOX_REDUCED]},
    }
    ecs = {"source": {"ip": "192.0.2.5"}, "user_agent": {"original": CHROME}}
    out = json.loads(process(json.dumps(ecs) + "\n"))
    assert out == {"source": {"ip": "192.0.2.0"}, "user_agent": {"original": CHROME_REDUCED}}


def test_aws_alb() -> None:
    line = (
        "https 2026-11-24T10:00:00.123456Z app/my-lb/50dc6c495c0c9188 203.0.113.9:54321 "
        "192.0.2.1:80 0.000 0.001 0.000 200 200 34 366 "
        '"GET https://www.example.com:443/ HTTP/1.1" "' + FIREFOX + '" '
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2\n"
    )
    out = process(line)
    assert out == (
        line.replace("203.0.113.9", "203.0.113.0")
        .replace("192.0.2.1", "192.0.2.0")
        .replace(FIREFOX, FIREFOX_REDUCED)
    )


def test_iis_w3c_with_plus_for_spaces() -> None:
    header = (
        "#Software: Microsoft Internet Information Services 10.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        "cs(User-Agent) cs(Referer) sc-status\n"
    )
    agent = FIREFOX.replace(" ", "+")
    line = f"2026-11-24 10:00:00 192.0.2.1 GET / - 443 - 203.0.113.9 {agent} - 200\n"
    out = process(header + line)
    assert out == header + (
        "2026-11-24 10:00:00 192.0.2.0 GET / - 443 - 203.0.113.0 "
        + FIREFOX_REDUCED.replace(" ", "+")
        + " - 200\n"
    )
    # the version rule holds in the kept field: +baiduboxapp/13.10.0.10 is not an address
    kept = "Mozilla/5.0+(Linux;+Android+10)+baiduboxapp/13.10.0.10"
    keep = process(header + line.replace(agent, kept), keep_user_agent=True)
    assert keep.endswith(f"203.0.113.0 {kept} - 200\n")
    # a later block still knows the columns; a line of another layout is only masked
    masker = LogMasker()
    masker.process(header.encode())
    assert masker.process(line.encode()).decode().count("+/+") == 2
    other = b"2026-11-24 10:00:00 not a W3C line 203.0.113.9\n"
    assert masker.process(other) == other.replace(b"203.0.113.9", b"203.0.113.0")


def test_nul_byte_affects_only_its_own_line() -> None:
    good = combined_line("203.0.113.9", agent=FIREFOX)
    bad = combined_line("198.51.100.7", "/a\x00b", agent=CHROME)
    out = process(good * 100 + bad + good * 100)
    lines = out.splitlines(keepends=True)
    assert len(lines) == 201
    assert all(FIREFOX_REDUCED in line and "203.0.113.0" in line for line in lines[:100])
    assert all(FIREFOX_REDUCED in line for line in lines[101:])
    assert CHROME_REDUCED in lines[100] and "198.51.100.0" in lines[100]
    assert "\x00" in lines[100]


def test_keep_user_agent_masks_addresses_but_not_versions() -> None:
    agent = "Mozilla/5.0 (X11) baiduboxapp/13.10.0.10 (+http://203.0.113.50/bot)"
    line = combined_line("203.0.113.9", "/lookup/198.51.100.5", agent=agent)
    out = process(line, keep_user_agent=True)
    assert "baiduboxapp/13.10.0.10" in out
    assert "http://203.0.113.0/bot" in out
    assert "/lookup/198.51.100.0" in out
    assert out.startswith("203.0.113.0 ")


def test_reduced_fields_are_left_alone() -> None:
    once = process(combined_line("192.0.2.9", agent=FIREFOX) + json_line("userAgent", CHROME))
    assert process(once) == once
