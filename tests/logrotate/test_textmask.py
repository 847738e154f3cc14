"""Addresses inside log text: every form is masked, look-alikes are not touched."""

from __future__ import annotations

import pytest

from privacy.ipmask import TextMasker


def mask(text: str, **prefixes: int) -> str:
    return TextMasker(**prefixes).mask(text.encode()).decode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # client column, IPv4 and IPv6
        (
            "203.0.113.77 - - [24/Nov/2026:10:00:00 +0000]",
            "203.0.113.0 - - [24/Nov/2026:10:00:00 +0000]",
        ),
        ("2001:db8:1:2:3:4:5:6 - -", "2001:db8:1:: - -"),
        # X-Forwarded-For list
        ('"203.0.113.5, 198.51.100.17, 2001:db8::7"', '"203.0.113.0, 198.51.100.0, 2001:db8::"'),
        # request URL and query string, referrer
        (
            '"GET /lookup/192.0.2.33?ip=203.0.113.9&via=2001:db8:5::1 HTTP/1.1"',
            '"GET /lookup/192.0.2.0?ip=203.0.113.0&via=2001:db8:5:: HTTP/1.1"',
        ),
        ('"http://198.51.100.20:8080/admin"', '"http://198.51.100.0:8080/admin"'),
        ('"https://[2001:db8:a:b::1]:8443/x"', '"https://[2001:db8:a::]:8443/x"'),
        # URL-encoded
        ("next=http%3A%2F%2F192.0.2.200%2F", "next=http%3A%2F%2F192.0.2.0%2F"),
        # JSON values
        (
            '{"remote_addr":"203.0.113.250","xff":"2001:DB8:0:0:1::2"}',
            '{"remote_addr":"203.0.113.0","xff":"2001:db8::"}',
        ),
        # Apache and nginx error logs
        (
            "[client 192.0.2.44:5678] AH01630: client denied",
            "[client 192.0.2.0:5678] AH01630: client denied",
        ),
        (
            "*1 open() failed, client: 198.51.100.9, server: example.org",
            "*1 open() failed, client: 198.51.100.0, server: example.org",
        ),
        # ports and brackets
        ("203.0.113.77:443", "203.0.113.0:443"),
        ("[2001:db8::1]:443", "[2001:db8::]:443"),
        # full and compressed forms, mixed case
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::"),
        ("2001:Db8:AbCd:1::2", "2001:db8:abcd::"),
        # IPv4-mapped IPv6 keeps its form and is masked as IPv4
        ("::ffff:198.51.100.7", "::ffff:198.51.100.0"),
        ("[::FFFF:203.0.113.8]:80", "[::ffff:203.0.113.0]:80"),
        # loopback and zone ids
        ("::1", "::"),
        ("fe80::abcd:1%eth0", "fe80::%eth0"),
        # an address at the end of a sentence
        ("denied for 192.0.2.10.", "denied for 192.0.2.0."),
    ],
)
def test_addresses_are_masked(line: str, expected: str) -> None:
    assert mask(line) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36",
        "Edg/120.0.2210.91 OPR/106.0.4998.70",
        "[24/Nov/2026:12:34:56 +0000]",
        "12:34:56",
        "2026-11-24T12:34:56.123+01:00",
        '"GET /v1.2.3.4/ HTTP/1.1" 200 123456',
        "/downloads/tool-1.2.3.tar.gz version 1.2.3 build 10.20.30.400",
        "1.2.3.4.5 and 1.2.3.4.5.6",
        "mac 00:1a:2b:3c:4d:5e",
        "std::vector",
        "bytes=1000-2000 took 0.123s",
        "256.1.1.1 and 1.2.3.256",
    ],
)
def test_look_alikes_are_untouched(text: str) -> None:
    assert mask(text) == text


def test_version_rule_needs_a_user_agent_field() -> None:
    """A quad after ``Product/`` is a version only inside a user-agent field (``versions``);
    anywhere else, and after a path segment or ``//`` even there, it is an address."""
    masker = TextMasker()
    assert masker.mask(b"(compatible; Foo/1.2.3.4; +https://example.org)", versions=True) == (
        b"(compatible; Foo/1.2.3.4; +https://example.org)"
    )
    assert masker.mask(b'"Foo/192.0.2.9"', versions=True) == b'"Foo/192.0.2.9"'
    assert mask("Foo/192.0.2.9") == "Foo/192.0.2.0"
    assert mask('"host/192.0.2.9"') == '"host/192.0.2.0"'
    assert mask("GET /whois/192.0.2.9 HTTP/1.1") == "GET /whois/192.0.2.0 HTTP/1.1"
    assert masker.mask(b"+http://192.0.2.9/", versions=True) == b"+http://192.0.2.0/"


