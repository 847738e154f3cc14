"""``POST /api/receipts``: receipts from other channels, e.g. a phone agent's opt-in.

A channel authenticates with its bearer token (no cookie, no CSRF token: the endpoint is CSRF
exempt because a browser never sends the token by itself). The body names a caller pseudonym
the channel keeps (its CRM key, a keyed hash; never the phone number), the choice (validated
like the banner's, against the same catalog), the text read to the caller (stored like a banner
notice) and a ``decision_id``: sending the same decision again stores nothing new.
See docs/channel-api.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from website import __version__
from website.bodies import parse_json
from website.consent.choice import Choice, _check_names, _decision_id, _lang, resolve_choice
from website.consent.decision import Decision
from website.consent.manager import manager
from website.consent.receipts import Notice, build_receipt
from website.errors import BadInput, error_response
from website.legal import load_legal_text
from website.store import get_store
from website.store.errors import translated
from website.store.tables import receipts

from .channels import Channel, authenticate

bp = Blueprint("channel_api", __name__)

FIELDS = frozenset({"caller", "decision_id", "lang", "categories", "services", "notice",
                    "action", "method", "channel"})
#: How a channel's receipts say they were given (receipt ``method``).
CHANNEL_METHODS = ("phone",)
MAX_NOTICE = 8000
_CALLER = re.compile(r"[A-Za-z0-9._:-]{4,64}")
#: What is left of a phone number once spaces, dots, dashes, slashes and brackets are gone.
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"(\+|00)?\d{5,15}")


def looks_like_phone_number(value: str) -> bool:
    """True for anything that could be a dialled number: ``+49 151 2345678``,
    ``0151/2345678``, ``(030) 123-456``, ``tel:+49...``, or bare digits (5 to 15, E.164's
    maximum), which cannot be told apart from one. A pseudonym needs a letter in it."""
    candidate = value.strip()
    if candidate.lower().startswith("tel:"):
        return True
    return bool(_PHONE.fullmatch(_PHONE_SEPARATORS.sub("", candidate)))


def check_caller(value: Any) -> str:
    if not isinstance(value, str):
        raise BadInput('"caller" must be the pseudonym of the caller, a string.')
    if looks_like_phone_number(value):
        raise BadInput('"caller" looks like a phone number. Send a pseudonym the channel keeps '
                       "(a CRM key such as \"crm-4711\" or a keyed hash), never the number.")
    if not _CALLER.fullmatch(value):
        raise BadInput('"caller" must be 4 to 64 letters, digits, ".", "_", ":" or "-".')
    return value


def channel_consent_id(channel: str, caller: str) -> str:
    """The caller's consent id within the channel: the same caller, the same history; another
    channel's caller with the same pseudonym is someone else. Keyed with SECRET_KEY, so the
    stored id does not reveal the pseudonym."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(),
                      f"channel-consent-id:{channel}\0{caller}".encode(), hashlib.sha256)
    return f"{channel}:{digest.hexdigest()[:32]}"


def _unauthorized(message: str) -> Response:
    body, status = error_response(401, message)
    response = current_app.make_response((body, status))
    response.headers["WWW-Authenticate"] = 'Bearer realm="receipts"'
    return response


