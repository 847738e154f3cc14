"""Whole log lines: reduce the user-agent field, mask addresses everywhere.

``LogMasker.process`` takes a block of complete lines (``bytes``) and returns the block with
the same lines in the same order. It works on whole blocks, not line by line, because Python's
per-line overhead would dominate. Two steps:

1. ``reduce`` replaces every user-agent field it recognises by its reduced form
   (``Firefox 121 / Windows 10 / pc``) and changes nothing else;
2. the masking core (``privacy.ipmask.TextMasker``, compiled or pure Python) masks every
   address in the result, in one pass over the block.

``scan`` runs the same two steps, so what it reports is exactly what ``pipe`` would change.
With ``keep_user_agent`` the user-agent fields are kept and masked with the version rule
(``Chrome/120.0.0.0`` is a version there, not an address), the rest of the line without it.

User-agent fields are recognised in these formats (docs/log-masking.md):

* combined / nginx "main": the quoted field after the referrer;
* AWS ALB: the quoted field after the request;
* JSON: the value of a key named ``user_agent``, ``http_user_agent``, ``userAgent``,
  ``User-Agent``, ``useragent``, ``ua``, ``request_User-Agent`` (Traefik),
  ``ClientRequestUserAgent`` (Cloudflare), ``user_agent.original`` or
  ``"user_agent": {"original": ...}`` (ECS), also as a one-element array (Caddy);
  JSON escapes (``\\/``, ``\\u0041``) are decoded before parsing;
* IIS W3C: the ``cs(User-Agent)`` column named by the last ``#Fields:`` line (``+`` for spaces).

Every other line is still masked (fail closed); only its user agent, if any, is left as is.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator

from privacy.ipmask import DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, TextMasker

try:
    from privacy._core import replace_agents as _core_replace_agents  # type: ignore[import-not-found]
except ImportError:  # no C extension: the Python fast path below does the same
    _core_replace_agents = None
from privacy.useragent import MAX_USER_AGENT_CHARS, reduce_user_agent

__all__ = ["LogMasker", "iter_blocks"]

_QUOTED = rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
_FIELD_VALUE = rb'[^"\\\n]*(?:\\.[^"\\\n]*)*'
# Group 1: everything up to and including the opening quote of the user agent; group 2: the
# user agent. The patterns start at a newline (the block is passed with one in front), which
# Python's regex engine finds quickly.
_COMBINED_UA = re.compile(
    rb"(\n[^ \n]+ [^ \n]+ [^ \n]+ \[[^\]\n]*\] "
    + _QUOTED
    + rb" [0-9]{3} [^ \n]+ "
    + _QUOTED
    + rb' ")('
    + _FIELD_VALUE
    + rb')(?=")'
)
# AWS ALB: type time elb client:port target:port 3 times, 2 status codes, 2 sizes, "request"
_ALB_UA = re.compile(
    rb'(\n(?:https?|h2|grpcs?|wss?) (?:[^ \n]+ ){11}"[^"\n]*" ")([^"\n]*)(?=")'
)
_JSON_KEYS = (
    rb"user[-_]?agent|http[-_.]user[-_]agent|request_user-agent|clientrequestuseragent"
    rb"|user_agent\.original|ua"
)
_JSON_UA = re.compile(
    rb'("(?i:'
    + _JSON_KEYS
    + rb')"\s*:\s*(?:\[\s*|\{\s*"original"\s*:\s*)?")('
    + _FIELD_VALUE
    + rb')(?=")'
)
_IIS_FIELDS = b"#Fields:"
_IIS_UA = b"cs(User-Agent)"
# What ``str(ReducedUserAgent)`` produces, so a second run leaves reduced fields alone.
_ALREADY_REDUCED = re.compile(
    r"(?:[\w .+-]+ / [\w .+-]+ / (?:pc|mobile|tablet|other)|bot / [\w .+-]+)\Z"
)
_C_ESCAPE = re.compile(rb'\\(x[0-9A-Fa-f]{2}|["\\])')
_AGENT_CACHE_LIMIT = 40_000
_MAX_CACHED_VALUE = 1024
_MAX_PARTIAL_LINE = 1 << 20
_CUT_WINDOW = 64 << 10

# Kinds of user-agent field: how the raw value is decoded before parsing and how the
# reduced form is written back.
_PLAIN, _JSON, _IIS = 0, 1, 2
Span = tuple[int, int, int]  # start, end, kind


def _unescape(match: re.Match[bytes]) -> bytes:
    escape = match[1]
    return bytes.fromhex(escape[1:].decode()) if len(escape) > 1 else escape


def _decode_plain(raw: bytes) -> str:
    """nginx writes ``\\x22`` for a quote, Apache ``\\"``."""
    if b"\\" in raw:
        raw = _C_ESCAPE.sub(_unescape, raw)
    return raw.decode("utf-8", "replace")


