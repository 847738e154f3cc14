"""HTTP endpoints of the consent manager: the banner's API, the form posts and the settings page.

``GET /consent`` tells the state; ``POST /consent`` records a choice (JSON from the banner, or a
plain form without JavaScript); ``POST /consent/withdraw`` records a withdrawal;
``GET /cookie-einstellungen`` is the settings and withdrawal page; ``GET /consent/receipts`` hands
a visitor their own receipts; ``GET /consent/catalog.<revision>.<lang>.json`` is the second
layer's catalog, cacheable for ever because its URL changes with the revision. Only the two
POST endpoints write.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from ..errors import FORM_TYPES, BadInput
from ..i18n import LANGUAGES
from . import storage
from .choice import parse_choice, resolve_choice
from .decision import Decision, state
from .gpc import gpc_enabled
from .manager import (
    Recorded,
    current_decision,
    gpc_honoured,
    manager,
    record,
    same_origin_path,
    write_cookies,
)
from .texts import second_layer

bp = Blueprint("consent", __name__)


@bp.before_request
def refuse_cross_site() -> None:
    """A browser marks requests from other sites; such a post records nothing."""
    if request.method == "POST" and request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise BadInput(_l("Cross-site requests cannot record consent."), 403)


def state_json(decision: Decision | None) -> dict[str, Any]:
    return {**state(manager().catalog, decision), "gpc": gpc_enabled(request.headers)}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response


@bp.get("/consent")
def consent_state() -> Response:
    """The visitor's state, and a CSRF token for the banner when the page's one went stale
    (readable only by this site's own pages: no CORS)."""
    return _no_store(jsonify({**state_json(current_decision()), "csrf_token": generate_csrf()}))


def _answer(recorded: Recorded) -> Response:
    """303 back to the page for a form; the new state and the receipt id for JSON."""
    if request.mimetype in FORM_TYPES:
        target = same_origin_path(request.form.get("next")) or same_origin_path(
            request.referrer
        ) or url_for("pages.home")
        response = redirect(target, code=303)
    else:
        response = _no_store(
            jsonify({**state_json(recorded.decision), "receipt_id": recorded.receipt.receipt_id})
        )
    return write_cookies(response, recorded)


@bp.post("/consent")
def save_choice() -> Response:
    choice = parse_choice(request, manager().catalog)
    return _answer(record(resolve_choice(manager().catalog, choice)))


@bp.post("/consent/withdraw")
def withdraw() -> Response:
    choice = parse_choice(request, manager().catalog, withdrawal=True)
    return _answer(record(resolve_choice(manager().catalog, choice)))


@bp.get("/consent/catalog.<revision>.<lang>.json")
def catalog_file(revision: str, lang: str) -> Response:
    """The second layer's texts and catalog for one revision and language.

    The URL names the revision, so the answer never changes: browsers and proxies may keep it
    for a year without asking again (``immutable``). An unknown revision or language is a 404
    in JSON (an old page asking after the catalog changed reloads the settings page instead).
    """
    consent = manager()
    if revision != consent.catalog.revision or lang not in LANGUAGES:
        known = f"catalog.{consent.catalog.revision}.{{{','.join(LANGUAGES)}}}.json"
        response = jsonify(
            error="not_found",
            message=f"No such catalog revision or language; this site serves {known}.",
        )
        response.status_code = 404
        return _no_store(response)
    cache: dict[str, bytes] = consent.__dict__.setdefault("_catalog_files", {})
    if lang not in cache:
        body = second_layer(consent.catalog, lang)
        body["links"] = {"privacy": url_for("pages.privacy"), "imprint": url_for("pages.imprint")}
        cache[lang] = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(cache[lang], mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/consent/receipts")
def my_receipts() -> Response:
    """A visitor's own receipts (their consent history) as a JSON download."""
    decision = current_decision()
    receipts = storage.get_store().history(decision.consent_id) if decision else []
    response = jsonify([r.as_json() for r in receipts])
    response.headers["Content-Disposition"] = 'attachment; filename="consent-receipts.json"'
    return _no_store(response)


@bp.get("/cookie-einstellungen")
def settings_page() -> str:
    decision = current_decision()
    try:
        history: list[Any] | None = (
            storage.get_store().history(decision.consent_id) if decision else []
        )
    except storage.StorageError:
        history = None  # the page still works; the template says the history is unavailable
    return render_template(
        "consent/settings.html",
        decision=decision,
        history=list(reversed(history)) if history is not None else None,
        gpc=gpc_enabled(request.headers),
        gpc_honoured=gpc_honoured(decision),
    )
