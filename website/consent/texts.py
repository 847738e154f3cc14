"""What the banner and the settings page say, in German and English.

These texts are part of the notice a visitor consents to: they go into the notice hash of every
receipt, and the banner receives them in the page's configuration block.
"""

from __future__ import annotations

from .catalog import Catalog

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Datenschutz-Einstellungen",
        "intro": "Mit Ihrer Einwilligung nutzen wir Cookies und ähnliche Techniken für:",
        "essential_note": "Notwendige Cookies speichern nur Ihre Auswahl und schützen Formulare.",
        "withdraw_note": "Sie können Ihre Auswahl jederzeit über „Cookie-Einstellungen“ im "
        "Seitenfuß ändern oder widerrufen. Ablehnen hat keine Nachteile.",
        "accept_all": "Alle akzeptieren",
        "reject_all": "Nur notwendige",
        "settings": "Einstellungen",
        "save": "Auswahl speichern",
        "close": "Schließen, ohne einzuwilligen",
        "withdraw": "Alle Einwilligungen widerrufen",
        "always_on": "Immer aktiv",
        "services": "Dienste",
        "details": "Details",
        "provider": "Anbieter",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "cookies": "Cookies",
        "lifetime": "Speicherdauer",
        "transfer": "Drittlandübermittlung",
        "policy": "Datenschutzerklärung des Anbieters",
        "privacy": "Datenschutz",
        "imprint": "Impressum",
        "saved": "Ihre Auswahl wurde gespeichert.",
        "save_failed": "Ihre Auswahl ist noch nicht gespeichert; sie wird gespeichert, sobald "
        "die Verbindung wieder steht.",
        "gpc": "Ihr Browser sendet das Signal „Global Privacy Control“. Wir behandeln es als "
        "Ablehnung aller optionalen Kategorien, solange Sie nichts anderes wählen.",
        "embed": "Dieser Inhalt wird von {service} ({provider}) bereitgestellt. Erst wenn Sie ihn "
        "laden, werden Daten wie Ihre IP-Adresse an den Anbieter übermittelt.",
        "embed_load": "{service} laden",
        "controller": "Verantwortlich: {name}, {contact}.",
        "transfers": "Übermittlung in Drittländer ({countries}) durch {services}, nur mit Ihrer "
        "Einwilligung.",
        "data": "Verarbeitete Daten",
        "justification": "Warum notwendig",
        "storage_kinds": "Cookie|Local Storage|Session Storage|IndexedDB",
        "pending": "Ihre Auswahl ist noch nicht gespeichert. Bis dahin bleibt alles Optionale "
        "aus; wir versuchen es weiter.",
        "services_one": "1 Dienst",
        "services_many": "{n} Dienste",
        "reopen": "Cookie-Einstellungen öffnen",
        "action_accept_all": "Alles erlaubt",
        "action_reject_all": "Nur Notwendiges erlaubt",
        "action_custom": "Eigene Auswahl",
        "action_withdraw": "Einwilligungen widerrufen",
        "method_banner": "Banner",
        "method_settings": "Einstellungsseite",
        "method_form": "Formular ohne JavaScript",
        "method_gpc": "Signal Global Privacy Control",
        "method_api": "Programmierschnittstelle",
    },
    "en": {
        "title": "Privacy settings",
        "intro": "With your consent we use cookies and similar technologies for:",
        "essential_note": "Essential cookies only store your choice and protect forms.",
        "withdraw_note": "You can change or withdraw your choice at any time under “Cookie "
        "settings” in the footer. Refusing has no disadvantages.",
        "accept_all": "Accept all",
        "reject_all": "Only essential",
        "settings": "Settings",
        "save": "Save selection",
        "close": "Close without consenting",
        "withdraw": "Withdraw all consent",
        "always_on": "Always on",
        "services": "Services",
        "details": "Details",
        "provider": "Provider",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "cookies": "Cookies",
        "lifetime": "Lifetime",
        "transfer": "Third-country transfer",
        "policy": "Provider's privacy policy",
        "privacy": "Privacy",
        "imprint": "Legal notice",
        "saved": "Your choice has been saved.",
        "save_failed": "Your choice is not saved yet; it will be saved as soon as the "
        "connection is back.",
        "gpc": "Your browser sends the Global Privacy Control signal. We treat it as a refusal "
        "of all optional categories unless you choose otherwise.",
        "embed": "This content is provided by {service} ({provider}). Data such as your IP "
        "address reaches the provider only when you load it.",
        "embed_load": "Load {service}",
        "controller": "Controller: {name}, {contact}.",
        "transfers": "Transfer to third countries ({countries}) by {services}, only with your "
        "consent.",
        "data": "Data processed",
        "justification": "Why it is necessary",
        "storage_kinds": "Cookie|Local storage|Session storage|IndexedDB",
        "pending": "Your choice is not saved yet. Until it is, everything optional stays off; "
        "we keep trying.",
        "services_one": "1 service",
        "services_many": "{n} services",
        "reopen": "Open cookie settings",
        "action_accept_all": "Everything allowed",
        "action_reject_all": "Only essential allowed",
        "action_custom": "Own selection",
        "action_withdraw": "All consent withdrawn",
        "method_banner": "Banner",
        "method_settings": "Settings page",
        "method_form": "Form without JavaScript",
        "method_gpc": "Global Privacy Control signal",
        "method_api": "Programming interface",
    },
}