def _decode_json(raw: bytes) -> str:
    if b"\\" not in raw:
        return raw.decode("utf-8", "replace")
    try:
        value = json.loads(b'"' + raw + b'"')
    except ValueError:
        return raw.replace(b"\\/", b"/").decode("utf-8", "replace")
    return value if isinstance(value, str) else raw.decode("utf-8", "replace")


def _decode_iis(raw: bytes) -> str:
    return raw.replace(b"+", b" ").decode("utf-8", "replace")


_DECODE: dict[int, Callable[[bytes], str]] = {
    _PLAIN: _decode_plain,
    _JSON: _decode_json,
    _IIS: _decode_iis,
}


class LogMasker:
    """Reduces user agents (unless told not to) and masks addresses in blocks of log lines."""

    def __init__(
        self,
        ipv4_prefix: int = DEFAULT_IPV4_PREFIX,
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        keep_user_agent: bool = False,
        count: bool = True,
        core: str | None = None,
    ) -> None:
        self.text = TextMasker(ipv4_prefix, ipv6_prefix, core)
        #: The compiled fast path for combined/main blocks, with the compiled masking core.
        self._replace_agents = _core_replace_agents if self.text.core == "c" else None
        self.keep_user_agent = keep_user_agent
        self.count = count  # kept for callers; counting is free with the masking core
        self._reduced: list[dict[bytes, bytes]] = [{}, {}, {}]  # per kind: raw -> reduced
        self._kept: dict[bytes, bytes] = {}  # raw -> masked with the version rule
        self._iis_column = -1  # cs(User-Agent) column of the last #Fields: line
        self._iis_columns = 0

    def start_file(self) -> None:
        """Forget the format state of the previous file (the IIS ``#Fields:`` layout), so one
        masker can go over several files and each is read by its own header or none. Counts and
        the user-agent caches are kept: they hold no format state."""
        self._iis_column = -1
        self._iis_columns = 0

    @property
    def masked(self) -> int:
        """Addresses changed so far."""
        return self.text.masked

    @property
    def core(self) -> str:
        return self.text.core

    def process(self, block: bytes) -> bytes:
        """Mask one block of complete lines (the last line may lack its newline)."""
        if self.keep_user_agent:
            return self._keep_agents(block)
        return self.text.mask(self.reduce(block))

    # --- user-agent fields --------------------------------------------------------------------

    def reduce(self, block: bytes) -> bytes:
        """``block`` with every recognised user-agent field reduced, nothing else changed."""
        for cache in self._reduced:
            if len(cache) > _AGENT_CACHE_LIMIT:
                cache.clear()
        result = self._reduce_quoted_columns(block)
        if result is not None:
            return result
        spans = self.agent_spans(block)
        if not spans:
            return block
        pieces = []
        pos = 0
        for start, end, kind in spans:
            pieces.append(block[pos:start])
            pieces.append(self._reduce_value(block[start:end], kind))
            pos = end
        pieces.append(block[pos:])
        return b"".join(pieces)

    def agent_spans(self, block: bytes) -> list[Span]:
        """Where the user-agent fields are: (start, end, kind), in order, not overlapping."""
        spans: list[Span] = []
        framed = b"\n" + block
        if b"[" in block:
            spans += [(m.start(2) - 1, m.end(2) - 1, _PLAIN) for m in _COMBINED_UA.finditer(framed)]
        if b'" "' in block:
            spans += [(m.start(2) - 1, m.end(2) - 1, _PLAIN) for m in _ALB_UA.finditer(framed)]
        if b'":' in block or b'" :' in block:
            spans += [(m.start(2), m.end(2), _JSON) for m in _JSON_UA.finditer(block)]
        if self._iis_column >= 0 or _IIS_FIELDS in block:
            spans += self._iis_spans(block)
        if len(spans) > 1:
            spans.sort()
            kept = [spans[0]]
            for span in spans[1:]:
                if span[0] >= kept[-1][1]:
                    kept.append(span)
            spans = kept
        return spans

    def _iis_spans(self, block: bytes) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        size = len(block)
        while pos < size:
            end = block.find(b"\n", pos)
            end = size if end < 0 else end
            line = block[pos:end]
            if line.startswith(b"#"):
                if line.startswith(_IIS_FIELDS):
                    names = line[len(_IIS_FIELDS) :].split()
                    self._iis_columns = len(names)
                    self._iis_column = names.index(_IIS_UA) if _IIS_UA in names else -1
            elif self._iis_column >= 0:
                fields = line.rstrip(b"\r").split(b" ")
                if len(fields) == self._iis_columns:  # a W3C line of the announced layout
                    start = pos + sum(len(field) + 1 for field in fields[: self._iis_column])
                    spans.append((start, start + len(fields[self._iis_column]), _IIS))
            pos = end + 1
        return spans

    def _reduce_value(self, raw: bytes, kind: int) -> bytes:
        cache = self._reduced[kind]
        try:
            return cache[raw]
        except KeyError:
            pass
        result = raw
        if raw not in (b"", b"-"):
            text = _DECODE[kind](raw[: MAX_USER_AGENT_CHARS * 2])
            if not _ALREADY_REDUCED.match(text):
                reduced = str(reduce_user_agent(text[:MAX_USER_AGENT_CHARS]))
                result = reduced.encode("ascii", "replace")
                if kind == _IIS:
                    result = result.replace(b" ", b"+")
        if len(raw) <= _MAX_CACHED_VALUE:
            cache[raw] = result
        return result

    def _combined_columns(self, block: bytes) -> tuple[list[bytes], int] | None:
        """``block`` split at its quotes if it is a block of combined/main lines (every line
        has the same even number (>= 6) of quotes and a numeric status and size), with the
        number of quotes per line; ``None`` for other blocks.

        Split at quotes, the user agent is column 5 of each line (0: client and time,
        1: request, 2: status and size, 3: referrer, 4: " ").
        """
        if not block.endswith(b"\n") or (b"\\" in block and b'\\"' in block):
            return None  # Apache escapes a quote as \", which would shift the columns
        lines = block.count(b"\n")
        parts = block.split(b'"')
        quotes, rest = divmod(len(parts) - 1, lines)
        if rest or quotes < 6 or quotes % 2:
            return None
        # Same number of quotes on every line: every newline lies between a line's last quote
        # and the next line's first one, one in each of those pieces.
        heads = parts[quotes::quotes]
        if b"".join(heads).count(b"\n") != lines or not all(
            map(bytes.__contains__, heads, itertools.repeat(b"\n"))
        ):
            return None
        numbers = b'"'.join(parts[2::quotes])  # " 200 5123 " on every line
        if (
            numbers.translate(None, b'0123456789 -"')
            or numbers.count(b" ") != 3 * lines
            or b"  " in numbers
            or b"".join(parts[4::quotes]) != b" " * lines
        ):
            return None
        return parts, quotes

    def _reduce_quoted_columns(self, block: bytes) -> bytes | None:
        """Fast path for blocks of combined/main lines (``_combined_columns``): the user
        agents repeat a lot, so the column is mapped through a cache. Returns ``None`` for
        other blocks. With the C core the whole block is done in C
        (``privacy._core.replace_agents``); this class's Python version is the reference."""
        if self._replace_agents is None:
            return self._reduce_quoted_columns_py(block)
        cache = self._reduced[_PLAIN]
        result = self._replace_agents(block, cache)
        if isinstance(result, list):  # agents not seen yet: reduce them, then replace all
            for agent in result:
                self._reduce_value(agent, _PLAIN)
            if not all(map(cache.__contains__, result)):  # one too long to cache
                return self._reduce_quoted_columns_py(block)
            result = self._replace_agents(block, cache)
        return result

    def _reduce_quoted_columns_py(self, block: bytes) -> bytes | None:
        """The reference of the fast path (``map`` over a ``dict`` runs in C)."""
        cache = self._reduced[_PLAIN]
        split = self._combined_columns(block)
        if split is None:
            return None
        parts, quotes = split
        agents = parts[5::quotes]
        try:
            parts[5::quotes] = map(cache.__getitem__, agents)
        except KeyError:
            parts[5::quotes] = [self._reduce_value(agent, _PLAIN) for agent in agents]
        return b'"'.join(parts)

    def _keep_agents(self, block: bytes) -> bytes:
        """``--keep-user-agent``: user-agent fields masked with the version rule, the text
        between them without it."""
        if len(self._kept) > _AGENT_CACHE_LIMIT:
            self._kept.clear()
        split = self._combined_columns(block)
        if split is not None:
            # Mask the block with the user agents taken out, then put them back masked with
            # the version rule. Masking never adds or removes a quote, so the columns line up.
            parts, quotes = split
            agents = parts[5::quotes]
            parts[5::quotes] = [b""] * len(agents)
            masked = self.text.mask(b'"'.join(parts)).split(b'"')
            try:
                masked[5::quotes] = map(self._kept.__getitem__, agents)
            except KeyError:
                masked[5::quotes] = [self._keep_value(agent) for agent in agents]
            return b'"'.join(masked)
        spans = self.agent_spans(block)
        if not spans:
            return self.text.mask(block)
        pieces = []
        pos = 0
        for start, end, _kind in spans:
            pieces.append(self.text.mask(block[pos:start]))
            pieces.append(self._keep_value(block[start:end]))
            pos = end
        pieces.append(self.text.mask(block[pos:]))
        return b"".join(pieces)

    def _keep_value(self, raw: bytes) -> bytes:
        """A kept user-agent field, masked with the version rule (cached when it holds no
        address, so the count of masked addresses stays exact)."""
        before = self.text.masked
        kept = self.text.mask(raw, versions=True)
        if len(raw) <= _MAX_CACHED_VALUE and self.text.masked == before:
            self._kept[raw] = kept
        return kept


