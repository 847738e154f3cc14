"""IP address truncation: one address (``mask_ip``) and every address in a text (``TextMasker``).

Both use the same rules, implemented with string and integer arithmetic only (no
``ipaddress`` objects; they dominate the run time of other anonymisers):

* IPv4 keeps the first ``ipv4_prefix`` bits (default 24: ``203.0.113.77`` -> ``203.0.113.0``).
* IPv6 keeps the first ``ipv6_prefix`` bits (default 48) and is written in RFC 5952 form
  (lower case, longest zero run compressed): ``2001:db8:1:2:3:4:5:6`` -> ``2001:db8:1::``.
* IPv4-mapped IPv6 (``::ffff:a.b.c.d``) is the IPv4 client behind a dual-stack socket, so it is
  masked with the IPv4 rule and keeps its form: ``::ffff:198.51.100.7`` -> ``::ffff:198.51.100.0``.

``TextMasker`` finds and masks every address inside a text, by the rules written down in
docs/log-masking.md. Its core is compiled (``privacy._core``) when the C extension was built
and pure Python (``privacy._pycore``, the reference) otherwise; ``CORE`` names the one in use.
Set ``PRIVACY_CORE=python`` to force the reference.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from . import _pycore

__all__ = ["CORE", "CORES", "DEFAULT_IPV4_PREFIX", "DEFAULT_IPV6_PREFIX", "TextMasker", "mask_ip"]

DEFAULT_IPV4_PREFIX = 24
DEFAULT_IPV6_PREFIX = 48

_HEX = frozenset("0123456789abcdef")
_MAPPED_PREFIX = 0xFFFF  # ::ffff:0:0/96, value of the address shifted right by 32 bits


def _check_prefixes(ipv4_prefix: int, ipv6_prefix: int) -> None:
    if not 0 <= ipv4_prefix <= 32:
        raise ValueError(f"IPv4 prefix must be 0..32, got {ipv4_prefix}")
    if not 0 <= ipv6_prefix <= 128:
        raise ValueError(f"IPv6 prefix must be 0..128, got {ipv6_prefix}")


def _parse_ipv4(text: str) -> int:
    """Dotted quad -> int. Octets are decimal 0-255 (leading zeros are read as decimal)."""
    parts = text.split(".")
    if len(parts) != 4:
        raise ValueError(f"not an IPv4 address: {text!r}")
    value = 0
    for part in parts:
        if not (1 <= len(part) <= 3 and part.isascii() and part.isdigit()):
            raise ValueError(f"not an IPv4 address: {text!r}")
        octet = int(part)
        if octet > 255:
            raise ValueError(f"not an IPv4 address: {text!r}")
        value = value << 8 | octet
    return value


def _format_ipv4(value: int) -> str:
    return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def _parse_groups(text: str, original: str) -> list[int]:
    if not text:
        return []
    groups = []
    for group in text.split(":"):
        if not 1 <= len(group) <= 4 or not _HEX.issuperset(group):
            raise ValueError(f"not an IPv6 address: {original!r}")
        groups.append(int(group, 16))
    return groups


def _parse_ipv6(text: str) -> int:
    """IPv6 text (any case, compressed or full, optional trailing dotted quad) -> int."""
    original = text
    text = text.lower()
    if "." in text:
        # Trailing dotted quad (``::ffff:1.2.3.4``): rewrite it as two hex groups.
        head, _, quad = text.rpartition(":")
        v4 = _parse_ipv4(quad)
        text = f"{head}:{v4 >> 16:x}:{v4 & 0xFFFF:x}"
    if text.count("::") > 1 or ":::" in text:
        raise ValueError(f"not an IPv6 address: {original!r}")
    if "::" in text:
        left, _, right = text.partition("::")
        high = _parse_groups(left, original)
        low = _parse_groups(right, original)
        if len(high) + len(low) > 7:
            raise ValueError(f"not an IPv6 address: {original!r}")
        groups = high + [0] * (8 - len(high) - len(low)) + low
    else:
        groups = _parse_groups(text, original)
        if len(groups) != 8:
            raise ValueError(f"not an IPv6 address: {original!r}")
    value = 0
    for group in groups:
        value = value << 16 | group
    return value


def _format_ipv6(value: int) -> str:
    """RFC 5952 text: lower case, the longest run (>= 2) of zero groups becomes ``::``."""
    if value >> 32 == _MAPPED_PREFIX:
        return "::ffff:" + _format_ipv4(value & 0xFFFFFFFF)
    groups = [value >> shift & 0xFFFF for shift in range(112, -1, -16)]
    best_start, best_len, start = -1, 1, -1
    for index, group in enumerate(groups + [1]):
        if group == 0:
            if start < 0:
                start = index
        elif start >= 0:
            if index - start > best_len:
                best_start, best_len = start, index - start
            start = -1
    hexes = [f"{group:x}" for group in groups]
    if best_start < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_len :])


def _mask_ipv4_value(value: int, prefix: int) -> int:
    return value & (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF


def _mask_ipv6_value(value: int, ipv4_prefix: int, ipv6_prefix: int) -> int:
    if value >> 32 == _MAPPED_PREFIX:
        return _MAPPED_PREFIX << 32 | _mask_ipv4_value(value & 0xFFFFFFFF, ipv4_prefix)
    mask = ((1 << 128) - 1) ^ ((1 << (128 - ipv6_prefix)) - 1)
    return value & mask


def mask_ip(
    address: str,
    ipv4_prefix: int = DEFAULT_IPV4_PREFIX,
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
) -> str:
    """Return ``address`` truncated to its network prefix, as text.

    Accepts one IPv4 or IPv6 literal, optionally in brackets and with a zone id (``%eth0``,
    which is dropped). Raises ``ValueError`` for anything that is not an address.
    """
    _check_prefixes(ipv4_prefix, ipv6_prefix)
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        text = text.partition("%")[0]
        value = _parse_ipv6(text)
        return _format_ipv6(_mask_ipv6_value(value, ipv4_prefix, ipv6_prefix))
    return _format_ipv4(_mask_ipv4_value(_parse_ipv4(text), ipv4_prefix))


# --- addresses inside text -------------------------------------------------------------------

_MaskFunction = Callable[[bytes, int, int, bool], tuple[bytes, int]]
CORES: dict[str, _MaskFunction] = {"python": _pycore.mask}
try:
    from . import _core  # type: ignore[attr-defined]

    CORES["c"] = _core.mask
except ImportError:  # built without a C compiler: the reference does the work
    pass
CORE = "c" if "c" in CORES and os.environ.get("PRIVACY_CORE", "").lower() != "python" else "python"


class TextMasker:
    """Mask every IPv4 and IPv6 address in a piece of text (``bytes``), keeping all other bytes.

    ``versions=True`` is for user-agent fields: there ``Product/a.b.c.d`` is a version, not an
    address. ``masked`` counts the addresses changed so far. ``core`` picks ``"c"`` or
    ``"python"`` (default: ``CORE``); both give byte-identical output.
    """

    def __init__(
        self,
        ipv4_prefix: int = DEFAULT_IPV4_PREFIX,
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        core: str | None = None,
    ) -> None:
        _check_prefixes(ipv4_prefix, ipv6_prefix)
        if ipv4_prefix < 8 or ipv6_prefix < 16:
            raise ValueError("log masking needs an IPv4 prefix >= 8 and an IPv6 prefix >= 16")
        self.ipv4_prefix = ipv4_prefix
        self.ipv6_prefix = ipv6_prefix
        self.core = core or CORE
        if self.core not in CORES:
            raise ValueError(f"masking core {self.core!r} is not available here")
        self._mask = CORES[self.core]
        self.masked = 0

    def mask(self, data: bytes, versions: bool = False) -> bytes:
        """``data`` with every address truncated."""
        result, changed = self._mask(data, self.ipv4_prefix, self.ipv6_prefix, versions)
        self.masked += changed
        return result

    def find_unmasked(self, data: bytes, versions: bool = False) -> list[str]:
        """Addresses in ``data`` that masking would change, as written (for ``scan``)."""
        found = _pycore.scan(data, self.ipv4_prefix, self.ipv6_prefix, versions)
        return [data[start:end].decode("ascii", "replace") for start, end, _ in found]
