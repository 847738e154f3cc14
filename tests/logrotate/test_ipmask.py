"""``mask_ip``: one address literal, golden values and an ``ipaddress`` cross-check."""

from __future__ import annotations

import ipaddress
import random

import pytest

from privacy.ipmask import mask_ip


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("198.51.100.0", "198.51.100.0"),
        ("192.0.2.255", "192.0.2.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
        ("2001:DB8:1:2:3:4:5:6", "2001:db8:1::"),
        ("2001:0db8:0001:0002:0003:0004:0005:0006", "2001:db8:1::"),
        ("2001:db8::1", "2001:db8::"),
        ("[2001:db8:aaaa:bbbb::1]", "2001:db8:aaaa::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:198.51.100.7", "::ffff:198.51.100.0"),
        ("::FFFF:C633:6407", "::ffff:198.51.100.0"),
        ("0:0:0:0:0:ffff:203.0.113.9", "::ffff:203.0.113.0"),
        ("::1", "::"),
        ("::", "::"),
        ("2001:db8:0:1::", "2001:db8::"),
        (" 203.0.113.77 ", "203.0.113.0"),
    ],
)
def test_default_masks(address: str, expected: str) -> None:
    assert mask_ip(address) == expected


@pytest.mark.parametrize(
    ("address", "v4", "v6", "expected"),
    [
        ("203.0.113.77", 16, 48, "203.0.0.0"),
        ("203.0.113.77", 8, 48, "203.0.0.0"),
        ("203.0.113.77", 32, 48, "203.0.113.77"),
        ("203.0.113.77", 0, 48, "0.0.0.0"),
        ("203.0.113.77", 20, 48, "203.0.112.0"),
        ("2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::"),
        ("2001:db8:1:2ab:3:4:5:6", 24, 56, "2001:db8:1:200::"),
        ("2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6"),
        ("::ffff:198.51.100.7", 16, 48, "::ffff:198.51.0.0"),
    ],
)
def test_configurable_prefixes(address: str, v4: int, v6: int, expected: str) -> None:
    assert mask_ip(address, v4, v6) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.2.3",
        "1.2.3.256",
        "1.2.3.4.5",
        "a.b.c.d",
        "Chrome/120",
        "12:34:56",
        "1:::2",
        "1::2::3",
        "g::1",
        "1:2:3:4:5:6:7:8:9",
        "12345::",
        "::ffff:1.2.3",
        "example.com",
    ],
)
def test_not_an_address(text: str) -> None:
    with pytest.raises(ValueError):
        mask_ip(text)


@pytest.mark.parametrize(("v4", "v6"), [(33, 48), (-1, 48), (24, 129)])
def test_bad_prefix(v4: int, v6: int) -> None:
    with pytest.raises(ValueError):
        mask_ip("192.0.2.1", v4, v6)


def test_agrees_with_ipaddress() -> None:
    """Random addresses in every textual form give the network address ``ipaddress`` gives."""
    rng = random.Random(7)
    for number in range(3000):
        value = rng.getrandbits(128)
        if number % 3 == 0:
            value &= ~(((1 << 64) - 1) << 16)  # long zero runs
        address = ipaddress.IPv6Address(value)
        prefix = rng.choice([16, 32, 48, 56, 64, 100])
        expected = ipaddress.IPv6Network((value, prefix), strict=False).network_address
        for text in (str(address), address.exploded, address.exploded.upper()):
            if value >> 32 == 0xFFFF:
                continue
            assert mask_ip(text, 24, prefix) == str(expected)
        v4 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        v4_prefix = rng.randrange(0, 33)
        expected_v4 = ipaddress.IPv4Network((int(v4), v4_prefix), strict=False).network_address
        assert mask_ip(str(v4), v4_prefix) == str(expected_v4)
