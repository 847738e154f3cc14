"""A visitor's choice as the request states it, parsed once from JSON or from a form.

Parsing checks names and types against the catalog and nothing else; what the choice means for
every category and service is decided once, by :func:`resolve_choice`. Nothing here reads or
writes the database or the cookie.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..bodies import parse_json
from ..errors import FORM_TYPES, BadInput
from ..i18n import LANGUAGES
from .catalog import Catalog
from .decision import resolve

#: How a choice reached the site (the same word in receipts, the API and the forms).
JSON_METHODS = ("banner", "settings", "api")
JSON_FIELDS = frozenset({"categories", "services", "method", "decision_id", "lang"})
WITHDRAWAL_FIELDS = frozenset({"method", "decision_id", "lang"})
FORM_ACTIONS = ("accept_all", "reject_all", "save")
TRUE_VALUES = frozenset({"on", "1", "true", "yes"})
_DECISION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Choice:
    """What the visitor asked for; ``categories``/``services`` may be partial.

    ``action`` is ``withdraw`` for a withdrawal, ``accept_all``/``reject_all`` for the buttons
    that say so, and ``save`` for a selection (resolved to its real action later).
    """

    action: str
    categories: Mapping[str, bool]
    services: Mapping[str, bool]
    method: str
    lang: str | None
    decision_id: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A choice resolved against the catalog: every category's and service's state."""

    action: str
    categories: dict[str, bool]
    services: dict[str, bool]
    method: str
    lang: str | None
    decision_id: str | None


def parse_choice(request: Request, catalog: Catalog, *, withdrawal: bool = False) -> Choice:
    """The choice in this POST, or :class:`BadInput` naming what is wrong."""
    if request.mimetype == "application/json":
        return _from_json(_json_object(request, allow_empty=withdrawal), catalog, withdrawal)
    if request.mimetype in FORM_TYPES:
        return _from_form(request.form, catalog, withdrawal)
    raise BadInput(
        _l("Send the choice as application/json or as a form "
           "(application/x-www-form-urlencoded)."),
        415,
    )


def resolve_choice(catalog: Catalog, choice: Choice) -> Resolved:
    """Every category's and service's state, and the action that state amounts to."""
    if choice.action == "withdraw":
        categories, services = resolve(catalog, {})
        action = "withdraw"
    else:
        categories, services = resolve(catalog, choice.categories, choice.services)
        optional = [services[s.name] for c in catalog.optional_categories for s in c.services]
        action = (
            "accept_all" if all(optional) else "reject_all" if not any(optional) else "custom"
        )
    return Resolved(
        action, categories, services, choice.method, choice.lang, choice.decision_id
    )


def _json_object(request: Request, *, allow_empty: bool) -> dict[str, Any]:
    raw = request.get_data(cache=True)  # raises 413 above MAX_CONTENT_LENGTH
    if allow_empty and not raw.strip():
        return {}
    body = parse_json(raw)  # bounded nesting; 400 for anything that is not JSON
    if not isinstance(body, dict):
        raise BadInput(_l("The request body must be a JSON object."))
    return body


def _from_json(body: dict[str, Any], catalog: Catalog, withdrawal: bool) -> Choice:
    allowed = WITHDRAWAL_FIELDS if withdrawal else JSON_FIELDS
    unknown = set(body) - allowed
    if unknown:
        raise BadInput(_l("Unknown field(s): %(names)s.", names=", ".join(sorted(unknown))))
    method = body.get("method", "api")
    if method not in JSON_METHODS:
        raise BadInput(_l('"method" must be "banner", "settings" or "api".'))
    lang, decision_id = _lang(body.get("lang")), _decision_id(body.get("decision_id"))
    if withdrawal:
        return Choice("withdraw", {}, {}, method, lang, decision_id)
    categories = body.get("categories")
    services = body.get("services", {})
    if not isinstance(categories, dict):
        raise BadInput(_l('"categories" must be an object of category names and true/false.'))
    if not isinstance(services, dict):
        raise BadInput(_l('"services" must be an object of service names and true/false.'))
    _check_names(catalog, categories, "category")
    _check_names(catalog, services, "service")
    return Choice("save", categories, services, method, lang, decision_id)


def _from_form(form: Mapping[str, str], catalog: Catalog, withdrawal: bool) -> Choice:
    """A plain form post: the settings page, or the no-JS banner and embed buttons.

    ``accept_all`` and ``reject_all`` speak for themselves. With ``save``, every ticked service
    is granted; a ticked category none of whose services is ticked grants all of them.
    """
    method = "settings" if form.get("method") == "settings" else "form"
    lang = _lang(form.get("lang") or None)
    if withdrawal:
        return Choice("withdraw", {}, {}, method, lang)
    action = form.get("action", "")
    if action not in FORM_ACTIONS:
        raise BadInput(_l('"action" must be accept_all, reject_all or save.'))
    ticked_categories: set[str] = set()
    ticked_services: set[str] = set()
    for field, value in form.items(multi=True):  # type: ignore[call-arg]
        kind, _, name = field.partition("-")
        if kind not in ("category", "service") or not name:
            continue
        if (catalog.category(name) if kind == "category" else catalog.service(name)) is None:
            raise BadInput(_unknown(kind, name))
        if value.lower() in TRUE_VALUES:
            (ticked_categories if kind == "category" else ticked_services).add(name)
    if action != "save":
        granted = action == "accept_all"
        return Choice(action, {c.name: granted for c in catalog.optional_categories}, {},
                      method, lang)
    categories: dict[str, bool] = {}
    services: dict[str, bool] = {}
    for category in catalog.optional_categories:
        names = {s.name for s in category.services}
        chosen = names & ticked_services
        whole = category.name in ticked_categories and not chosen
        categories[category.name] = whole or bool(chosen)
        for name in names:
            services[name] = whole or name in chosen
    return Choice("save", categories, services, method, lang)


def _check_names(catalog: Catalog, names: dict[str, Any], kind: str) -> None:
    for name, value in names.items():
        known = catalog.category(name) if kind == "category" else catalog.service(name)
        if known is None:
            raise BadInput(_unknown(kind, name))
        if not isinstance(value, bool):
            given = type(value).__name__
            raise BadInput(
                _l("The category %(name)r must be true or false, not a %(given)s.",
                   name=name, given=given)
                if kind == "category"
                else _l("The service %(name)r must be true or false, not a %(given)s.",
                        name=name, given=given)
            )
        category = known if kind == "category" else catalog.category(known.category)
        if category.required and value is False:  # type: ignore[union-attr]
            raise BadInput(
                _l("The category %(name)r is essential and cannot be refused.", name=name)
                if kind == "category"
                else _l("The service %(name)r is essential and cannot be refused.", name=name)
            )


def _decision_id(value: Any) -> str | None:
    """The client's idempotency key: the same decision sent again is stored once."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DECISION_ID.fullmatch(value):
        raise BadInput(_l('"decision_id" must be 16 to 64 letters, digits, "-" or "_".'))
    return value


def _lang(value: Any) -> str | None:
    """The language of the notice the visitor saw (the page's language)."""
    if value is None:
        return None
    if value not in LANGUAGES:
        raise BadInput(_l('"lang" must be one of %(languages)s.', languages=", ".join(LANGUAGES)))
    return value


def _unknown(kind: str, name: str) -> LazyString:
    """One message per kind, so that each reads naturally in every language."""
    if kind == "category":
        return _l("Unknown category %(name)r.", name=name)
    return _l("Unknown service %(name)r.", name=name)
