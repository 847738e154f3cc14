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
        "save_failed": "Ihre Auswahl wird gespeichert, sobald die Verbindung wieder steht.",
        "gpc": "Ihr Browser sendet das Signal „Global Privacy Control“. Wir behandeln es als "
        "Ablehnung aller optionalen Kategorien, solange Sie nichts anderes wählen.",
        "embed": "Dieser Inhalt wird von {service} ({provider}) bereitgestellt. Erst wenn Sie ihn "
        "laden, werden Daten wie Ihre IP-Adresse an den Anbieter übermittelt.",
        "embed_load": "{service} laden",
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
        "save_failed": "Your choice will be saved as soon as the connection is back.",
        "gpc": "Your browser sends the Global Privacy Control signal. We treat it as a refusal "
        "of all optional categories unless you choose otherwise.",
        "embed": "This content is provided by {service} ({provider}). Data such as your IP "
        "address reaches the provider only when you load it.",
        "embed_load": "Load {service}",
    },
}


def purposes(catalog: Catalog, lang: str) -> list[str]:
    """Every optional purpose with its services, for the banner's first layer."""
    return [
        f"{c.title.text(lang)} ({', '.join(s.title.text(lang) for s in c.services)})"
        if c.services
        else c.title.text(lang)
        for c in catalog.optional_categories
    ]


def notice_content(catalog: Catalog, lang: str) -> dict[str, object]:
    """Everything a visitor is shown before deciding; hashed into each receipt."""
    return {
        "revision": catalog.revision,
        "language": lang,
        "texts": TEXTS[lang],
        "purposes": purposes(catalog, lang),
        "catalog": catalog.localized(lang),
    }