def test_prefixes() -> None:
    assert mask("203.0.113.77 2001:db8:1:2:3:4:5:6", ipv4_prefix=16, ipv6_prefix=64) == (
        "203.0.0.0 2001:db8:1:2::"
    )
    assert mask("::ffff:203.0.113.77", ipv4_prefix=16) == "::ffff:203.0.0.0"
    with pytest.raises(ValueError):
        TextMasker(ipv4_prefix=4)


def test_idempotent_and_counts() -> None:
    masker = TextMasker()
    once = masker.mask(b"203.0.113.77 2001:db8:1:2::5 ::ffff:198.51.100.7 Chrome/120.0.0.0")
    assert masker.masked == 3
    assert masker.mask(once) == once
    assert masker.masked == 3


def test_bytes_that_are_not_utf8_pass_through() -> None:
    raw = b"\xff\xfe 203.0.113.77 \xc3\x28 caf\xe9 \x00\x01"
    assert TextMasker().mask(raw) == b"\xff\xfe 203.0.113.0 \xc3\x28 caf\xe9 \x00\x01"


def test_find_unmasked() -> None:
    masker = TextMasker()
    line = b"203.0.113.77 ::ffff:198.51.100.7 192.0.2.0 Chrome/120.0.0.1 2001:db8::1"
    assert masker.find_unmasked(line) == [
        "203.0.113.77",
        "::ffff:198.51.100.7",
        "120.0.0.1",
        "2001:db8::1",
    ]
    assert masker.find_unmasked(line, versions=True) == [
        "203.0.113.77",
        "::ffff:198.51.100.7",
        "2001:db8::1",
    ]
    assert masker.find_unmasked(masker.mask(line)) == []


def test_already_masked_ipv6_in_any_spelling_is_not_reported() -> None:
    masker = TextMasker()
    for text in (b"ABCD:EF01:2345::", b"2001:0DB8:0001::", b"2001:db8:1:0:0:0:0:0", b"0:0:1::"):
        assert masker.find_unmasked(b" " + text + b" ") == []
        assert masker.mask(text) == text
    assert masker.mask(b"ABCD:EF01:2345:6789::1") == b"abcd:ef01:2345::"  # RFC 5952
    assert masker.find_unmasked(b"ABCD:EF01:2345:6789::1") == ["ABCD:EF01:2345:6789::1"]


def test_random_addresses_in_text_agree_with_ipaddress() -> None:
    """Every textual form of random addresses, inside a line, masks to the right network."""
    import ipaddress
    import random

    rng = random.Random(11)
    masker = TextMasker()
    for number in range(4000):
        value = rng.getrandbits(128)
        if number % 4 == 0:
            value &= ~(((1 << 48) - 1) << 32)  # zero runs in the middle
        if number % 7 == 0:
            value = 0xFFFF << 32 | rng.getrandbits(32)  # IPv4-mapped
        if number % 11 == 0:
            value &= ~(0xFFFF << 112)  # first group zero
        address = ipaddress.IPv6Address(value)
        if value >> 32 == 0xFFFF:
            expected = 0xFFFF << 32 | (value & 0xFFFFFF00)
        else:
            expected = int(ipaddress.IPv6Network((value, 48), strict=False).network_address)
        for text in (str(address), address.exploded, address.exploded.upper()):
            line = f'x [{text}]:443 "{text}" ip={text}&'.encode()
            out = masker.mask(line).decode()
            found = [part.split("]")[0] for part in out.split("[")[1:]]
            found += [out.split('"')[1], out.split("ip=")[1].rstrip("&")]
            assert all(int(ipaddress.IPv6Address(item)) == expected for item in found), (line, out)
        v4 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        out = masker.mask(f"client {v4}:80 x".encode()).decode()
        assert out == f"client {ipaddress.IPv4Address(int(v4) & 0xFFFFFF00)}:80 x"
