"""Rate limits for the visitor-rights pages, the contact form and the channel API.

One Flask-Limiter for the whole app, keyed by the client address (behind nginx that is the
address ProxyFix took from ``X-Forwarded-For``; ``TRUSTED_PROXIES``). Its counters live where
``RATELIMIT_STORAGE_URI`` says: ``memory://`` (the default) counts per process, so with several
gunicorn workers or nodes give a shared store such as ``redis://host:6379`` (install the
``redis`` package) and every node counts against the same limit. Limits are read from the
config on each request, so tests and operators set them (``RIGHTS_RATE_LIMIT`` ...); a limit is
a string in the ``limits`` notation, e.g. ``"30 per minute; 300 per day"``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Config key -> default; each may also come from the environment variable of the same name.
DEFAULTS = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RIGHTS_RATE_LIMIT": "30 per minute; 300 per day",
    "RIGHTS_ERASE_RATE_LIMIT": "5 per hour",
    "CONTACT_RATE_LIMIT": "5 per 10 minutes; 20 per day",
    "CHANNEL_RATE_LIMIT": "120 per minute",
}


def configured(key: str) -> Callable[[], str]:
    """The limit named ``key`` in the running app's config (read per request)."""
    return lambda: current_app.config[key]


def init_app(app: Flask) -> Limiter:
    """A limiter of this app's own (Flask-Limiter keeps per-app state on the instance, so two
    apps in one process, as in the tests, must not share one)."""
    for key, default in DEFAULTS.items():
        app.config.setdefault(key, os.environ.get(key) or default)
    # A limit answers 429 through the app's error pages, with Retry-After.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    limited: set[str] = set()

    @limiter.request_filter
    def unlimited_endpoint() -> bool:
        """Only the endpoints :func:`limit` names have limits (there are no defaults): every
        other request, ``POST /consent`` and the pages among them, skips the limiter's lookup
        of decorated, default and blueprint limits (0.2 M instructions a request,
        ``make bench-site-instructions``)."""
        return request.endpoint not in limited

    app.extensions["rights_limiter"] = limiter
    app.extensions["rate_limited_endpoints"] = limited
    return limiter


def limit(app: Flask, endpoint: str, key: str, *, scope: str | None = None) -> None:
    """Put the limit ``app.config[key]`` on one registered endpoint; endpoints with the same
    ``scope`` count against one shared budget. Every limit goes through here: the limiter
    skips any endpoint this has not named."""
    limiter: Limiter = app.extensions["rights_limiter"]
    app.extensions["rate_limited_endpoints"].add(endpoint)
    view = app.view_functions[endpoint]
    if scope:
        app.view_functions[endpoint] = limiter.shared_limit(configured(key), scope=scope)(view)
    else:
        app.view_functions[endpoint] = limiter.limit(configured(key))(view)
