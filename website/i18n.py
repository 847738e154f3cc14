"""Page language: German by default, English with ``?lang=en`` or Accept-Language."""

from __future__ import annotations

from flask import request

LANGUAGES = ("de", "en")
DEFAULT = "de"

MESSAGES: dict[str, dict[str, str]] = {
    "skip": {"de": "Zum Inhalt springen", "en": "Skip to content"},
    "home": {"de": "Startseite", "en": "Home"},
    "privacy": {"de": "Datenschutz", "en": "Privacy"},
    "imprint": {"de": "Impressum", "en": "Legal notice"},
    "cookie_settings": {"de": "Cookie-Einstellungen", "en": "Cookie settings"},
    "other_language": {"de": "English", "en": "Deutsch"},
    "as_of": {"de": "Stand", "en": "As of"},
    "error_title": {"de": "Das hat nicht geklappt", "en": "That did not work"},
    "back": {"de": "Zurück zur Startseite", "en": "Back to the home page"},
    "csrf_failed": {
        "de": "Das Formular war abgelaufen oder kam nicht von dieser Website. Es wurde nichts "
        "gespeichert. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "en": "The form had expired or did not come from this website. Nothing was saved. "
        "Please reload the page and try again.",
    },
    # Error pages whose message would otherwise be Werkzeug's English text (error.html).
    "not_found": {
        "de": "Diese Seite gibt es nicht.",
        "en": "This page does not exist.",
    },
    "method_not_allowed": {
        "de": "Diese Adresse lässt sich so nicht aufrufen.",
        "en": "This address cannot be requested this way.",
    },
}


def select_language() -> str:
    """The language of this request: ``?lang=`` first, then Accept-Language, then German."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def translate(key: str, lang: str) -> str:
    return MESSAGES[key][lang]
