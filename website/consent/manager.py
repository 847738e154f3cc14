"""The consent manager for one app: the catalog, the decision cookie, recording and GPC.

A decision flows one way: the view parses a :class:`~.choice.Choice`, :func:`resolve_choice`
decides what it means, :func:`record` stores its receipt and returns a :class:`Recorded`, and
the view answers and writes the cookies with :func:`write_cookies`. Nothing is handed back
through ``flask.g``, and nothing but an explicit POST writes a receipt.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, session
from itsdangerous import BadData

from .. import __version__
from ..i18n import select_language
from ..legal import load_legal_text
from . import storage
from .catalog import Catalog, load_catalog
from .choice import Resolved
from .decision import COOKIE_NAME, Decision, DecisionCookie, new_consent_id, no_choice
from .gpc import GpcViewCounter, gpc_enabled
from .receipts import Notice, Receipt, build_receipt
from .texts import TEXTS, first_layer, notice_content


@dataclass
class ConsentManager:
    catalog: Catalog
    cookie: DecisionCookie
    max_age: int
    secret_key: str
    notices: dict[str, Notice] = field(default_factory=dict)
    #: Per language, the parts of the banner's config that never change while the app runs.
    banner_static: dict[str, dict[str, Any]] = field(default_factory=dict)
    gpc_views: GpcViewCounter = field(default_factory=GpcViewCounter)

    @classmethod
    def for_app(cls, app: Flask) -> ConsentManager:
        catalog = load_catalog(app.config["CONSENT_CATALOG"])
        max_age = int(app.config["CONSENT_MAX_AGE_DAYS"]) * 86400
        notices = {
            lang: Notice.of(catalog.revision, lang, notice_content(catalog, lang)) for lang in TEXTS
        }
        banner_static = {lang: _banner_static(catalog, lang) for lang in TEXTS}
        cookie = DecisionCookie(app.config["SECRET_KEY"], max_age)
        counter = GpcViewCounter(float(app.config.get("GPC_FLUSH_SECONDS", 60)))
        return cls(
            catalog, cookie, max_age, app.config["SECRET_KEY"], notices, banner_static, counter
        )

    @cached_property
    def undecided_services(self) -> dict[str, bool]:
        """Which services may load before any decision: only the required ones."""
        return no_choice(self.catalog)[1]


def _banner_static(catalog: Catalog, lang: str) -> dict[str, Any]:
    return {
        "texts": {**TEXTS[lang], **first_layer(catalog, lang)},
        "categories": catalog.localized(lang),
    }


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` stored: the receipt, the decision it makes, the cookies to expire."""

    receipt: Receipt
    decision: Decision
    expire: tuple[str, ...]
    new: bool


def manager() -> ConsentManager:
    return current_app.extensions["consent"]


def current_decision() -> Decision | None:
    """The visitor's valid decision for the current catalog revision, if any (from the cookie).

    A ``Sec-GPC: 1`` visitor without one is *not* given a decision: GPC is honoured statelessly
    (see :func:`gpc_honoured`), so that no GET request ever writes a receipt.
    """
    return manager().cookie.loads(request.cookies.get(COOKIE_NAME), manager().catalog)


def gpc_honoured(decision: Decision | None) -> bool:
    """GPC decides this request: the signal is sent and the visitor made no choice of their own.

    Everything optional stays off and the first layer is not shown; the refusal needs no proof,
    so nothing is stored but an aggregate count of such page views.
    """
    return gpc_enabled(request.headers) and decision is None


def known_consent_id() -> str | None:
    """The consent id of a genuine earlier cookie, even an expired or outdated one, so that a
    visitor's history stays one history across catalog revisions."""
    value = request.cookies.get(COOKIE_NAME)
    if not value:
        return None
    try:
        payload = manager().cookie.serializer.loads(value)
    except BadData:
        return None
    consent_id = payload.get("i") if isinstance(payload, dict) else None
    return consent_id if isinstance(consent_id, str) and 0 < len(consent_id) <= 64 else None


def _session_consent_id() -> str | None:
    """The consent id a first decision gets in this browser session.

    It is derived from the session's CSRF secret (which the page that showed the banner set),
    so a retry whose first answer was lost lands on the same id and stores nothing twice, while
    another browser that replays the same ``decision_id`` gets an id of its own.
    """
    secret = session.get("csrf_token")
    if not isinstance(secret, str) or not secret:
        return None
    digest = hmac.new(
        manager().secret_key.encode(), b"first-consent-id:" + secret.encode(), hashlib.sha256
    ).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def record(resolved: Resolved) -> Recorded:
    """Store a receipt for this resolved choice and return what it decided.

    A retry of a decision this visitor already stored (same consent id and ``decision_id``)
    stores nothing new: the stored receipt and its decision stand.
    """
    consent = manager()
    lang = resolved.lang or select_language()
    consent_id = known_consent_id() or _session_consent_id() or new_consent_id()
    decision = Decision(
        consent_id, consent.catalog.revision, resolved.categories, resolved.services,
        resolved.method,
    )
    policy = load_legal_text(current_app.config["LEGAL_TEXTS_DIR"], "datenschutz", lang)
    receipt = build_receipt(
        decision,
        notice=consent.notices[lang],
        action=resolved.action,
        page_path=_page_path(),
        remote_addr=request.remote_addr,
        user_agent=request.user_agent.string,
        decision_id=resolved.decision_id,
        policy_version=policy.as_of.isoformat() if policy.as_of else "",
        policy_hash=policy.content_hash,
        app_version=__version__,
        expires_at=decision.decided_at + timedelta(seconds=consent.max_age),
        gpc=gpc_enabled(request.headers),
    )
    stored = storage.get_store().add(receipt, consent.notices[lang])
    new = stored.receipt_id == receipt.receipt_id
    if not new:
        decision = Decision(
            stored.consent_id,
            stored.revision,
            stored.categories,
            stored.services,
            stored.method,
            stored.created_at,
        )
    expire = _cookies_to_expire(decision.allows, withdrawal=stored.action == "withdraw")
    return Recorded(stored, decision, expire, new)


