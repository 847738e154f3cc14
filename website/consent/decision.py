"""A visitor's decision and the signed cookie that carries it.

The cookie is the source of truth for what a page may load. It holds the consent id (a random
pseudonym), the catalog revision, the granted categories and services, the method and, through
itsdangerous, the time it was signed. A tampered, expired or old-revision cookie is no decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from itsdangerous import BadData, URLSafeTimedSerializer

from .catalog import Catalog

COOKIE_NAME = "consent"
METHODS = ("banner", "settings", "form", "gpc", "api", "phone")
ACTIONS = ("accept_all", "reject_all", "custom", "withdraw")


@dataclass(frozen=True)
class Decision:
    """What one visitor decided, resolved against the catalog: every category and service."""

    consent_id: str
    revision: str
    categories: dict[str, bool]
    services: dict[str, bool]
    method: str
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def allows(self, service: str) -> bool:
        return self.services.get(service, False)

    def granted(self, category: str) -> bool:
        return self.categories.get(category, False)

    def as_json(self) -> dict[str, object]:
        return {
            "decided": True,
            "consent_id": self.consent_id,
            "revision": self.revision,
            "categories": self.categories,
            "services": self.services,
            "method": self.method,
            "decided_at": self.decided_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def new_consent_id() -> str:
    """A random pseudonym; it says nothing about the visitor."""
    return str(uuid.uuid4())


def resolve(
    catalog: Catalog,
    categories: Mapping[str, bool],
    services: Mapping[str, bool] | None = None,
) -> tuple[dict[str, bool], dict[str, bool]]:
    """Every category's and service's state from a (possibly partial) choice.

    A service follows its category unless the choice names it; required categories are always
    granted. A category counts as granted when any of its services is (a narrower choice within
    a category is still consent to that purpose), or, without services, when it was chosen.
    """
    services = services or {}
    service_states: dict[str, bool] = {}
    category_states: dict[str, bool] = {}
    for category in catalog.categories:
        chosen = bool(category.required or categories.get(category.name, False))
        for service in category.services:
            service_states[service.name] = bool(
                category.required or services.get(service.name, chosen)
            )
        if category.required:
            category_states[category.name] = True
        elif category.services:
            category_states[category.name] = any(
                service_states[s.name] for s in category.services
            )
        else:
            category_states[category.name] = chosen
    return category_states, service_states


def no_choice(catalog: Catalog) -> tuple[dict[str, bool], dict[str, bool]]:
    """The state before any decision, and after a refusal: only what is required."""
    return resolve(catalog, {})


def state(catalog: Catalog, decision: Decision | None) -> dict[str, object]:
    """The visitor's state as the API and the banner see it; undecided is 'only required'."""
    if decision is not None:
        return decision.as_json()
    categories, services = no_choice(catalog)
    return {
        "decided": False,
        "consent_id": None,
        "revision": catalog.revision,
        "categories": categories,
        "services": services,
        "method": None,
        "decided_at": None,
    }


class DecisionCookie:
    """Signs decisions into the ``consent`` cookie and reads them back."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="consent-decision")
        self.max_age = max_age_seconds

    def dumps(self, decision: Decision) -> str:
        return self.serializer.dumps(
            {
                "i": decision.consent_id,
                "r": decision.revision,
                "m": decision.method,
                "c": sorted(k for k, v in decision.categories.items() if v),
                "s": sorted(k for k, v in decision.services.items() if v),
            }
        )

    def loads(self, value: str | None, catalog: Catalog) -> Decision | None:
        """The decision in the cookie, or None if it is missing, tampered, expired or outdated."""
        if not value:
            return None
        try:
            payload, signed_at = self.serializer.loads(
                value, max_age=self.max_age, return_timestamp=True
            )
        except BadData:
            return None
        if not isinstance(payload, dict) or payload.get("r") != catalog.revision:
            return None
        consent_id, method = payload.get("i"), payload.get("m")
        granted_categories, granted_services = payload.get("c"), payload.get("s")
        if (
            not isinstance(consent_id, str)
            or method not in METHODS
            or not isinstance(granted_categories, list)
            or not isinstance(granted_services, list)
        ):
            return None
        categories, services = resolve(
            catalog,
            {name: True for name in granted_categories if isinstance(name, str)},
            {s.name: s.name in granted_services for s in catalog.services},
        )
        return Decision(consent_id, catalog.revision, categories, services, method, signed_at)
