"""Pure-Python reference of the text masking core (``privacy/_core.c`` is the compiled twin).

Both implement the same rules, written down in docs/log-masking.md, and must give
byte-identical output (tests/privacy/test_cores.py checks that on a generated corpus). The
code is laid out like the C code on purpose (runs, segments, words, separators), so a rule
changed in one place is easy to find in the other.

``scan(data, ipv4_prefix, ipv6_prefix, versions)`` returns the addresses that masking would
change, as ``(start, end, replacement)`` triples in ``data``; ``mask`` applies them.
"""

from __future__ import annotations

import re

__all__ = ["mask", "scan"]

_RUN = re.compile(rb"[A-Za-z0-9_:.%]+")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_KEY_GAP = frozenset(b"\"' =:")  # between a "...version" key and its value
_MAPPED = 0xFFFF
_MAX_FIELDS = 16  # a longer colon chain cannot hold an address (at most 11 fields can)
_MAX_CACHED_RUN = 256

COLON, DOT, END = 1, 2, 0

Replacement = tuple[int, int, bytes]


def _format_v4(value: int) -> bytes:
    return b"%d.%d.%d.%d" % (value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255)


def _format_v6(value: int, colon: bytes) -> bytes:
    """RFC 5952: lower case, no leading zeros, the longest run (>= 2, first if tied) of zero
    groups as ``::``; IPv4-mapped addresses as ``::ffff:a.b.c.d``."""
    if value >> 32 == _MAPPED:
        return colon + colon + b"ffff" + colon + _format_v4(value & 0xFFFFFFFF)
    groups = [value >> shift & 0xFFFF for shift in range(112, -1, -16)]
    best, best_len, index = -1, 1, 0
    while index < 8:
        if groups[index] == 0:
            end = index
            while end < 8 and groups[end] == 0:
                end += 1
            if end - index > best_len:
                best, best_len = index, end - index
            index = end
        else:
            index += 1
    hexes = [b"%x" % group for group in groups]
    if best < 0:
        return colon.join(hexes)
    return colon.join(hexes[:best]) + colon + colon + colon.join(hexes[best + best_len :])


def _octet(data: bytes, start: int, end: int) -> int:
    """Value of a decimal octet word (1-3 digits, <= 255), or -1."""
    if not 1 <= end - start <= 3:
        return -1
    value = 0
    for byte in data[start:end]:
        if byte not in _DIGITS:
            return -1
        value = value * 10 + byte - 48
    return value if value <= 255 else -1


def _is_hexy(data: bytes, start: int, end: int) -> bool:
    """A possible IPv6 group: 0-4 hex digits (empty words come from ``::``)."""
    return end - start <= 4 and all(byte in _HEX for byte in data[start:end])


def _colon_at(data: bytes, pos: int) -> bool:
    """A colon (":" or "%3A") at ``pos``."""
    if pos < len(data) and data[pos] == 0x3A:
        return True
    return (
        pos + 2 < len(data)
        and data[pos] == 0x25
        and data[pos + 1] == 0x33
        and data[pos + 2] in b"aA"
    )


def _ends_with_version(data: bytes, end: int) -> bool:
    return end >= 7 and data[end - 7 : end].lower() == b"version"


def _parse_groups(data: bytes, fields: list[tuple[int, int]], quad: int) -> int:
    """Value of the IPv6 address written as ``fields`` (word spans split at colons; the last
    one is the dotted quad ``quad`` when ``quad`` >= 0), or -1 if they do not form one.

    Split at colons, ``A::B`` gives A's groups, one empty field, then B's; ``::B`` gives two
    empty fields first, ``A::`` two last, ``::`` three. A dotted quad counts as two groups.
    """
    count = len(fields)
    if count < 3 or count > _MAX_FIELDS:
        return -1
    empties = [n for n, (start, end) in enumerate(fields) if start == end]
    groups = count - len(empties) + (1 if quad >= 0 else 0)
    if not empties:
        if groups != 8:
            return -1
        gap = -1
    elif (len(empties) == 3 and count == 3) or empties[:2] == [0, 1] and len(empties) == 2:
        gap = 0
    elif len(empties) == 2 and empties[0] == count - 2 and empties[1] == count - 1 and quad < 0:
        gap = count - 2
    elif len(empties) == 1 and 0 < empties[0] < count - 1:
        gap = empties[0]
    else:
        return -1
    if gap >= 0 and groups > 7:
        return -1
    value = 0
    for n, (start, end) in enumerate(fields):
        if quad >= 0 and n == count - 1:
            value = value << 32 | quad
        elif start != end:
            value = value << 16 | int(data[start:end], 16)
        elif n == gap:
            value <<= 16 * (8 - groups)
    return value


