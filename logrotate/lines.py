"""Whole log lines: mask addresses everywhere and reduce the user-agent field.

``LogMasker.process`` takes a block of complete lines (``bytes``) and returns the block with
the same lines in the same order. It works on whole blocks, not line by line, because Python's
per-line overhead would dominate:

* blocks of combined / nginx "main" lines take a fast path (``_process_quoted_columns``): the
  block is split at its quotes into columns whose values repeat (client, request, referrer,
  user agent...), and each column is mapped through a cache of masked values;
* any other block is masked by ``TextMasker`` in one pass per address family, with the
  user-agent fields cut out by one regular-expression split and put back reduced.

User-agent fields are recognised in two formats:

* combined / nginx "main": the quoted field after the referrer
  (``host ident user [time] "request" status bytes "referrer" "user agent" ...``);
* JSON: the value of a ``"user_agent"`` or ``"http_user_agent"`` key.

Every other line is still masked (fail closed); only its user agent, if any, is left as is.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator

from privacy.ipmask import DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, TextMasker
from privacy.useragent import MAX_USER_AGENT_CHARS, reduce_user_agent

__all__ = ["LogMasker", "iter_blocks"]

_QUOTED = rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
_FIELD_VALUE = rb'[^"\\\n]*(?:\\.[^"\\\n]*)*'
# Group 1: everything up to and including the opening quote of the user agent; group 2: the
# user agent. The pattern starts at a newline (the block is passed with one in front), which
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
_JSON_UA = re.compile(rb'("(?:http_)?user_agent"\s*:\s*")(' + _FIELD_VALUE + rb')(?=")')
# What ``str(ReducedUserAgent)`` produces, so a second run leaves reduced fields alone.
_ALREADY_REDUCED = re.compile(
    rb"(?:[\w .+-]+ / [\w .+-]+ / (?:pc|mobile|tablet|other)|bot / [\w .+-]+)\Z"
)
_SEPARATOR = b"\x00"
# The first field of a line (the client in combined logs), with the newline before it.
_CLIENT = re.compile(rb'(\n[^ "\n]*)')
_VALUE_CACHE_LIMIT = 40_000
_MAX_CACHED_VALUE = 1024
_MAX_PARTIAL_LINE = 4 << 20


class _MaskedValues(dict[bytes, bytes]):
    """Cache of masked values: ``cache[value]`` masks ``value`` once, then looks it up."""

    def __init__(
        self,
        text: TextMasker,
        transform: Callable[[bytes], bytes] | None = None,
        limit: int = _VALUE_CACHE_LIMIT,
    ) -> None:
        super().__init__()
        self._text = text
        self._limit = limit
        self._transform = transform or text.mask
        self.counts: dict[bytes, int] = {}  # addresses changed per cached value
        self.uncached_changes = 0  # ... and in values too long to cache, since last counted

    def __missing__(self, value: bytes) -> bytes:
        before = self._text.masked
        result = self._transform(value)
        changed = self._text.masked - before
        if len(value) <= _MAX_CACHED_VALUE:  # long values are rare: keep memory bounded
            self[value] = result
            if changed:
                self.counts[value] = changed
        else:
            self.uncached_changes += changed
        return result

    def trim(self) -> None:
        if len(self) > self._limit:
            self.clear()
            self.counts.clear()


class LogMasker:
    """Masks addresses in blocks of log lines and (unless told not to) reduces user agents."""

    def __init__(
        self,
        ipv4_prefix: int = DEFAULT_IPV4_PREFIX,
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        keep_user_agent: bool = False,
        count: bool = True,
    ) -> None:
        self.text = TextMasker(ipv4_prefix, ipv6_prefix)
        self.keep_user_agent = keep_user_agent
        self.count = count
        self.masked = 0  # addresses changed so far (only kept up to date with ``count``)
        self._tokens = _MaskedValues(self.text)
        self._fields = _MaskedValues(self.text)
        # " ident user [time] ": the same only within one second, so a small cache will do.
        self._stamps = _MaskedValues(self.text, limit=4096)
        self._agents = _MaskedValues(self.text, self._user_agent)

    def process(self, block: bytes) -> bytes:
        """Mask one block of complete lines (the last line may lack its newline)."""
        for cache in (self._tokens, self._fields, self._stamps, self._agents):
            cache.trim()
        if _SEPARATOR in block:  # the separator trick below needs a byte the block lacks
            return self._process_with(None, block)
        if block.endswith(b"\n") and b'\\"' not in block:  # Apache escapes quotes as \"
            result = self._process_quoted_columns(block)
            if result is not None:
                return result
        block = self._process_with(_COMBINED_UA, b"\n" + block)[1:]
        if b"user_agent" in block:
            block = self._process_with(_JSON_UA, block)
        return block

    def _process_quoted_columns(self, block: bytes) -> bytes | None:
        """Fast path for blocks of combined/main lines: every line has the same even number
        (>= 6) of quotes and a numeric status and size. Returns ``None`` for other blocks.

        Splitting the block at quotes turns it into columns (client and time, request,
        status and size, referrer, user agent, ...). Values in a column repeat a lot, so each
        column is mapped through a cache (``map`` over a ``dict`` runs in C); only new values
        are masked with ``TextMasker``. The first column holds the time stamp, so it is split
        into the client and the rest (" ident user [time] "), which repeat separately.
        """
        lines = block.count(b"\n")
        parts = block.split(b'"')
        quotes, rest = divmod(len(parts) - 1, lines)
        if rest or quotes < 6 or quotes % 2:
            return None
        heads = _SEPARATOR.join(parts[quotes::quotes])
        if not heads.startswith(b"\n") or heads.count(_SEPARATOR + b"\n") != lines - 1:
            return None  # some line has a different number of quotes
        if heads.count(b"\n") != lines:
            return None
        # The combined layout: "request" status size "referrer" "user agent". Status and size
        # are digits (or "-"), so those columns need no masking.
        numbers = _SEPARATOR.join(parts[2::quotes])  # " 200 5123 " on every line
        if (
            numbers.translate(None, b"0123456789 -" + _SEPARATOR)
            or numbers.count(b" ") != 3 * lines
            or b"  " in numbers
            or b"".join(parts[4::quotes]) != b" " * lines
        ):
            return None
        # First column: "\nclient" and " ident user [time] " of each line, as separate values.
        pieces = _CLIENT.split(b"\n" + b'"'.join(parts[0::quotes]))
        clients, rests = pieces[1::2], pieces[0::2]
        pieces[1::2] = map(self._tokens.__getitem__, clients)
        pieces[0::2] = map(self._stamps.__getitem__, rests)
        self._count(self._tokens, clients)
        self._count(self._stamps, rests)
        parts[0::quotes] = b"".join(pieces)[1:].split(b'"')
        for column in (1, 3, 5, *range(6, quotes)):
            values = parts[column::quotes]
            cache = self._agents if column == 5 else self._fields
            parts[column::quotes] = map(cache.__getitem__, values)
            self._count(cache, values)
        return b'"'.join(parts)

    def _process_with(self, regex: re.Pattern[bytes] | None, block: bytes) -> bytes:
        parts = regex.split(block) if regex is not None else [block]
        if len(parts) == 1:
            before = self.text.masked
            block = self.text.mask(block)
            self.masked += self.text.masked - before
            return block
        # parts: text, head, ua, text, head, ua, ..., text. Mask all text in one pass with the
        # user agents replaced by a separator, then put the (separately cached) agents back.
        agents = parts[2::3]
        parts[2::3] = [_SEPARATOR] * len(agents)
        before = self.text.masked
        pieces = self.text.mask(b"".join(parts)).split(_SEPARATOR)
        self.masked += self.text.masked - before
        out: list[bytes] = [b""] * (2 * len(pieces) - 1)
        out[0::2] = pieces
        out[1::2] = map(self._agents.__getitem__, agents)
        self._count(self._agents, agents)
        return b"".join(out)

    def _count(self, cache: _MaskedValues, values: list[bytes]) -> None:
        if self.count:
            self.masked += sum(map(cache.counts.get, values, itertools.repeat(0)))
            self.masked += cache.uncached_changes
        cache.uncached_changes = 0

    def _user_agent(self, raw: bytes) -> bytes:
        """The user-agent field as it is written back (cached)."""
        if self.keep_user_agent or raw in (b"", b"-") or _ALREADY_REDUCED.match(raw):
            result = raw
        else:
            text = raw[:MAX_USER_AGENT_CHARS].decode("utf-8", "replace")
            result = str(reduce_user_agent(text)).encode("ascii", "replace")
        return self.text.mask(result)


def iter_blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Regroup raw reads into blocks of complete lines.

    A partial last line is held back until its newline arrives (or the input ends). A line
    longer than 4 MiB is cut at its last space or quote so memory stays bounded; addresses
    never contain either, so no address is split.
    """
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) > _MAX_PARTIAL_LINE:
            cut = max(data.rfind(b" "), data.rfind(b'"')) + 1
        if cut:
            yield data[:cut]
            pending = data[cut:]
        else:
            pending = data
    if pending:
        yield pending
