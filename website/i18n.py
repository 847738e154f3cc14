"""Languages and translations: Flask-Babel over the gettext catalogs in ``website/translations``.

The one list of languages is :data:`LANGUAGES`; the language switcher, the locale selector, the
consent API's ``lang`` field, the catalog endpoint and the tests all read it, and a test checks
that ``website/translations`` holds exactly these catalogs. Message ids are the English source
texts (gettext's convention); the site's default language stays German (docs/translations.md).

Two gettext domains:

- ``messages``: every text of the code and templates (``pybabel extract -F babel.cfg``);
- ``catalog``: the texts of the consent catalog (``website/consent/catalog.toml``), extracted by
  :func:`website.consent.catalog.extract_catalog`, so the operator writes each text once.

Texts that are computed once per language outside a request (the banner's texts, the notice
that is hashed into every receipt) use :func:`translations`, which reads the same ``.mo`` files
Flask-Babel reads.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, request
from flask_babel import Babel

#: Every language the site speaks, German first (the default).
LANGUAGES = ("de", "en", "fr", "nl")
DEFAULT = "de"
#: The language of the message ids (the English source texts).
SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAINS = ("messages", "catalog")

babel = Babel()


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name for a marker)
    """Mark a text for extraction without translating it now (it is translated per language
    later, e.g. once per language at start-up)."""
    return message


def select_language() -> str:
    """The language of this request: ``?lang=`` first, then Accept-Language, then German; the
    admin (``/admin``) speaks ``ADMIN_LANGUAGE`` (English unless configured).

    Accept-Language is read in the visitor's order of preference, a regional tag counting for
    its language ("fr-FR,de;q=0.5" is French, not German: Werkzeug's ``best_match`` would
    prefer the exact ``de``)."""
    if request.blueprint == "admin":  # the operator's screens: one configured language
        return current_app.config.get("ADMIN_LANGUAGE") or SOURCE_LANGUAGE
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    preferred = [value.lower() for value, quality in request.accept_languages if quality > 0]
    found = negotiate_locale(preferred, LANGUAGES, sep="-")
    return found if found in LANGUAGES else DEFAULT


def language_name(lang: str) -> str:
    """A language's name in itself ("Deutsch", "Français"), for the language switcher."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


@cache
def translations(lang: str, domain: str = "messages") -> NullTranslations:
    """The compiled catalog of one language and domain (the English source needs none)."""
    return Translations.load(str(TRANSLATIONS_DIR), [lang], domain)


def gettext_in(lang: str, message: str, domain: str = "messages", **values: object) -> str:
    """``message`` in ``lang`` (outside a request, or for a language other than the page's),
    with ``%(name)s`` placeholders filled in."""
    text = translations(lang, domain).gettext(message)
    return text % values if values else text


def ngettext_in(lang: str, singular: str, plural: str, n: int, **values: object) -> str:
    """The plural form of ``singular``/``plural`` for ``n`` in ``lang``; ``%(num)d`` is ``n``."""
    return translations(lang).ngettext(singular, plural, n) % {"num": n, **values}


def init_app(app: Flask) -> None:
    """Flask-Babel for the app: the request's language is :func:`select_language`; templates
    get ``_``/``gettext``/``ngettext`` (autoescaped, ``%(name)s`` placeholders)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
