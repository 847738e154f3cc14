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

from flask import Flask, current_app
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

limiter = Limiter(key_func=get_remote_address)


def configured(key: str) -> Callable[[], str]:
    """The limit named ``key`` in the running app's config (read per request)."""
    return lambda: current_app.config[key]


def init_app(app: Flask) -> Limiter:
    for key, default in DEFAULTS.items():
        app.config.setdefault(key, os.environ.get(key) or default)
    # Only routes that say so are limited; a limit answers 429 through the app's error pages.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    return limiter