def _byte_table(members: bytes) -> bytes:
    return bytes(1 if byte in members else 0 for byte in range(256))


_RUN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.%"
# A byte that is not part of a run and not "\" (which starts an escape): the next run starts
# afresh whether or not the line is cut after it.
_NEUTRAL = _byte_table(bytes(b for b in range(256) if b not in _RUN_BYTES + b"\\"))
# Letters that are not hex digits: a word holding one is never part of an address.
_NON_HEX_LETTERS = _byte_table(b"ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ_")


def _cut_point(data: bytes) -> int:
    """Where to cut a partial line longer than 1 MiB so that no address is split
    (docs/log-masking.md, "Long lines"): after the last neutral byte in the last 64 KiB, else
    between the last two non-hex letters there, else (64 KiB of nothing but hex digits,
    dots, colons and escapes) at the end."""
    low = max(0, len(data) - _CUT_WINDOW)
    window = data[low:]
    neutral = window.translate(_NEUTRAL).rfind(1)
    if neutral >= 0:
        return low + neutral + 1
    letters = window.translate(_NON_HEX_LETTERS).rfind(b"\x01\x01")
    if letters >= 0:
        return low + letters + 1
    return len(data)


def iter_blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Regroup raw reads into blocks of complete lines.

    A partial last line is held back until its newline arrives (or the input ends). A line
    longer than 1 MiB is passed on in pieces (see ``_cut_point``), so memory stays flat and
    time linear whatever the line.
    """
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) > _MAX_PARTIAL_LINE:
            cut = _cut_point(data)
        if cut:
            yield data[:cut]
            pending = data[cut:]
        else:
            pending = data
    if pending:
        yield pending
