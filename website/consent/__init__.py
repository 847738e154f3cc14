"""The consent manager: catalog, decision cookie, receipts, API, settings page, page gating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask, request, url_for

from . import storage
from .catalog import STORAGE_KINDS, Catalog
from .cli import receipts_cli
from .decision import Decision, state
from .gpc import gpc_enabled
from .manager import ConsentManager, current_decision, gpc_honoured, mark_response
from .scanner import consent_cli
from .views import bp


@dataclass(frozen=True)
class ConsentView:
    """What templates ask: may this service load, and what does the banner need to know."""

    manager: ConsentManager
    decision: Decision | None
    lang: str
    gpc: bool = False

    @property
    def catalog(self) -> Catalog:
        return self.manager.catalog

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def show_banner(self) -> bool:
        """The first layer asks only visitors who have neither decided nor sent GPC."""
        return self.decision is None and not self.gpc

    def allows(self, service: str) -> bool:
        if self.decision is None:
            return self.manager.undecided_services.get(service, False)
        return self.decision.allows(service)

    def service(self, name: str) -> Any:
        return self.catalog.service(name)

    def purposes(self) -> list[str]:
        return self.manager.banner_static[self.lang]["texts"]["purposes"]

    def storage_kind(self, kind: str) -> str:
        """'Cookie', 'Local Storage', ... in the page's language."""
        names = self.manager.banner_static[self.lang]["texts"]["storage_kinds"].split("|")
        return dict(zip(STORAGE_KINDS, names, strict=True))[kind]

    def first_layer(self) -> dict[str, Any]:
        return self.manager.banner_static[self.lang]["texts"]

    def google_consent(self) -> dict[str, str]:
        """Consent Mode v2 state: a type is granted only by a granted service that declares it
        (GA4 grants ``analytics_storage``, not the advertising types); all denied without a
        decision, and so under GPC."""
        consent_state = {}
        for service in self.catalog.services:
            granted = self.decision is not None and self.decision.allows(service.name)
            for consent_type in service.google_consent:
                if granted or consent_type not in consent_state:
                    consent_state[consent_type] = "granted" if granted else "denied"
        return consent_state

    def banner_config(self) -> dict[str, Any]:
        """The JSON block the banner reads (texts, catalog, state, endpoints)."""
        return {
            "lang": self.lang,
            "revision": self.catalog.revision,
            "state": state(self.catalog, self.decision),
            "gpc": gpc_enabled(request.headers),
            **self.manager.banner_static[self.lang],
            "endpoints": {
                "state": url_for("consent.consent_state"),
                "consent": url_for("consent.save_choice"),
                "withdraw": url_for("consent.withdraw"),
                "settings": url_for("consent.settings_page"),
            },
            "links": {"privacy": url_for("pages.privacy"), "imprint": url_for("pages.imprint")},
        }


def init_app(app: Flask) -> ConsentManager:
    """Load and validate the catalog, open the store, register routes, hooks and commands."""
    consent = ConsentManager.for_app(app)
    app.extensions["consent"] = consent
    storage.init_app(app)
    app.register_blueprint(bp)
    app.after_request(mark_response)
    app.cli.add_command(receipts_cli)
    app.cli.add_command(consent_cli)

    def flush_gpc_views(counts: dict[date, int]) -> None:
        with app.app_context():
            store = storage.get_store()
            for day, views in sorted(counts.items()):
                store.add_gpc_views(day, views)

    consent.gpc_views.flush_to = flush_gpc_views

    @app.context_processor
    def consent_context() -> dict[str, Any]:
        """What templates need to gate scripts and show the banner; reads only the cookie."""
        from ..i18n import select_language

        decision = current_decision()
        return {
            "consent": ConsentView(consent, decision, select_language(), gpc_honoured(decision))
        }

    return consent
