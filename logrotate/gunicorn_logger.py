"""gunicorn access logger that masks addresses and reduces user agents before writing.

Used by ``gunicorn.conf.py`` (``logger_class``), so the site's own access log never holds a
raw IP address. Every string atom is masked: the client (``%(h)s``), the request line, the
referrer and all request and response headers (``X-Forwarded-For``, ``X-Real-IP``...).
Set ``LOG_KEEP_USER_AGENT=1`` to keep user agents unreduced.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from .ipmask import TextMasker
from .useragent import reduce_user_agent

_USER_AGENT_ATOMS = ("a", "{user-agent}i")


class MaskingLogger(Logger):
    """``atoms()`` is where gunicorn collects the values of an access-log line."""

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self._text = TextMasker(
            int(os.environ.get("LOG_IPV4_PREFIX", "24")),
            int(os.environ.get("LOG_IPV6_PREFIX", "48")),
        )
        self._keep_user_agent = os.environ.get("LOG_KEEP_USER_AGENT", "") not in ("", "0")

    def _mask(self, value: str) -> str:
        data = value.encode("utf-8", "surrogateescape")
        return self._text.mask(data).decode("utf-8", "surrogateescape")

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        if not self._keep_user_agent:
            for key in _USER_AGENT_ATOMS:
                agent = atoms.get(key)
                if isinstance(agent, str) and agent not in ("", "-"):
                    atoms[key] = str(reduce_user_agent(agent))
        return {
            key: self._mask(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
