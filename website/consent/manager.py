"""The consent manager for one app: the catalog, the decision cookie, recording and GPC.

Views call :func:`current_decision` to learn what the visitor decided and :func:`record` to store
a new decision; both keep their result on ``flask.g`` so that the response hook can set the cookie
and expire the cookies of refused services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from itsdangerous import BadData

from . import storage
from .catalog import Catalog, load_catalog
from .decision import COOKIE_NAME, Decision, DecisionCookie, new_consent_id, no_choice, resolve
from .gpc import gpc_enabled
from .receipts import Notice, Receipt, build_receipt
from .texts import TEXTS, notice_content, purposes


@dataclass
class ConsentManager:
    catalog: Catalog
    cookie: DecisionCookie
    max_age: int
    notices: dict[str, Notice] = field(default_factory=dict)
    #: Per language, the parts of the banner's config that never change while the app runs.
    banner_static: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def for_app(cls, app: Flask) -> ConsentManager:
        catalog = load_catalog(app.config["CONSENT_CATALOG"])
        max_age = int(app.config["CONSENT_MAX_AGE_DAYS"]) * 86400
        notices = {
            lang: Notice.of(catalog.revision, lang, notice_content(catalog, lang)) for lang in TEXTS
        }
        banner_static = {lang: _banner_static(catalog, lang) for lang in TEXTS}
        cookie = DecisionCookie(app.config["SECRET_KEY"], max_age)
        return cls(catalog, cookie, max_age, notices, banner_static)

    @cached_property
    def undecided_services(self) -> dict[str, bool]:
        """Which services may load before any decision: only the required ones."""
        return no_choice(self.catalog)[1]


def _banner_static(catalog: Catalog, lang: str) -> dict[str, Any]:
    categories = catalog.localized(lang)
    for entry, category in zip(categories, catalog.categories, strict=True):
        entry["google_consent"] = list(category.google_consent)
    return {
        "texts": {**TEXTS[lang], "purposes": purposes(catalog, lang)},
        "categories": categories,
    }


def manager() -> ConsentManager:
    return current_app.extensions["consent"]


def current_decision() -> Decision | None:
    """The visitor's valid decision for the current catalog revision, if any."""
    if "consent_decision" not in g:
        g.consent_decision = manager().cookie.loads(
            request.cookies.get(COOKIE_NAME), manager().catalog
        )
    return g.consent_decision


def decision_honouring_gpc(lang: str) -> Decision | None:
    """The current decision; with ``Sec-GPC: 1`` and none yet, a refusal recorded once."""
    decision = current_decision()
    if decision is None and gpc_enabled(request.headers):
        categories, services = no_choice(manager().catalog)
        record(categories, services, method="gpc", action="reject_all", lang=lang,
               page_path=request.path)
        decision = current_decision()
    return decision


def _known_consent_id() -> str | None:
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
    return consent_id if isinstance(consent_id, str) and len(consent_id) <= 64 else None


def record(
    categories: dict[str, bool],
    services: dict[str, bool] | None,
    *,
    method: str,
    action: str,
    lang: str,
    page_path: str,
    decision_id: str | None = None,
) -> Receipt:
    """Store a receipt for this choice, then make it the visitor's decision (cookie on reply).

    With a ``decision_id`` already stored (a retry whose first answer was lost), the stored
    receipt and its decision stand and nothing new is recorded.
    """
    consent = manager()
    categories, services = resolve(consent.catalog, categories, services)
    consent_id = _known_consent_id() or new_consent_id()
    decision = Decision(consent_id, consent.catalog.revision, categories, services, method)
    receipt = build_receipt(
        decision,
        notice=consent.notices[lang],
        action=action,
        page_path=page_path,
        remote_addr=request.remote_addr,
        user_agent=request.user_agent.string,
        decision_id=decision_id,
    )
    stored = storage.get_store().add(receipt, consent.notices[lang])
    if stored is not receipt:
        decision = Decision(
            stored.consent_id,
            stored.revision,
            stored.categories,
            stored.services,
            stored.method,
            stored.created_at,
        )
        receipt = stored
    g.consent_decision = decision
    g.consent_cookie_update = decision
    g.consent_expire = _cookies_to_expire(decision, withdrawal=action == "withdraw")
    return receipt


def _cookies_to_expire(decision: Decision, *, withdrawal: bool) -> list[str]:
    """First-party cookies of refused services: those the browser sent, and on withdrawal every
    exact name the catalog lists whether sent or not."""
    names: set[str] = set()
    for service in manager().catalog.services:
        if decision.allows(service.name):
            continue
        for cookie in service.cookies:
            if withdrawal and not cookie.is_pattern:
                names.add(cookie.name)
            names.update(sent for sent in request.cookies if cookie.matches(sent))
    names.discard(COOKIE_NAME)
    return sorted(names)


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
    parts = urlsplit(url)
    if (parts.scheme or parts.netloc) and (
        parts.netloc != request.host or parts.scheme not in ("http", "https")
    ):
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def update_response(response: Response) -> Response:
    """Set the decision cookie and expire refused cookies; mark cookie-dependent pages."""
    decision: Decision | None = g.pop("consent_cookie_update", None)
    if decision is not None:
        response.set_cookie(
            COOKIE_NAME,
            manager().cookie.dumps(decision),
            max_age=manager().max_age,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else ""
        for name in g.pop("consent_expire", []):
            for domain in _cookie_domains(host):
                response.delete_cookie(name, path="/", domain=domain)
    if response.mimetype == "text/html":
        response.vary.update(("Cookie", "Accept-Language", "Sec-GPC"))
    return response
