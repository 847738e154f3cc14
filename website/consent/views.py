"""HTTP endpoints of the consent manager: the banner's API, the form posts and the settings page.

``GET /consent`` tells the state; ``POST /consent`` records a choice (JSON from the banner, or a
plain form without JavaScript); ``POST /consent/withdraw`` records a withdrawal;
``GET /cookie-einstellungen`` is the settings and withdrawal page; ``GET /consent/receipts`` hands
a visitor their own receipts.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from ..bodies import parse_json
from ..errors import FORM_TYPES, BadInput
from ..i18n import select_language
from . import storage
from .decision import Decision, no_choice, resolve, state
from .gpc import gpc_enabled
from .manager import (
    current_decision,
    decision_honouring_gpc,
    manager,
    record,
    same_origin_path,
)

bp = Blueprint("consent", __name__)

JSON_KEYS = {"categories", "services", "source", "decision_id"}
_DECISION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
JSON_SOURCES = ("banner", "settings", "api")
TRUE_VALUES = {"on", "1", "true", "yes"}


@bp.before_request
def refuse_cross_site() -> None:
    """A browser marks requests from other sites; such a post records nothing."""
    if request.method == "POST" and request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise BadInput("Cross-site requests cannot record consent.", 403)


def state_json(decision: Decision | None) -> dict[str, Any]:
    return {**state(manager().catalog, decision), "gpc": gpc_enabled(request.headers)}


@bp.get("/consent")
def consent_state() -> Response:
    return jsonify(state_json(decision_honouring_gpc(select_language())))


def _action(decision_services: dict[str, bool]) -> str:
    optional = [
        decision_services[s.name]
        for c in manager().catalog.optional_categories
        for s in c.services
    ]
    if all(optional):
        return "accept_all"
    if not any(optional):
        return "reject_all"
    return "custom"


def _check_names(names: dict[str, Any], kind: str) -> None:
    catalog = manager().catalog
    for name, value in names.items():
        known = catalog.category(name) if kind == "category" else catalog.service(name)
        if known is None:
            raise BadInput(f"Unknown {kind} {name!r}.")
        if not isinstance(value, bool):
            given = type(value).__name__
            raise BadInput(f"The {kind} {name!r} must be true or false, not a {given}.")
        required = known.required if kind == "category" else catalog.category(
            known.category
        ).required
        if required and value is False:
            raise BadInput(f"The {kind} {name!r} is essential and cannot be refused.")


def _json_object(*, allow_empty: bool = False) -> dict[str, Any]:
    raw = request.get_data(cache=True)  # raises 413 above MAX_CONTENT_LENGTH
    if allow_empty and not raw.strip():
        return {}
    try:
        body = parse_json(raw)  # bounded nesting: deep JSON is a 400, not a RecursionError
    except (ValueError, UnicodeDecodeError):
        raise BadInput("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadInput("The request body must be a JSON object.")
    return body


def _decision_id(body: dict[str, Any]) -> str | None:
    """The client's idempotency key: the same decision sent again is stored once."""
    value = body.get("decision_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _DECISION_ID.match(value):
        raise BadInput('"decision_id" must be 16 to 64 letters, digits, "-" or "_".')
    return value


def _json_method(body: dict[str, Any]) -> str:
    source = body.get("source", "api")
    if source not in JSON_SOURCES:
        raise BadInput('"source" must be "banner", "settings" or "api".')
    return source


def _choice_from_json() -> tuple[dict[str, bool], dict[str, bool], str, str | None]:
    body = _json_object()
    unknown = set(body) - JSON_KEYS
    if unknown:
        raise BadInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    categories = body.get("categories")
    services = body.get("services", {})
    if not isinstance(categories, dict):
        raise BadInput('"categories" must be an object of category names and true/false.')
    if not isinstance(services, dict):
        raise BadInput('"services" must be an object of service names and true/false.')
    _check_names(categories, "category")
    _check_names(services, "service")
    return categories, services, _json_method(body), _decision_id(body)


def _form_method() -> str:
    """A plain form post: from the settings page, or the no-JS banner and embeds."""
    return "settings" if request.form.get("source") == "settings" else "form"


def _choice_from_form() -> tuple[dict[str, bool], dict[str, bool], str, None]:
    """A form's choice. ``accept_all`` and ``reject_all`` speak for themselves; with ``save``, a
    ticked category grants all its services unless some of its services are ticked, which then
    are exactly the ones granted; an unticked category grants none."""
    catalog = manager().catalog
    form = request.form
    action = form.get("action", "")
    if action not in ("accept_all", "reject_all", "save"):
        raise BadInput('"action" must be accept_all, reject_all or save.')
    ticked_categories: set[str] = set()
    ticked_services: set[str] = set()
    for field, value in form.items(multi=True):
        kind, _, name = field.partition("-")
        if kind not in ("category", "service") or not name:
            continue
        if (catalog.category(name) if kind == "category" else catalog.service(name)) is None:
            raise BadInput(f"Unknown {kind} {name!r}.")
        if value.lower() in TRUE_VALUES:
            (ticked_categories if kind == "category" else ticked_services).add(name)
    if action != "save":
        granted = action == "accept_all"
        return {c.name: granted for c in catalog.optional_categories}, {}, _form_method(), None
    categories: dict[str, bool] = {}
    services: dict[str, bool] = {}
    for category in catalog.optional_categories:
        on = category.name in ticked_categories
        chosen = {s.name for s in category.services} & ticked_services
        categories[category.name] = on
        for service in category.services:
            services[service.name] = on and (not chosen or service.name in chosen)
    return categories, services, _form_method(), None


def _read_choice() -> tuple[dict[str, bool], dict[str, bool], str, str | None]:
    if request.mimetype == "application/json":
        return _choice_from_json()
    if request.mimetype in FORM_TYPES:
        return _choice_from_form()
    raise BadInput(
        "Send the choice as application/json or as a form (application/x-www-form-urlencoded).",
        415,
    )


def _page_path() -> str:
    for candidate in (request.form.get("next"), request.referrer):
        path = same_origin_path(candidate)
        if path:
            return path.split("?", 1)[0]
    return request.path


def _reply(decision: Decision, receipt_id: str) -> Response:
    if request.mimetype in FORM_TYPES:
        target = same_origin_path(request.form.get("next")) or same_origin_path(
            request.referrer
        ) or url_for("pages.home")
        return redirect(target, code=303)
    return jsonify({**state_json(decision), "receipt_id": receipt_id})


def _record_and_reply(
    categories: dict[str, bool],
    services: dict[str, bool],
    *,
    method: str,
    action: str,
    decision_id: str | None,
) -> Response:
    receipt = record(
        categories,
        services,
        method=method,
        action=action,
        lang=select_language(),
        page_path=_page_path(),
        decision_id=decision_id,
    )
    return _reply(current_decision(), receipt.receipt_id)  # type: ignore[arg-type]


@bp.post("/consent")
def save_choice() -> Response:
    categories, services, method, decision_id = _read_choice()
    categories, services = resolve(manager().catalog, categories, services)
    return _record_and_reply(
        categories, services, method=method, action=_action(services), decision_id=decision_id
    )


@bp.post("/consent/withdraw")
def withdraw() -> Response:
    decision_id = None
    if request.mimetype == "application/json":
        body = _json_object(allow_empty=True)
        if set(body) - {"source", "decision_id"}:
            raise BadInput('A withdrawal takes no fields besides "source" and "decision_id".')
        method, decision_id = _json_method(body), _decision_id(body)
    elif request.mimetype in FORM_TYPES:
        method = _form_method()
    else:
        raise BadInput("Send the withdrawal as application/json or as a form.", 415)
    categories, services = no_choice(manager().catalog)
    return _record_and_reply(
        categories, services, method=method, action="withdraw", decision_id=decision_id
    )


@bp.get("/consent/receipts")
def my_receipts() -> Response:
    """A visitor's own receipts (their consent history) as a JSON download."""
    decision = current_decision()
    receipts = storage.get_store().history(decision.consent_id) if decision else []
    response = jsonify([r.as_json() for r in receipts])
    response.headers["Content-Disposition"] = 'attachment; filename="consent-receipts.json"'
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response


@bp.get("/cookie-einstellungen")
def settings_page() -> str:
    lang = select_language()
    decision = decision_honouring_gpc(lang)
    history = storage.get_store().history(decision.consent_id) if decision else []
    return render_template(
        "consent/settings.html",
        decision=decision,
        history=list(reversed(history)),
        gpc=gpc_enabled(request.headers),
    )