#: The texts the first layer's script needs on every page (the rest comes with the second
#: layer from the catalog endpoint, see :func:`second_layer`).
FIRST_LAYER_SCRIPT_TEXTS = ("close", "gpc", "pending", "saved")
#: The texts the second layer shows (served by ``/consent/catalog.<revision>.<lang>.json``).
SECOND_LAYER_TEXTS = (
    "title", "essential_note", "withdraw_note", "accept_all", "reject_all", "save", "close",
    "withdraw", "always_on", "details", "provider", "purpose", "legal_basis", "cookies",
    "lifetime", "transfer", "policy", "privacy", "imprint", "gpc", "data", "justification",
    "storage_kinds", "services_one", "services_many",
)

COUNTRY_NAMES: dict[str, dict[str, str]] = {"US": {"de": "USA", "en": "USA"}}


def purposes(catalog: Catalog, lang: str) -> list[str]:
    """Every optional purpose with its services and its one-line description."""
    lines = []
    for c in catalog.optional_categories:
        services = ", ".join(s.title.text(lang) for s in c.services)
        title = f"{c.title.text(lang)} ({services})" if services else c.title.text(lang)
        lines.append(f"{title}: {c.description.text(lang)}")
    return lines


def first_layer(catalog: Catalog, lang: str) -> dict[str, object]:
    """What the first layer says besides the fixed texts: who is responsible, every purpose,
    and which services transfer data to which third countries."""
    texts = TEXTS[lang]
    transferring = [s for s in catalog.services if s.third_countries]
    countries = sorted({c for s in transferring for c in s.third_countries})
    return {
        "controller": texts["controller"].format(
            name=catalog.controller.name, contact=catalog.controller.contact
        ),
        "purposes": purposes(catalog, lang),
        "transfers": texts["transfers"].format(
            countries=", ".join(COUNTRY_NAMES.get(c, {}).get(lang, c) for c in countries),
            services=", ".join(s.title.text(lang) for s in transferring),
        )
        if transferring
        else "",
    }


def notice_content(catalog: Catalog, lang: str) -> dict[str, object]:
    """Everything a visitor is shown before deciding; hashed into each receipt."""
    return {
        "revision": catalog.revision,
        "language": lang,
        "texts": TEXTS[lang],
        **first_layer(catalog, lang),
        "catalog": catalog.localized(lang),
    }


def second_layer(catalog: Catalog, lang: str) -> dict[str, object]:
    """What the second layer shows, in one language: its texts and the localized catalog.

    Served as a cacheable file keyed by the catalog revision, so pages carry only what the
    first layer needs (see ``ConsentView.banner_config``).
    """
    return {
        "revision": catalog.revision,
        "lang": lang,
        "texts": {key: TEXTS[lang][key] for key in SECOND_LAYER_TEXTS},
        "categories": catalog.localized(lang),
    }