def _page_path() -> str:
    """Where the visitor decided: the form's ``next`` or the referring page, without query."""
    for candidate in (request.form.get("next"), request.referrer):
        path = same_origin_path(candidate)
        if path:
            return path.split("?", 1)[0]
    return request.path


def _cookies_to_expire(allows: Callable[[str], bool], *, withdrawal: bool) -> tuple[str, ...]:
    """First-party cookies of refused services (``allows(service)`` false): those the browser
    sent, and on withdrawal every exact name the catalog lists whether sent or not."""
    names: set[str] = set()
    for service in manager().catalog.services:
        if allows(service.name):
            continue
        for cookie in service.cookies:
            if cookie.kind != "cookie":
                continue
            if withdrawal and not cookie.is_pattern:
                names.add(cookie.name)
            names.update(sent for sent in request.cookies if cookie.matches(sent))
    names.discard(COOKIE_NAME)
    return tuple(sorted(names))


def _request_host() -> str:
    """The request's host name without the port; "" for an IPv6 literal."""
    return request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else ""


def _cookie_domains(host: str) -> list[str | None]:
    """Where a cookie for this host may live: host-only, the host, and its parent domain."""
    labels = host.split(".")
    if len(labels) < 2 or host.replace(".", "").isdigit() or ":" in host:
        return [None]
    domains: list[str | None] = [None, host]
    if len(labels) > 2:
        domains.append(".".join(labels[1:]))
    return domains


def same_origin_path(url: str | None) -> str | None:
    """The path of a same-origin URL or path, or None for anything pointing elsewhere."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/" (fuzzed Referer): not a URL, so not same-origin
        return None
    if (parts.scheme or parts.netloc) and (
        parts.netloc != request.host or parts.scheme not in ("http", "https")
    ):
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def shared_cookie_domain(host: str) -> str | None:
    """``CONSENT_COOKIE_DOMAIN`` when this host lies in it (``shop.example.com`` in
    ``example.com``), so one decision holds for every subdomain; None (a host-only cookie) for
    any other host, whose browser would refuse the cookie."""
    shared = (current_app.config.get("CONSENT_COOKIE_DOMAIN") or "").strip(".").lower()
    host = host.lower()
    if shared and (host == shared or host.endswith("." + shared)):
        return shared
    return None


def write_cookies(response: Response, recorded: Recorded) -> Response:
    """Set the decision cookie and expire the cookies of refused services.

    With ``CONSENT_COOKIE_DOMAIN`` the decision cookie lives on that domain (a host-only one
    from before is expired, so it cannot shadow it), and refused services' cookies are also
    expired there. A cookie another subdomain set host-only is never sent here and so cannot
    be expired from here (docs/banner.md)."""
    host = _request_host()
    shared = shared_cookie_domain(host)
    if shared:
        response.delete_cookie(COOKIE_NAME, path="/")
    response.set_cookie(
        COOKIE_NAME,
        manager().cookie.dumps(recorded.decision),
        max_age=manager().max_age,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
        domain=shared,
    )
    _expire(response, recorded.expire, host, shared)
    return response


def _expire(response: Response, names: Iterable[str], host: str, shared: str | None) -> None:
    domains = _cookie_domains(host)
    if shared and shared not in domains:
        domains.append(shared)
    for name in names:
        for domain in domains:
            response.delete_cookie(name, path="/", domain=domain)


def expire_consent_cookies(response: Response) -> Response:
    """Forget this browser's consent, for the visitor's own erasure (``/meine-daten``): the
    decision cookie, and what a withdrawal expires (every optional service's cookies: each
    exact name the catalog lists, each sent cookie a pattern matches), on every domain where
    :func:`write_cookies` may have put them (host-only, the host, its parent, the shared
    ``CONSENT_COOKIE_DOMAIN``)."""
    host = _request_host()
    _, required_only = no_choice(manager().catalog)
    names = _cookies_to_expire(lambda service: required_only.get(service, False), withdrawal=True)
    _expire(response, (COOKIE_NAME, *names), host, shared_cookie_domain(host))
    return response


def mark_response(response: Response) -> Response:
    """After every request: pages depend on the cookie, the language and GPC; count the page
    views on which GPC decided (in memory, flushed to an aggregate daily count)."""
    if response.mimetype == "text/html":
        response.vary.update(("Cookie", "Accept-Language", "Sec-GPC"))
        if (
            request.method == "GET"
            and response.status_code == 200
            # The header first: the decision cookie's signature is checked only under GPC.
            and gpc_enabled(request.headers)
            and gpc_honoured(current_decision())
        ):
            manager().gpc_views.count()
    return response
