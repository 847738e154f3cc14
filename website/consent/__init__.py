"""The consent manager: catalog, decision cookie, receipts, API, settings page, page gating."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for

from . import storage
from .catalog import Catalog
from .cli import receipts_cli
from .decision import Decision, state
from .gpc import gpc_enabled
from .manager import ConsentManager, current_decision, decision_honouring_gpc, update_response
from .views import bp


@dataclass(frozen=True)
class ConsentView:
    """What templates ask: may this service load, and what does the banner need to know."""

    manager: ConsentManager
    decision: Decision | None
    lang: str

    @property
    def catalog(self) -> Catalog:
        return self.manager.catalog

    @property
    def decided(self) -> bool:
        return self.decision is not None

    def allows(self, service: str) -> bool:
        if self.decision is None:
            return self.manager.undecided_services.get(service, False)
        return self.decision.allows(service)

    def service(self, name: str) -> Any:
        return self.catalog.service(name)

    def purposes(self) -> list[str]:
        return self.manager.banner_static[self.lang]["texts"]["purposes"]

    def google_consent(self) -> dict[str, str]:
        """Consent Mode v2 state for this decision; every type denied without one."""
        state = {}
        for category in self.catalog.categories:
            granted = self.decision is not None and self.decision.granted(category.name)
            for consent_type in category.google_consent:
                state[consent_type] = "granted" if granted else "denied"
        return state

    def banner_config(self) -> dict[str, Any]:
        """The JSON block the banner reads (texts, catalog, state, endpoints)."""
        return {
            "lang": self.lang,
            "revision": self.catalog.revision,
            "state": state(self.catalog, self.decision),
            "gpc": gpc_enabled(request.headers),
            **self.manager.banner_static[self.lang],
            "endpoints": {
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
    app.after_request(update_response)
    app.cli.add_command(receipts_cli)

    @app.context_processor
    def consent_context() -> dict[str, Any]:
        from ..i18n import select_language

        lang = select_language()
        decision = decision_honouring_gpc(lang) if request.method == "GET" else current_decision()
        return {"consent": ConsentView(consent, decision, lang)}

    return consent