def _channel() -> Channel | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return authenticate(get_store(), token.strip())


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise BadInput("Send the receipt as application/json.", 415)
    body = parse_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise BadInput("The request body must be a JSON object.")
    unknown = set(body) - FIELDS
    if unknown:
        raise BadInput(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    return body


def parse_channel_choice(body: dict[str, Any]) -> tuple[Choice, str, str]:
    """The choice, the caller pseudonym and the notice text, or :class:`BadInput`."""
    catalog = manager().catalog
    caller = check_caller(body.get("caller"))
    decision_id = _decision_id(body.get("decision_id"))
    if decision_id is None:
        raise BadInput('"decision_id" is required: a retry with the same one stores nothing new.')
    lang = _lang(body.get("lang", "de"))
    method = body.get("method", "phone")
    if method not in CHANNEL_METHODS:
        raise BadInput(f'"method" must be one of {", ".join(CHANNEL_METHODS)}.')
    notice = body.get("notice")
    if not isinstance(notice, str) or not notice.strip():
        raise BadInput('"notice" must be the text read to the caller, a non-empty string.')
    if len(notice) > MAX_NOTICE:
        raise BadInput(f'"notice" is longer than {MAX_NOTICE} characters.')
    action = body.get("action", "decide")
    if action == "withdraw":
        if "categories" in body or "services" in body:
            raise BadInput('A withdrawal has no "categories" or "services".')
        return Choice("withdraw", {}, {}, method, lang, decision_id), caller, notice
    if action != "decide":
        raise BadInput('"action" must be "decide" (the default) or "withdraw".')
    categories, services = body.get("categories"), body.get("services", {})
    if not isinstance(categories, dict):
        raise BadInput('"categories" must be an object of category names and true/false.')
    if not isinstance(services, dict):
        raise BadInput('"services" must be an object of service names and true/false.')
    _check_names(catalog, categories, "category")
    _check_names(catalog, services, "service")
    return Choice("save", categories, services, method, lang, decision_id), caller, notice


def _claimed_by_another_caller(channel: str, consent_id: str, decision_id: str) -> bool:
    """The channel already used this ``decision_id`` for a different caller."""
    query = select(receipts.c.consent_id).where(
        receipts.c.decision_id == decision_id,
        receipts.c.consent_id.startswith(f"{channel}:", autoescape=True),
        receipts.c.consent_id != consent_id,
    ).limit(1)
    with translated("cannot read receipts"), get_store().engine.connect() as connection:
        return connection.execute(query).first() is not None


@bp.post("/api/receipts")
def record_channel_receipt() -> Response | tuple[Response, int]:
    channel = _channel()
    if channel is None:
        return _unauthorized("A valid channel token is required (Authorization: Bearer ...).")
    body = _body()
    claimed = body.get("channel")
    if claimed is not None and claimed != channel.name:
        raise BadInput("This token belongs to another channel.", 403)
    choice, caller, notice_text = parse_channel_choice(body)
    consent = manager()
    resolved = resolve_choice(consent.catalog, choice)
    consent_id = channel_consent_id(channel.name, caller)
    assert resolved.decision_id is not None and resolved.lang is not None
    if _claimed_by_another_caller(channel.name, consent_id, resolved.decision_id):
        raise BadInput(f"decision_id {resolved.decision_id!r} was already used by this channel "
                       "for another caller.", 409)
    notice = Notice.of(consent.catalog.revision, resolved.lang, {
        "channel": channel.name,
        "method": resolved.method,
        "language": resolved.lang,
        "revision": consent.catalog.revision,
        "script": notice_text,
    })
    decision = Decision(consent_id, consent.catalog.revision, resolved.categories,
                        resolved.services, resolved.method)
    policy = load_legal_text(current_app.config["LEGAL_TEXTS_DIR"], "datenschutz", resolved.lang)
    receipt = build_receipt(
        decision, notice=notice, action=resolved.action, page_path=f"channel:{channel.name}",
        remote_addr=None, user_agent=None, decision_id=resolved.decision_id,
        policy_version=policy.as_of.isoformat() if policy.as_of else "",
        policy_hash=policy.content_hash, app_version=__version__,
        expires_at=decision.decided_at + timedelta(seconds=consent.max_age),
    )
    # No browser was involved: no address, no user agent.
    receipt = replace(receipt, ua_browser="", ua_os="", ua_device="")
    stored = get_store().add(receipt, notice)
    new = stored.receipt_id == receipt.receipt_id
    answer = {
        "receipt_id": stored.receipt_id,
        "consent_id": stored.consent_id,
        "channel": channel.name,
        "action": stored.action,
        "method": stored.method,
        "categories": stored.categories,
        "services": stored.services,
        "notice_hash": stored.notice_hash,
        "created": new,
    }
    return jsonify(answer), 201 if new else 200