class _Scanner:
    def __init__(self, data: bytes, ipv4_prefix: int, ipv6_prefix: int, versions: bool) -> None:
        self.data = data
        self.v4_mask = (0xFFFFFFFF << (32 - ipv4_prefix)) & 0xFFFFFFFF
        self.v6_mask = ((1 << 128) - 1) ^ ((1 << (128 - ipv6_prefix)) - 1)
        self.versions = versions
        self.out: list[Replacement] = []

    # --- runs and segments ------------------------------------------------------------------

    def run(self, start: int, end: int) -> None:
        data = self.data
        pos = start
        if start > 0 and data[start - 1] == 0x5C:  # "\": the run begins with an escape
            first = data[pos]
            if (
                first in b"xX"
                and end - pos >= 3
                and all(b in _HEX for b in data[pos + 1 : pos + 3])
            ):
                pos += 3
            elif (
                first in b"uU"
                and end - pos >= 5
                and all(b in _HEX for b in data[pos + 1 : pos + 5])
            ):
                pos += 5
            else:
                pos += 1
        segment = pos
        words: list[int] = []  # start, end, separator kind, separator end; per word
        while True:
            word = pos
            while pos < end and data[pos] in _WORD:
                pos += 1
            if pos < end and data[pos] == 0x2E:  # "."
                words += (word, pos, DOT, pos + 1)
                pos += 1
                continue
            if pos < end and data[pos] == 0x3A:  # ":"
                words += (word, pos, COLON, pos + 1)
                pos += 1
                continue
            if (
                pos + 2 < end
                and data[pos] == 0x25
                and data[pos + 1] == 0x33
                and data[pos + 2] in b"aA"
            ):
                words += (word, pos, COLON, pos + 3)  # "%3A" is a colon
                pos += 3
                continue
            words += (word, pos, END, pos)
            self.segment(words, segment == start, pos == end, start, end)
            if pos >= end:
                return
            # "%XX" (another escape) or a lone "%": a boundary
            if pos + 2 < end and data[pos + 1] in _HEX and data[pos + 2] in _HEX:
                pos += 3
            else:
                pos += 1
            words = []
            segment = pos

    def segment(
        self, words: list[int], at_run_start: bool, at_run_end: bool, run_start: int, run_end: int
    ) -> None:
        data = self.data
        count = len(words) // 4

        def w_start(k: int) -> int:
            return words[4 * k]

        def w_end(k: int) -> int:
            return words[4 * k + 1]

        def sep(k: int) -> int:
            return words[4 * k + 2]

        k = 0
        while k < count:
            if sep(k) == COLON and _is_hexy(data, w_start(k), w_end(k)):
                m = k
                while (
                    m + 1 < count
                    and sep(m) == COLON
                    and _is_hexy(data, w_start(m + 1), w_end(m + 1))
                ):
                    m += 1
                quad = -1
                if sep(m) == DOT and m + 3 < count and sep(m + 1) == DOT and sep(m + 2) == DOT:
                    octets = [_octet(data, w_start(m + n), w_end(m + n)) for n in range(4)]
                    if min(octets) >= 0:
                        quad = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
                if m > k or quad >= 0:
                    used = self.ipv6(words, k, m, quad)
                    if used:
                        k = used
                        continue
                    if quad >= 0 and self.ipv4_at(
                        words, m, count, at_run_start, at_run_end, run_start, run_end
                    ):
                        k = m + 4
                        continue
                k = m + 1
                continue
            if self.ipv4_at(words, k, count, at_run_start, at_run_end, run_start, run_end):
                k += 4
                continue
            k += 1

    # --- IPv4 ---------------------------------------------------------------------------------

    def ipv4_at(
        self,
        words: list[int],
        k: int,
        count: int,
        at_run_start: bool,
        at_run_end: bool,
        run_start: int,
        run_end: int,
    ) -> bool:
        """Mask the dotted quad at words k..k+3 if it is an address; True if it is one."""
        data = self.data
        if k + 3 >= count:
            return False
        if k > 0 and words[4 * (k - 1) + 2] != COLON:
            return False  # glued to a "." on the left (1.1.2.3.4)
        for n in range(3):
            if words[4 * (k + n) + 2] != DOT:
                return False
        octets = [_octet(data, words[4 * (k + n)], words[4 * (k + n) + 1]) for n in range(4)]
        if min(octets) < 0:
            return False
        last = k + 3
        kind = words[4 * last + 2]
        if kind == DOT:
            nxt = last + 1
            if words[4 * nxt] != words[4 * nxt + 1]:
                return False  # 1.2.3.4.5, tool-1.2.3.4.tar.gz
        elif (
            kind == END
            and at_run_end
            and run_end + 1 < len(data)
            and data[run_end] == 0x2D
            and data[run_end + 1] in _LETTERS
        ):
            return False  # 1.2.3.4-beta
        if k == 0 and at_run_start and self._version_before(run_start):
            return False
        if k > 0 and _ends_with_version(data, words[4 * (k - 1) + 1]):
            return False  # version:1.2.3.4
        value = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
        masked = value & self.v4_mask
        if masked != value:
            self.out.append((words[4 * k], words[4 * last + 1], _format_v4(masked)))
        return True

    def _version_before(self, run_start: int) -> bool:
        """A quad that starts a run is a version after ``Product/`` (only in a user-agent
        field, ``versions``) or after a key ending in ``version`` (``swVersion="9.6.1.2"``)."""
        data = self.data
        if self.versions and run_start > 0 and data[run_start - 1] == 0x2F:  # "/"
            q = run_start - 2
            if q >= 0 and data[q] == 0x5C:  # JSON's "\/"
                q -= 1
            if q >= 0 and data[q] in _WORD:
                return True
        q = run_start
        gap = 0
        key_sign = False
        while q > 0 and gap < 4 and data[q - 1] in _KEY_GAP:
            key_sign = key_sign or data[q - 1] in b"=:"
            q -= 1
            gap += 1
        return key_sign and _ends_with_version(data, q)

    # --- IPv6 ---------------------------------------------------------------------------------

    def ipv6(self, words: list[int], k: int, m: int, quad: int) -> int:
        """Mask the IPv6 address in the colon chain k..m (plus a dotted quad at m..m+3 when
        ``quad`` >= 0). Returns the index of the first word after the address, or 0."""
        data = self.data
        last = m + 3 if quad >= 0 else m
        if m - k + 1 > _MAX_FIELDS:
            return 0
        fields = [(words[4 * n], words[4 * n + 1]) for n in range(k, m + 1)]
        if quad >= 0:
            fields[-1] = (words[4 * m], words[4 * (m + 3) + 1])
        first_field = 0
        end_field = len(fields)
        if (
            quad < 0
            and end_field >= 2
            and fields[-1][0] == fields[-1][1]
            and fields[-2][0] != fields[-2][1]
        ):
            end_field -= 1  # "...::5:" the colon after an address
        if (
            end_field - first_field >= 2
            and fields[0][0] == fields[0][1]
            and fields[1][0] != fields[1][1]
        ):
            first_field = 1  # ":2001:db8::1" after a label
        chosen = fields[first_field:end_field]
        if quad < 0 and len(chosen) == 8 and all(end - start == 2 for start, end in chosen):
            return 0  # EUI-64 (00:02:b3:01:23:45:67:89), not an address
        value = _parse_groups(data, chosen, quad)
        if value < 0 and len(chosen) >= 3 and quad < 0 and chosen[-1][0] != chosen[-1][1]:
            value = _parse_groups(data, chosen[:-1], quad)  # a port after the address
            if value >= 0:
                chosen = chosen[:-1]
        if value < 0 and len(chosen) >= 3 and chosen[0][0] != chosen[0][1]:
            value = _parse_groups(data, chosen[1:], quad)  # a hex word before the address
            if value >= 0:
                chosen = chosen[1:]
        if value < 0:
            return 0
        if value >> 32 == _MAPPED:
            masked = _MAPPED << 32 | (value & self.v4_mask)
        else:
            masked = value & self.v6_mask
        start, end = chosen[0][0], chosen[-1][1]
        if masked != value:
            colon = b":"
            for n in range(k, m):  # the first escaped colon inside the address sets the spelling
                sep_start, sep_end = words[4 * n + 1], words[4 * n + 3]
                if start <= sep_start and sep_end <= end and sep_end - sep_start == 3:
                    colon = data[sep_start:sep_end]
                    break
            text = _format_v6(masked, colon)
            if text.endswith(colon + colon) and _colon_at(data, end):
                # "2001:db8:1:::54321" would not read back as address and port
                text = colon.join(
                    b"%x" % (masked >> shift & 0xFFFF) for shift in range(112, -1, -16)
                )
            self.out.append((start, end, text))
        return last + 1


