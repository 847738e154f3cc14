"""Pages rendered once per variant and kept as skeletons; each request fills in only its own
script nonce and CSRF token.

Rendering a page with Jinja costs more CPU than all the rest of a request, yet the public pages
(home, privacy policy, imprint) differ between visitors only in a few ways, all known here: the
URL (path and query: the forms' ``next`` field, the language links), the language, the consent
decision (which tags load, whether the banner shows, the banner's state) and the GPC signal.
For each such variant the page is rendered once with two markers in place of the nonce and the
token; a request that hits a skeleton gets it with the markers replaced by its own values.

The cache is per process and bounded (least recently used pages go first), so a crawler that
sends endless query strings costs a render per URL, as without the cache, and no more memory.
A page that shows anything else about the visitor (their receipts, a form's errors) must be
rendered with ``render_template``; tests/site/test_page_cache.py renders every cached page in
every variant both ways and compares.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import generate_csrf

from .consent.gpc import gpc_enabled
from .consent.manager import current_decision
from .i18n import select_language
from .security import csp_nonce

#: Rendered variants kept per process (a page is about 20 KB).
MAX_PAGES = 256


class PageCache:
    """Skeletons by variant, least recently used evicted first; safe across threads."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        # Random per process: a page's own text can never contain them by chance.
        self.nonce_mark = f"nonce-{secrets.token_hex(16)}"
        self.token_mark = f"token-{secrets.token_hex(16)}"
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        #: Requests served from a skeleton (for tests and curious operators).
        self.hits = 0

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                self.hits += 1
            return page

    def put(self, key: Hashable, page: str) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def variant() -> Hashable:
    """Everything about this request that a cached page may depend on."""
    decision = current_decision()
    decided = (
        None
        if decision is None
        else (
            decision.revision,
            decision.method,
            tuple(sorted(decision.categories.items())),
            tuple(sorted(decision.services.items())),
        )
    )
    return (request.full_path, select_language(), gpc_enabled(request.headers), decided)


def render_cached(template: str, **context: Any) -> str:
    """``render_template(template, **context)`` from a skeleton when this variant was rendered
    before. ``context`` must follow from the URL alone (it is not part of the key)."""
    cache: PageCache | None = current_app.extensions.get("page_cache")
    if cache is None:
        return render_template(template, **context)
    key = (template, variant())
    page = cache.get(key)
    if page is None:
        page = render_template(
            template,
            csp_nonce=lambda: cache.nonce_mark,
            csrf_token=lambda: cache.token_mark,
            **context,
        )
        cache.put(key, page)
    page = page.replace(cache.nonce_mark, csp_nonce())
    if cache.token_mark in page:  # as rendering would, only a page with a form sets a token
        page = page.replace(cache.token_mark, generate_csrf())
    return page


def init_app(app: Flask) -> None:
    """Cache pages unless ``PAGE_CACHE`` is off (tests compare both ways)."""
    if app.config.get("PAGE_CACHE", True):
        app.extensions["page_cache"] = PageCache(int(app.config.get("PAGE_CACHE_SIZE", MAX_PAGES)))
