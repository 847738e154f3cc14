"""What the banner and the settings page say, in every language of ``i18n.LANGUAGES``.

The texts are gettext messages (domain ``messages``, English message ids). They are part of the
notice a visitor consents to: they go, in the visitor's language, into the notice hash of every
receipt, and the banner receives them in the page's configuration block and from the second
layer's catalog endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from babel import Locale

from ..i18n import LANGUAGES, N_, gettext_in, ngettext_in
from .catalog import Catalog

#: Every text of the banner and the settings page by key (the keys are what banner.js reads).
#: The values are English message ids; :data:`TEXTS` holds them translated, per language.
SOURCE: dict[str, str] = {
    "title": N_("Privacy settings"),
    "intro": N_("With your consent we use cookies and similar technologies for:"),
    "essential_note": N_("Essential cookies only store your choice and protect forms."),
    "withdraw_note": N_(
        "You can change or withdraw your choice at any time under “Cookie settings” in the "
        "footer. Refusing has no disadvantages."
    ),
    "accept_all": N_("Accept all"),
    "reject_all": N_("Only essential"),
    "settings": N_("Settings"),
    "save": N_("Save selection"),
    "close": N_("Close without consenting"),
    "withdraw": N_("Withdraw all consent"),
    "services": N_("Services"),
    "provider": N_("Provider"),
    "purpose": N_("Purpose"),
    "legal_basis": N_("Legal basis"),
    "cookies": N_("Cookies"),
    "transfer": N_("Third-country transfer"),
    "policy": N_("Provider's privacy policy"),
    "privacy": N_("Privacy"),
    "imprint": N_("Legal notice"),
    "saved": N_("Your choice has been saved."),
    "save_failed": N_(
        "Your choice is not saved yet; it will be saved as soon as the connection is back."
    ),
    "gpc": N_(
        "Your browser sends the Global Privacy Control signal. We treat it as a refusal of all "
        "optional categories unless you choose otherwise."
    ),
    "embed": N_(
        "This content is provided by %(service)s (%(provider)s). Data such as your IP address "
        "reaches the provider only when you load it."
    ),
    "embed_load": N_("Load %(service)s"),
    "controller": N_("Controller: %(name)s, %(contact)s."),
    "transfers": N_(
        "Transfer to third countries (%(countries)s) by %(services)s, only with your consent."
    ),
    "data": N_("Data processed"),
    "pending": N_(
        "Your choice is not saved yet. Until it is, everything optional stays off; we keep "
        "trying."
    ),
    "reopen": N_("Open cookie settings"),
    # Lines built from catalog values: whole sentences with placeholders, so a language can
    # order them and set its own punctuation (French: a space before the colon).
    "purpose_line": N_("%(category)s (%(services)s): %(description)s"),
    "purpose_line_plain": N_("%(category)s: %(description)s"),
    "always_on_label": N_("%(category)s: always on"),
    "details_label": N_("Details: %(service)s"),
    "cookie_item": N_("(%(kind)s): %(purpose)s (lifetime: %(lifetime)s)"),
    "justification_item": N_("Why it is necessary: %(justification)s"),
    "action_accept_all": N_("Everything allowed"),
    "action_reject_all": N_("Only essential allowed"),
    "action_custom": N_("Own selection"),
    "action_withdraw": N_("All consent withdrawn"),
    "method_banner": N_("Banner"),
    "method_settings": N_("Settings page"),
    "method_form": N_("Form without JavaScript"),
    "method_gpc": N_("Global Privacy Control signal"),
    "method_api": N_("Programming interface"),
}
#: The names of the kinds of device storage, in the order of ``catalog.STORAGE_KINDS``; the
#: banner gets them joined by "|" as ``storage_kinds``.
STORAGE_KIND_NAMES = (
    N_("Cookie"), N_("Local storage"), N_("Session storage"), N_("IndexedDB"),
)


def texts(lang: str) -> dict[str, str]:
    """Every text of :data:`SOURCE` in one language (placeholders still unfilled)."""
    found = {key: gettext_in(lang, message) for key, message in SOURCE.items()}
    found["storage_kinds"] = "|".join(gettext_in(lang, n) for n in STORAGE_KIND_NAMES)
    return found


class _Texts(Mapping[str, dict[str, str]]):
    """``TEXTS[lang]``: the banner's texts per language, translated once and kept."""

    def __getitem__(self, lang: str) -> dict[str, str]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return _texts_cached(lang)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


@cache
def _texts_cached(lang: str) -> dict[str, str]:
    return texts(lang)


TEXTS: Mapping[str, dict[str, str]] = _Texts()


#: The texts the first layer's script needs on every page (the rest comes with the second
#: layer from the catalog endpoint, see :func:`second_layer`).
FIRST_LAYER_SCRIPT_TEXTS = ("close", "gpc", "pending", "saved")
#: The texts the second layer shows (served by ``/consent/catalog.<revision>.<lang>.json``).
SECOND_LAYER_TEXTS = (
    "title", "essential_note", "withdraw_note", "accept_all", "reject_all", "save", "close",
    "withdraw", "provider", "purpose", "legal_basis", "cookies", "transfer", "policy", "privacy",
    "imprint", "gpc", "data", "storage_kinds", "always_on_label", "details_label",
    "cookie_item", "justification_item",
)


def country_name(code: str, lang: str) -> str:
    """A country's name in ``lang`` from CLDR (Babel's locale data), or its ISO code."""
    return Locale.parse(lang).territories.get(code, code)


def service_counts(catalog: Catalog, lang: str) -> dict[str, str]:
    """"1 Dienst", "3 Dienste" for each category, in the language's own plural rules."""
    return {
        c.name: ngettext_in(lang, "%(num)d service", "%(num)d services", len(c.services))
        for c in catalog.categories
    }


def purposes(catalog: Catalog, lang: str) -> list[str]:
    """Every optional purpose with its services and its one-line description."""
    texts = TEXTS[lang]
    lines = []
    for c in catalog.optional_categories:
        values = {
            "category": c.title.text(lang),
            "services": ", ".join(s.title.text(lang) for s in c.services),
            "description": c.description.text(lang),
        }
        lines.append(texts["purpose_line" if c.services else "purpose_line_plain"] % values)
    return lines


def first_layer(catalog: Catalog, lang: str) -> dict[str, object]:
    """What the first layer says besides the fixed texts: who is responsible, every purpose,
    and which services transfer data to which third countries."""
    texts = TEXTS[lang]
    transferring = [s for s in catalog.services if s.third_countries]
    countries = sorted({c for s in transferring for c in s.third_countries})
    return {
        "controller": texts["controller"]
        % {"name": catalog.controller.name, "contact": catalog.controller.contact},
        "purposes": purposes(catalog, lang),
        "transfers": texts["transfers"]
        % {
            "countries": ", ".join(country_name(c, lang) for c in countries),
            "services": ", ".join(s.title.text(lang) for s in transferring),
        }
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
        "counts": service_counts(catalog, lang),
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
        "counts": service_counts(catalog, lang),
    }