_LOOKBACK = frozenset(b"/\"' =:")
_RUN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.%")
# Where an address can be: a dotted quad of digit words, "::", a "%" (maybe "%3A"), or 7 colons
# in one run (8 groups). Runs without any of these hold no address (the C core skips them too).
_CANDIDATE = re.compile(rb"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|::|%|:(?:[A-Za-z0-9_.%]*:){6}")
_cache: dict[tuple[bytes, int, int, int, bool], tuple[Replacement, ...]] = {}
_CACHE_LIMIT = 50_000


def scan(
    data: bytes, ipv4_prefix: int, ipv6_prefix: int, versions: bool = False
) -> list[Replacement]:
    """Every address in ``data`` whose masked form differs, as (start, end, replacement).

    Results are cached per run and the context the rules look at (up to 11 bytes before a
    run, 3 after), so a repeated client costs a dict lookup.
    """
    scanner = _Scanner(data, ipv4_prefix, ipv6_prefix, versions)
    out = scanner.out
    if len(_cache) > _CACHE_LIMIT:
        _cache.clear()
    done = 0
    for hit in _CANDIDATE.finditer(data):
        start = hit.start()
        if start < done:
            continue  # inside the run just handled
        while start > 0 and data[start - 1] in _RUN_BYTES:
            start -= 1
        end = _RUN.match(data, hit.start()).end()  # type: ignore[union-attr]
        done = end
        if end - start < 3:
            continue
        if end - start > _MAX_CACHED_RUN:
            scanner.run(start, end)
            continue
        before = start - 11 if start >= 1 and data[start - 1] in _LOOKBACK else start - 1
        before = max(before, 0)
        key = (data[before : end + 3], start - before, ipv4_prefix, ipv6_prefix, versions)
        cached = _cache.get(key)
        if cached is None:
            mark = len(out)
            scanner.run(start, end)
            cached = tuple((s - start, e - start, text) for s, e, text in out[mark:])
            _cache[key] = cached
        else:
            out.extend((start + s, start + e, text) for s, e, text in cached)
    return out


def mask(
    data: bytes, ipv4_prefix: int, ipv6_prefix: int, versions: bool = False
) -> tuple[bytes, int]:
    """``data`` with every address truncated, and how many addresses changed."""
    found = scan(data, ipv4_prefix, ipv6_prefix, versions)
    if not found:
        return data, 0
    pieces = []
    pos = 0
    for start, end, replacement in found:
        pieces.append(data[pos:start])
        pieces.append(replacement)
        pos = end
    pieces.append(data[pos:])
    return b"".join(pieces), len(found)
