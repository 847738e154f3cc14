"""The consent manager: catalog, decision cookie, receipts, API, settings page, page gating."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask, current_app, request, url_for
from markupsafe import Markup

from . import storage
from .catalog import STORAGE_KINDS, Catalog
from .cli import receipts_cli
from .decision import Decision, state
from .gpc import gpc_enabled
from .manager import ConsentManager, current_decision, gpc_honoured, mark_response
from .scanner import consent_cli
from .texts import FIRST_LAYER_SCRIPT_TEXTS, TEXTS
from .views import bp

#: First-layer layouts an operator can pick with ``CONSENT_LAYOUT`` (docs/banner.md).
LAYOUTS = ("box", "bar")


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
        """The first layer asks only visitors who have neither decided nor sent GPC, and never
        on the settings page, which has the same three buttons itself."""
        return (
            self.decision is None
            and not self.gpc
            and request.endpoint != "consent.settings_page"
        )

    @property
    def layout(self) -> str:
        """``box`` (a corner card) or ``bar`` (full width); both a bottom sheet on a phone."""
        return str(current_app.config.get("CONSENT_LAYOUT") or "box")

    @property
    def reopen_button(self) -> bool:
        """The small floating button that reopens the settings (off by default)."""
        return bool(current_app.config.get("CONSENT_REOPEN_BUTTON"))

    def action_text(self, action: str) -> str:
        """A receipt's action in words (``reject_all`` -> "Nur Notwendiges erlaubt")."""
        return TEXTS[self.lang].get(f"action_{action}", action)

    def method_text(self, method: str) -> str:
        """How a decision reached the site, in words (``banner`` -> "Banner")."""
        return TEXTS[self.lang].get(f"method_{method}", method)

    def service_titles(self, services: dict[str, bool]) -> str:
        """The granted services of a receipt by their titles, in catalog order."""
        titles = [s.title.text(self.lang) for s in self.catalog.services if services.get(s.name)]
        return ", ".join(titles)

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
        """The JSON block the first layer's script reads on every page: only what it needs to
        record a decision and activate what it allows. The second layer's texts and catalog
        details come from ``/consent/catalog.<revision>.<lang>.json`` when it opens.

        The state is the list of granted services (a category is granted when one of its
        services is, as :func:`~.decision.resolve` decides); the method says who decided.
        """
        current = state(self.catalog, self.decision)
        return {
            "lang": self.lang,
            "decided": current["decided"],
            "method": current["method"],
            "granted": [name for name, on in current["services"].items() if on],
            "gpc": gpc_enabled(request.headers),
            **_first_layer_static(self.manager, self.lang),
        }

    def banner_config_json(self) -> Markup:
        """:meth:`banner_config` for a ``<script type="application/json">`` block: compact
        UTF-8 (not ``\\u`` escapes), with ``<``, ``>``, ``&`` and ``'`` escaped as Jinja's
        ``tojson`` does, so the block can never close its script element."""
        text = json.dumps(self.banner_config(), ensure_ascii=False, separators=(",", ":"))
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                             ("'", "\\u0027")):
            text = text.replace(char, escape)
        return Markup(text)


def _first_layer_static(consent: ConsentManager, lang: str) -> dict[str, Any]:
    """The parts of the first layer's config that never change while the app runs, built once
    per language (kept on the manager, whose catalog they describe)."""
    cache: dict[str, dict[str, Any]] = consent.__dict__.setdefault("_first_layer_static", {})
    if lang not in cache:
        catalog = consent.catalog
        cache[lang] = {
            # Optional categories and their services: what "accept all" / "reject all" send.
            "cats": {c.name: [s.name for s in c.services] for c in catalog.optional_categories},
            "required": [c.name for c in catalog.categories if c.required],
            # Consent Mode v2 types per service (only services that declare some).
            "gcm": {s.name: list(s.google_consent) for s in catalog.services if s.google_consent},
            "texts": {key: TEXTS[lang][key] for key in FIRST_LAYER_SCRIPT_TEXTS},
            # GET and POST /consent share one URL; the second layer's script and stylesheet
            # sit next to banner.js (the script derives their URLs from its own).
            "endpoints": {
                "consent": url_for("consent.save_choice"),
                "withdraw": url_for("consent.withdraw"),
                "settings": url_for("consent.settings_page"),
                "catalog": url_for(
                    "consent.catalog_file", revision=catalog.revision, lang=lang
                ),
            },
        }
    return cache[lang]


def init_app(app: Flask) -> ConsentManager:
    """Load and validate the catalog, open the store, register routes, hooks and commands."""
    layout = app.config.get("CONSENT_LAYOUT") or "box"
    if layout not in LAYOUTS:
        from ..settings import ConfigError

        raise ConfigError(f"CONSENT_LAYOUT={layout!r} must be one of {', '.join(LAYOUTS)}")
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
