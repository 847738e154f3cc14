"""IP address truncation: one address (``mask_ip``) and every address in a text (``TextMasker``).

Both use the same rules, implemented with string and integer arithmetic only (no
``ipaddress`` objects; they dominate the run time of other anonymisers):

* IPv4 keeps the first ``ipv4_prefix`` bits (default 24: ``203.0.113.77`` -> ``203.0.113.0``).
* IPv6 keeps the first ``ipv6_prefix`` bits (default 48) and is written in RFC 5952 form
  (lower case, longest zero run compressed): ``2001:db8:1:2:3:4:5:6`` -> ``2001:db8:1::``.
* IPv4-mapped IPv6 (``::ffff:a.b.c.d``) is the IPv4 client behind a dual-stack socket, so it is
  masked with the IPv4 rule and keeps its form: ``::ffff:198.51.100.7`` -> ``::ffff:198.51.100.0``.

What counts as an address inside a text is documented on ``TextMasker``; ``lines.py`` builds
the fast whole-block log masker on top of it.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_IPV4_PREFIX", "DEFAULT_IPV6_PREFIX", "TextMasker", "mask_ip"]

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
#
# Python's ``re`` is slow when a pattern can start at many positions, so both patterns start at
# a literal character (the first ``.`` of an IPv4 address, the first ``:`` of an IPv6 address)
# and check what comes before it with fixed-width look-behinds. The part before that character
# (first octet, first group) never changes under the supported prefixes (IPv4 >= /8,
# IPv6 >= /16), so a match and its replacement only cover the text from that character on.

_OCT = rb"(?:25[0-5]|2[0-4]\d|[01]?\d?\d)"
_FIRST_OCTETS = (rb"\d", rb"\d\d", rb"(?:[01]\d\d|2[0-4]\d|25[0-5])")
# Left of the first octet: not glued to a letter, digit, "_" or "." (``v1.2.3.4``, ``1.1.2.3.4``),
# except that a %XX escape (``%2F1.2.3.4``) is a boundary.
_V4_LEFT = rb"(?:(?<![\w.])|(?<=%[0-9A-Fa-f]{2}))"
_V4_PATTERN = (
    rb"\.(?=\d{1,3}\.\d{1,3}\.\d)(?:"
    # the (empty) group "slash" marks a quad right after "/": maybe a version (Chrome/120.0.0.0)
    + rb"(?P<slash>"
    + b"|".join(rb"(?<=/" + octet + rb"\.)" for octet in _FIRST_OCTETS)
    + rb")|"
    + b"|".join(rb"(?<=" + _V4_LEFT + octet + rb"\.)" for octet in _FIRST_OCTETS)
    + rb")"
    + _OCT
    + rb"\."
    + _OCT
    + rb"\."
    + _OCT
    # right: not glued to a word character or followed by ".<digit>" (1.2.3.4.5)
    + rb"(?!\w|\.\d)"
)
_HEXD = rb"[0-9A-Fa-f]"
_V6_PATTERN = (
    rb":"
    # an IPv6 literal has "::" or at least 6 colons before the last group (or dotted quad)
    + rb"(?=:|[0-9A-Fa-f:.]*::|(?:"
    + _HEXD
    + rb"{0,4}:){5})"
    # first group (1-4 hex digits, not glued to a word character, ":" or "."), or "::" start
    + rb"(?:"
    + b"|".join(rb"(?<=(?<![\w:.])" + _HEXD + b"{%d}:)" % n for n in (4, 3, 2, 1))
    + rb"|(?<![\w:.]:)(?=:))(?:"
    + _HEXD
    + rb"{0,4}:)*(?:"
    + _OCT
    + rb"\."
    + _OCT
    + rb"\."
    + _OCT
    + rb"\."
    + _OCT
    + rb"|"
    + _HEXD
    + rb"{1,4})?(?![\w:.])"
)
_V4_RE = re.compile(_V4_PATTERN)
_V6_RE = re.compile(_V6_PATTERN)
_TRAILING_HEX = re.compile(rb"[0-9A-Fa-f]{1,4}\Z")
_TRAILING_DIGITS = re.compile(rb"\d{1,3}\Z")
# A product token (``Chrome/``) starts a field or follows one of these; ``/ip/1.2.3.4`` is a path.
_PRODUCT_TOKEN = re.compile(rb"(?:\A|[\s(;,\"'\[=])[A-Za-z][\w.+-]*/\Z")
_CACHE_LIMIT = 10_000


class TextMasker:
    """Mask every IPv4 and IPv6 literal in a piece of text (``bytes``), keeping all other bytes.

    What counts as an address:

    * IPv4: a dotted quad ``a.b.c.d`` with every part 0-255 (leading zeros allowed), not glued
      to a letter, digit, ``_`` or ``.`` on either side (``v1.2.3.4``, ``1.2.3.4.5`` and
      ``1.2.3`` are not addresses; ``%2F1.2.3.4`` and ``1.2.3.4:443`` are), and not a version
      token, which is a quad right after ``Product/`` where ``Product`` starts with a letter and
      begins the text or follows white space, ``(``, ``;``, ``,``, a quote, ``[`` or ``=``
      (``Chrome/120.0.0.0`` is a version, ``GET /ip/1.2.3.4`` is an address).
    * IPv6: hex groups and colons forming a valid address (compressed, full, any case, with a
      trailing dotted quad), not glued to a word character, ``:`` or ``.``. Times such as
      ``12:34:56`` and MAC addresses have neither ``::`` nor enough groups and are left alone.

    Results are cached per distinct address text, so repeated clients cost one dict lookup.
    ``masked`` counts the addresses that were changed.
    """

    def __init__(
        self, ipv4_prefix: int = DEFAULT_IPV4_PREFIX, ipv6_prefix: int = DEFAULT_IPV6_PREFIX
    ) -> None:
        _check_prefixes(ipv4_prefix, ipv6_prefix)
        if ipv4_prefix < 8 or ipv6_prefix < 16:
            raise ValueError("log masking needs an IPv4 prefix >= 8 and an IPv6 prefix >= 16")
        self.ipv4_prefix = ipv4_prefix
        self.ipv6_prefix = ipv6_prefix
        self.masked = 0
        self._v4: dict[bytes, tuple[bytes, int]] = {}
        self._v6: dict[bytes, tuple[bytes, int]] = {}

    def mask(self, data: bytes) -> bytes:
        """Return ``data`` with every address truncated (IPv6 first, so ``::ffff:a.b.c.d``
        is masked once, as IPv4-mapped)."""
        if len(self._v4) > _CACHE_LIMIT:
            self._v4.clear()
        if len(self._v6) > _CACHE_LIMIT:
            self._v6.clear()
        if b"::" in data or data.count(b":") >= 6:  # cheap test first: IPv6 needs either
            data = _V6_RE.sub(self._replace_v6, data)
        if b"." in data:
            data = _V4_RE.sub(self._replace_v4, data)
        return data

    def find_unmasked(self, data: bytes) -> list[str]:
        """Addresses in ``data`` that masking would change (for ``scan``)."""
        found: list[str] = []
        saved = self.masked
        for regex, replace, lead in (
            (_V6_RE, self._replace_v6, _TRAILING_HEX),
            (_V4_RE, self._replace_v4, _TRAILING_DIGITS),
        ):
            for match in regex.finditer(data):
                before = self.masked
                replace(match)
                if self.masked != before:
                    start = match.start()
                    first = lead.search(data, max(0, start - 4), start)
                    text = (first[0] if first else b"") + match[0]
                    found.append(text.decode("ascii", "replace"))
            if regex is _V6_RE and found:
                data = _V6_RE.sub(self._replace_v6, data)  # ::ffff:a.b.c.d is one address
        self.masked = saved
        return found

    def _replace_v4(self, match: re.Match[bytes]) -> bytes:
        if match.lastindex and self._is_version(match):
            return match[0]
        key = match[0]
        try:
            result, changed = self._v4[key]
        except KeyError:
            octets = [int(part) for part in key[1:].split(b".")]
            value = octets[0] << 16 | octets[1] << 8 | octets[2]
            value &= 0xFFFFFF & (0xFFFFFFFF << (32 - self.ipv4_prefix))
            result = b".%d.%d.%d" % (value >> 16, value >> 8 & 255, value & 255)
            changed = int(result != key)
            self._v4[key] = (result, changed)
        self.masked += changed
        return result

    @staticmethod
    def _is_version(match: re.Match[bytes]) -> bool:
        """A quad after "/": a version if the token before "/" is a product name."""
        text = match.string
        start = match.start()
        slash = start - 1
        while text[slash] != 0x2F:  # walk back over the first octet to the "/"
            slash -= 1
        return _PRODUCT_TOKEN.search(text, max(0, slash - 64), slash + 1) is not None

    def _replace_v6(self, match: re.Match[bytes]) -> bytes:
        start = match.start()
        key = match.string[max(0, start - 4) : match.end()]
        try:
            result, changed = self._v6[key]
        except KeyError:
            result, changed = self._mask_v6_key(key, start - max(0, start - 4))
            self._v6[key] = (result, changed)
        self.masked += changed
        return result

    def _mask_v6_key(self, key: bytes, context: int) -> tuple[bytes, int]:
        """Replacement for the match in ``key[context:]`` (``key[:context]`` holds the first
        group, which stays as written) and whether the address changed."""
        head, tail = key[:context], key[context:]
        lead_match = _TRAILING_HEX.search(head)
        lead = lead_match[0] if lead_match else b""
        text = (lead + tail).decode("ascii").lower()
        quick = _quick_ipv6_prefix(text, self.ipv6_prefix)
        if quick is not None:
            masked_text, changed = quick
        else:
            try:
                value = _parse_ipv6(text)
            except ValueError:
                return tail, 0
            masked = _mask_ipv6_value(value, self.ipv4_prefix, self.ipv6_prefix)
            masked_text, changed = _format_ipv6(masked), masked != value
        if not changed:  # already masked: leave the text exactly as it is
            return tail, 0
        result = masked_text.encode("ascii")
        if lead and not result.startswith(b"::"):
            result = result[result.index(b":") :]  # keep the first group as written
        return result, 1


def _quick_ipv6_prefix(text: str, prefix: int) -> tuple[str, bool] | None:
    """Shortcut for the common case: the kept groups are written out and non-zero and the
    prefix is whole groups (``2001:db8:15de:f981:...`` -> ``2001:db8:15de::``). Returns the
    masked text and whether any bit was cleared, or ``None`` for the general path."""
    keep, partial = divmod(prefix, 16)
    if partial or not 0 < keep < 8 or "." in text:
        return None
    groups = text.split(":")
    if "::" in text:
        if text.count("::") > 1 or ":::" in text or len(groups) > 8 or "" in groups[:keep]:
            return None
    elif len(groups) != 8:
        return None
    if any(len(group) > 4 or not _HEX.issuperset(group) for group in groups):
        return None
    kept = groups[:keep]
    if any(int(group, 16) == 0 for group in kept):
        return None
    changed = any(group and int(group, 16) for group in groups[keep:])
    return ":".join(group.lstrip("0") for group in kept) + "::", changed
