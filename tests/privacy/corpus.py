"""A generated corpus of log lines for the differential test (C core == Python reference).

Deterministic for a seed. Every format the log job knows (combined, nginx error, Apache
error, HAProxy, JSON from nginx/Caddy/Traefik/Cloudflare, ALB, IIS, syslog with RFC 5424
structured data, Postfix/Exim) and every tricky class from docs/log-masking.md, with random
documentation-range and random public-looking addresses in every spelling, plus random
"soup" built from the pieces the rules look at. Only generated, never stored.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator

_SOUP = [
    ":",
    "::",
    ".",
    "%3A",
    "%3a",
    "%2F",
    "%20",
    "%5B",
    "%5D",
    "%",
    "\\",
    "\\x22",
    "\\u0022",
    "/",
    "\\/",
    "-",
    "=",
    '"',
    " ",
    "version",
    'swVersion="',
    "1",
    "12",
    "255",
    "256",
    "0",
    "00",
    "000",
    "ffff",
    "db8",
    "2001",
    "abcd",
    "12345",
    "g",
    "x",
    "u",
    "z",
    "-beta",
    "_",
    "\x00",
    "Chrome/",
    "+",
    "[",
    "]",
    "\n",
    "ip=",
]


def _make_v4(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randrange(256)}"
    return str(ipaddress.IPv4Address(rng.getrandbits(32)))


def _make_v6(rng: random.Random) -> str:
    value = rng.getrandbits(128)
    shape = rng.randrange(6)
    if shape == 0:
        value = 0x20010DB8 << 96 | rng.getrandbits(64)
    elif shape == 1:
        value &= ~(((1 << 64) - 1) << 16)
    elif shape == 2:
        value = 0xFFFF << 32 | rng.getrandbits(32)
    elif shape == 3:
        value = 0x64FF9B << 96 | rng.getrandbits(32)
    address = ipaddress.IPv6Address(value)
    form = rng.randrange(5)
    if form == 0:
        return address.exploded
    if form == 1:
        return str(address).upper()
    if form == 2 and shape != 2:
        head = address.exploded.rsplit(":", 2)[0]
        return f"{head}:{ipaddress.IPv4Address(value & 0xFFFFFFFF)}"
    return str(address)


# Addresses come from pools (made with ipaddress once): building each one anew would cost more
# than masking it.
_POOL_RNG = random.Random(99)
_POOL_V4 = [_make_v4(_POOL_RNG) for _ in range(5000)]
_POOL_V6 = [_make_v6(_POOL_RNG) for _ in range(20000)]
_POOL_V6_FULL = [ipaddress.IPv6Address(_POOL_RNG.getrandbits(128)).exploded for _ in range(2000)]


def _v4(rng: random.Random) -> str:
    return rng.choice(_POOL_V4)


def _v6(rng: random.Random) -> str:
    return rng.choice(_POOL_V6)


def _address(rng: random.Random) -> str:
    return _v6(rng) if rng.random() < 0.45 else _v4(rng)


def _line(rng: random.Random) -> str:
    a, b, c = _address(rng), _address(rng), _v6(rng)
    port = rng.choice(["80", "443", "8080", "54321", "58340", "1"])
    kind = rng.randrange(20)
    if kind == 0:
        return (
            f'{a} - - [24/Nov/2026:10:00:00 +0000] "GET /lookup/{b}?next=x/{_v4(rng)} HTTP/1.1" '
            f'200 {rng.randrange(99999)} "http://{_v4(rng)}:{port}/" '
            f'"Mozilla/5.0 (Windows NT 10.0) Chrome/120.0.0.0 baiduboxapp/13.10.0.10"'
        )
    if kind == 1:
        return f"2026/11/24 10:00:00 [error] 1#1: *5 connect() failed, client: {a}, server: x"
    if kind == 2:
        return f"[core:error] [pid 7] [client {c}:{port}] AH00126: Invalid URI {c}: Name"
    if kind == 3:
        return f"haproxy[1]: {c}:{port} [24/Nov/2026:10:00:00.123] fe be/s1 0/0/1/2/3 200"
    if kind == 4:
        return (
            f'{{"remote_addr":"{a}","xff":"{b}, {c}","request":"GET /?ip={a} HTTP/1.1",'
            f'"http_user_agent":"Mozilla\\/5.0 Firefox\\/121.0",'
            f'"body":"{{\\x22ip\\x22:\\x22{b}\\x22}}"}}'
        )
    if kind == 5:
        return f'{{"request":{{"remote_ip":"{a}","headers":{{"User-Agent":["curl/8.4.0"]}}}}}}'
    if kind == 6:
        return f'{{"ClientIP":"{c}","ClientRequestUserAgent":"Wget/1.21","request_User-Agent":"x"}}'
    if kind == 7:
        return (
            f"https 2026-11-24T10:00:00.000000Z app/lb/1 {a}:{port} {_v4(rng)}:80 0.1 0.2 0.0 "
            f'200 200 34 366 "GET https://{b}:443/ HTTP/1.1" "curl/8.4.0" ECDHE TLSv1.2'
        )
    if kind == 8:
        return (
            f"2026-11-24 10:00:00 {_v4(rng)} GET / - 443 - {a} "
            "Mozilla/5.0+(X11)+baiduboxapp/13.10.0.10 - 200"
        )
    if kind == 9:
        return (
            f'<34>1 2026-11-24T10:00:00Z host app - ID47 [origin ip="{a}" swVersion="9.6.1.2"] '
            f"from {b}. Next"
        )
    if kind == 10:
        return f"postfix/smtpd[1]: connect from unknown[{c}] helo=<[IPv6:{c}]> addr:{c}"
    if kind == 11:
        escaped = c.replace(":", rng.choice(["%3A", "%3a"]))
        return f"GET /?a=%2F{c}&b=%20{a}&c=%3D{b}&d=%5B{c}%5D&e={escaped}&f=%3D::ffff:{_v4(rng)}"
    if kind == 12:
        return f"for=\\x22{_v4(rng)}:{port}\\x22 tool-1.2.3.4.tar.gz 1.2.3.4-beta 1.000.000.000"
    if kind == 13:
        full = rng.choice(_POOL_V6_FULL)
        return f"mac 00:02:b3:01:23:45:67:89 eui {c}:{port} full {full}:{port}"
    if kind == 14:
        return f"seen from {c}. Next: {a}: Name or service not known {b}."
    if kind in (15, 16, 17):
        return "".join(rng.choice(_SOUP + [a, b, c]) for _ in range(rng.randrange(1, 40)))
    if kind == 18:
        return f"{a}{rng.choice(_SOUP)}{b}{rng.choice(_SOUP)}{c}{rng.choice(_SOUP)}{port}"
    soup = rng.choice(_SOUP)
    return f'{a} - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "{soup}{b}"'


def lines(count: int, seed: int = 5) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield _line(rng)
