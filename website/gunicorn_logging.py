"""gunicorn logger that masks client addresses in the access log *and* the error log.

Used by ``gunicorn.conf.py`` (``logger_class``), so no log the site writes holds a raw IP
address:

* Access log: every string atom is masked (the client ``%(h)s``, the request line, the referrer,
  all request and response headers such as ``X-Forwarded-For``) and the user agent is reduced
  to browser / OS / device. ``LOG_KEEP_USER_AGENT=1`` keeps user agents unreduced.
* Error log: gunicorn writes the client's address (``Invalid request from ip=...``) and raw
  request lines (``GET /?ip=...``) there, and tracebacks may quote request data. Every handler
  of the error log formats through :class:`MaskingFormatter`, which masks the finished text
  (message and traceback). The root logger gets the same handlers, so what the application
  logs (Flask's ``Exception on /path [POST]``) goes through the same masking instead of
  Flask's own handler, which would write to ``wsgi.errors`` unmasked.

``LOG_IPV4_PREFIX`` and ``LOG_IPV6_PREFIX`` (default 24 and 48 bits) set how much is kept.
The masking rules are the shared ones (``privacy.ipmask``), so both logs agree.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from gunicorn.glogging import Logger

from privacy.ipmask import TextMasker
from privacy.useragent import reduce_user_agent

_USER_AGENT_ATOMS = ("a", "{user-agent}i")
#: Atoms gunicorn computes itself (time, status, sizes, durations, pid, method, protocol): they
#: cannot hold an address, so they are not masked. Everything else a format names is.
_COMPUTED_ATOMS = frozenset("tsbBTDMLpmHl")
#: ``%(name)s`` in an access-log format; ``{header}i`` names are looked up lower-cased.
_FORMAT_ATOM = re.compile(r"%\(([^)]+)\)")


def used_atoms(access_log_format: str) -> frozenset[str]:
    """The atoms an access-log format writes: only these are masked (and computed)."""
    return frozenset(
        name.lower() if name.startswith("{") else name
        for name in _FORMAT_ATOM.findall(access_log_format)
    )


def _masker() -> TextMasker:
    return TextMasker(
        int(os.environ.get("LOG_IPV4_PREFIX", "24")),
        int(os.environ.get("LOG_IPV6_PREFIX", "48")),
    )


def mask_text(masker: TextMasker, value: str) -> str:
    """``value`` with every address masked; undecodable bytes pass through unchanged."""
    data = value.encode("utf-8", "surrogateescape")
    return masker.mask(data).decode("utf-8", "surrogateescape")


class MaskingFormatter(logging.Formatter):
    """Formats a record with another formatter, then masks every address in the result."""

    def __init__(self, inner: logging.Formatter | None, masker: TextMasker) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self._masker = masker

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(self._masker, self.inner.format(record))


class MaskingLogger(Logger):
    """``atoms()`` is where gunicorn collects the values of an access-log line; ``setup()`` is
    where it (re)creates the error log's handlers, on start and on every configuration reload."""

    def __init__(self, cfg: Any) -> None:
        self._text = _masker()
        self._error_text = _masker()  # its own cache: the two logs are written from any thread
        self._keep_user_agent = os.environ.get("LOG_KEEP_USER_AGENT", "") not in ("", "0")
        super().__init__(cfg)

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._used_atoms = used_atoms(cfg.access_log_format)
        for handler in self.error_log.handlers:
            if not isinstance(handler.formatter, MaskingFormatter):
                handler.setFormatter(MaskingFormatter(handler.formatter, self._error_text))
        # The application's records propagate to the root logger: give it the error log's
        # (masking) handlers, replacing those of a previous setup.
        root = logging.getLogger()
        for handler in getattr(self, "_root_handlers", ()):
            root.removeHandler(handler)
        self._root_handlers = list(self.error_log.handlers)
        for handler in self._root_handlers:
            root.addHandler(handler)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        # gunicorn offers every request and response header and every environ variable as an
        # atom; only those the format writes are kept, so only those need masking (an atom the
        # format names but the request lacks is written as "-" by gunicorn's SafeAtoms).
        every = super().atoms(resp, req, environ, request_time)
        atoms = {key: every[key] for key in self._used_atoms if key in every}
        if not self._keep_user_agent:
            for key in _USER_AGENT_ATOMS:
                agent = atoms.get(key)
                if isinstance(agent, str) and agent not in ("", "-"):
                    atoms[key] = str(reduce_user_agent(agent))
        return {
            key: mask_text(self._text, value)
            if isinstance(value, str) and key not in _COMPUTED_ATOMS
            else value
            for key, value in atoms.items()
        }

