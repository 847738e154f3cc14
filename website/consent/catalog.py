"""The consent catalog: the operator's list of categories and services, validated at start-up.

The catalog is one TOML file. Its *revision* is a hash of the material content (purposes,
services, recipients, cookies, transfers): when that changes, every earlier decision counts as
undecided again. Titles and the providers' policy links are not material and do not change it.

Every text a visitor reads is written once, in English (the message id); its translations live
in the gettext domain ``catalog`` (``website/translations/LANG/LC_MESSAGES/catalog.po``), which
:func:`extract_catalog` fills from this file (``make translations-extract``). The revision
covers the text in every language, so a changed translation asks again too.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..i18n import LANGUAGES, gettext_in

GOOGLE_CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
#: What each kind of tag needs in its ``[services.NAME.tag]`` table.
TAG_OPTIONS = {
    "matomo": ("url", "site_id"),
    "ga4": ("measurement_id",),
    "google_ads": ("conversion_id",),
    "meta_pixel": ("pixel_id",),
    "gtm": ("container_id",),
    "embed": (),
}
_GTM_CONTAINER = re.compile(r"GTM-[A-Z0-9]{4,12}")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HOST = re.compile(r"^https://(\*\.)?[a-z0-9.-]+(:\d+)?$")
_COUNTRY = re.compile(r"[A-Z]{2}")
#: Where a service keeps something on the visitor's device (TDDDG § 25 covers all of them).
STORAGE_KINDS = ("cookie", "local_storage", "session_storage", "indexeddb")


class CatalogError(ValueError):
    """The catalog file cannot be used; the message names the file, line and problem."""


#: The keys whose value is a text shown to visitors (translated in the ``catalog`` domain), in
#: category, service and cookie tables.
LOCALIZED_KEYS = {
    "category": ("title", "description"),
    "service": ("name", "provider", "purpose", "legal_basis", "transfer", "data"),
    "cookie": ("lifetime", "purpose", "justification"),
}


class Localized(dict):
    """A text in every language of ``i18n.LANGUAGES``: the source text (:attr:`source`, the
    message id) and its translation from the ``catalog`` domain (the source where none)."""

    @property
    def source(self) -> str:
        return self["source"]

    def text(self, lang: str) -> str:
        return self.get(lang) or self["source"]


def translate_text(source: str, lookup: Callable[[str, str], str] | None = None) -> Localized:
    """``source`` in every language, from the ``catalog`` gettext domain by default."""
    lookup = lookup or (lambda lang, message: gettext_in(lang, message, "catalog"))
    return Localized(source=source, **{lang: lookup(lang, source) for lang in LANGUAGES})


@dataclass(frozen=True)
class CookieInfo:
    """One item a service stores on the device: a cookie, or a local/session storage or
    IndexedDB key. A required item states why it is strictly necessary (``justification``)."""

    name: str
    lifetime: Localized
    purpose: Localized
    kind: str = "cookie"
    justification: Localized | None = None

    @property
    def is_pattern(self) -> bool:
        return any(c in self.name for c in "*?[")

    def matches(self, cookie_name: str) -> bool:
        return fnmatch.fnmatchcase(cookie_name, self.name)


@dataclass(frozen=True)
class Service:
    name: str
    title: Localized
    category: str
    provider: Localized
    purpose: Localized
    legal_basis: Localized
    third_country: bool
    transfer: Localized
    privacy_policy: str
    cookies: tuple[CookieInfo, ...]
    hosts: tuple[str, ...]
    tag: dict[str, str]
    data: Localized
    third_countries: tuple[str, ...] = ()
    google_consent: tuple[str, ...] = ()

    @property
    def tag_kind(self) -> str | None:
        return self.tag.get("kind")


@dataclass(frozen=True)
class Category:
    name: str
    title: Localized
    description: Localized
    required: bool
    services: tuple[Service, ...]


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing (GDPR Art. 4(7)): named on the first layer."""

    name: str
    contact: str


@dataclass(frozen=True)
class Catalog:
    path: str
    categories: tuple[Category, ...]
    revision: str
    controller: Controller

    @property
    def services(self) -> tuple[Service, ...]:
        return tuple(s for c in self.categories for s in c.services)

    @property
    def optional_categories(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if not c.required)

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def services_with_tag(self, kind: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.tag_kind == kind)

    @property
    def google_tags(self) -> tuple[Service, ...]:
        """Services loaded through Google's gtag.js or Tag Manager (they need the Consent Mode
        defaults set before them)."""
        return tuple(s for s in self.services if s.tag_kind in ("ga4", "google_ads", "gtm"))

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(sorted({h for s in self.services for h in s.hosts}))

    def localized(self, lang: str) -> list[dict[str, Any]]:
        """The catalog as shown to a visitor in one language (settings page, banner, notice)."""
        return [
            {
                "name": c.name,
                "title": c.title.text(lang),
                "description": c.description.text(lang),
                "required": c.required,
                "services": [
                    {
                        "name": s.name,
                        "title": s.title.text(lang),
                        "provider": s.provider.text(lang),
                        "purpose": s.purpose.text(lang),
                        "legal_basis": s.legal_basis.text(lang),
                        "third_country": s.third_country,
                        "third_countries": list(s.third_countries),
                        "transfer": s.transfer.text(lang),
                        "data": s.data.text(lang),
                        "privacy_policy": s.privacy_policy,
                        "google_consent": list(s.google_consent),
                        "cookies": [
                            {
                                "name": k.name,
                                "kind": k.kind,
                                "lifetime": k.lifetime.text(lang),
                                "purpose": k.purpose.text(lang),
                                **(
                                    {"justification": k.justification.text(lang)}
                                    if k.justification
                                    else {}
                                ),
                            }
                            for k in s.cookies
                        ],
                    }
                    for s in c.services
                ],
            }
            for c in self.categories
        ]


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate the catalog file; raise :class:`CatalogError` naming file and line."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the consent catalog: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: the consent catalog is not UTF-8: {exc}") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    return _Parser(path, source).parse(data)


class _Parser:
    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.lines = source.splitlines()

    def line_of(self, table: str, key: str | None = None) -> int:
        """Best line for a problem in ``[table]`` (or at ``key`` inside it); 1 if not found."""
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
        start = next((i for i, line in enumerate(self.lines) if header.match(line)), None)
        if start is None:
            return 1
        if key is not None:
            keyline = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
            for i in range(start + 1, len(self.lines)):
                if self.lines[i].lstrip().startswith("["):
                    break
                if keyline.match(self.lines[i]):
                    return i + 1
        return start + 1

    def fail(self, table: str, key: str | None, problem: str) -> CatalogError:
        where = f"[{table}]" + (f" {key}" if key else "")
        return CatalogError(f"{self.path}, line {self.line_of(table, key)}: {where}: {problem}")

    def text(self, table: str, entry: dict[str, Any], key: str, at: str | None = None) -> str:
        """A required string; ``at`` is the key whose line to blame (for nested tables)."""
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(table, at or key, f"'{key}' must be a non-empty string")
        return value

    def localized(
        self, table: str, entry: dict[str, Any], key: str, at: str | None = None
    ) -> Localized:
        """A text written once, in English; its translations come from the catalog domain.

        An inline table of languages (the format before gettext) is refused with a message
        that says where translations go now: one mechanism, not two."""
        value = entry.get(key)
        where = at or key
        if isinstance(value, dict):
            raise self.fail(
                table,
                where,
                f"'{key}' must be one English text, not a table of languages: write "
                f'{key} = "..." and put its translations in '
                "website/translations/LANG/LC_MESSAGES/catalog.po (docs/translations.md)",
            )
        if not isinstance(value, str) or not value.strip():
            raise self.fail(table, where, f"'{key}' must be a non-empty string")
        return translate_text(value)

    def parse(self, data: dict[str, Any]) -> Catalog:
        unknown = set(data) - {"controller", "categories", "services"}
        if unknown:
            raise CatalogError(f"{self.path}, line 1: unknown top-level table(s) {sorted(unknown)}")
        raw_categories = data.get("categories")
        if not isinstance(raw_categories, dict) or not raw_categories:
            raise CatalogError(f"{self.path}, line 1: the catalog needs [categories.NAME] tables")
        raw_services = data.get("services") or {}
        services_by_category: dict[str, list[Service]] = {name: [] for name in raw_categories}
        for name, entry in raw_services.items():
            service = self.service(name, entry, raw_categories)
            services_by_category[service.category].append(service)
        categories = tuple(
            self.category(name, entry, tuple(services_by_category[name]))
            for name, entry in raw_categories.items()
        )
        if not any(c.required for c in categories):
            raise CatalogError(f"{self.path}, line 1: one category must be required = true")
        controller = self.controller(data.get("controller"))
        return Catalog(str(self.path), categories, _revision(categories, controller), controller)

    def controller(self, raw: Any) -> Controller:
        if not isinstance(raw, dict):
            raise CatalogError(
                f"{self.path}, line 1: the catalog needs a [controller] table with the site "
                "operator's name and contact (it is named on the first layer)"
            )
        return Controller(
            self.text("controller", raw, "name"), self.text("controller", raw, "contact")
        )

    def category(self, name: str, entry: Any, services: tuple[Service, ...]) -> Category:
        table = f"categories.{name}"
        if not _NAME.match(name):
            raise self.fail(table, None, "a category name must be lower-case letters, digits, _")
        if not isinstance(entry, dict):
            raise self.fail(table, None, "must be a table")
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(table, "required", "'required' must be true or false")
        if "google_consent" in entry:
            raise self.fail(
                table,
                "google_consent",
                "Consent Mode types belong to the services that use them: move "
                "'google_consent' to each [services.NAME] (a category grants no Google type)",
            )
        if required:
            for service in services:
                self.check_essential(service)
        return Category(
            name=name,
            title=self.localized(table, entry, "title"),
            description=self.localized(table, entry, "description"),
            required=required,
            services=services,
        )

    def check_essential(self, service: Service) -> None:
        """A required category cannot be refused, so it may hold only first-party, strictly
        necessary services: no third-party host, script, iframe or transfer, and a stated
        justification for every item stored on the device (EDPB cookie banner taskforce,
        para. 28)."""
        table = f"services.{service.name}"
        if service.hosts or service.tag or service.third_country:
            key = "hosts" if service.hosts else "tag" if service.tag else "third_country"
            raise self.fail(
                table,
                key,
                f"service '{service.name}' is in a required category but loads a third party "
                f"({key}); essential services must be first-party and strictly necessary: "
                "move it to an optional category",
            )
        for item in service.cookies:
            if item.justification is None:
                raise self.fail(
                    table,
                    "cookies",
                    f"required item '{item.name}' of service '{service.name}' needs a "
                    "'justification': why it is strictly necessary",
                )

    def service(self, name: str, entry: Any, categories: dict[str, Any]) -> Service:
        table = f"services.{name}"
        if not _NAME.match(name):
            raise self.fail(table, None, "a service name must be lower-case letters, digits, _")
        if name in categories:
            raise self.fail(table, None, f"'{name}' is already the name of a category")
        if not isinstance(entry, dict):
            raise self.fail(table, None, "must be a table")
        category = entry.get("category")
        if category not in categories:
            known = sorted(categories)
            problem = f"'category' must be one of {known}, not {category!r}"
            raise self.fail(table, "category", problem)
        third_country = entry.get("third_country")
        if not isinstance(third_country, bool):
            raise self.fail(table, "third_country", "'third_country' must be true or false")
        policy = self.text(table, entry, "privacy_policy")
        if not policy.startswith(("https://", "/")):
            raise self.fail(table, "privacy_policy", "'privacy_policy' must be an https:// link")
        hosts = entry.get("hosts", [])
        if not isinstance(hosts, list) or any(
            not isinstance(h, str) or not _HOST.match(h) for h in hosts
        ):
            raise self.fail(table, "hosts", "'hosts' must list origins like https://example.com")
        countries = entry.get("third_countries", [])
        if not isinstance(countries, list) or any(
            not isinstance(c, str) or not _COUNTRY.fullmatch(c) for c in countries
        ):
            raise self.fail(
                table, "third_countries", "'third_countries' lists ISO codes like [\"US\"]"
            )
        if third_country != bool(countries):
            raise self.fail(
                table,
                "third_countries",
                "a service with third_country = true names its countries in "
                "'third_countries' (e.g. [\"US\"]); one without lists none",
            )
        google = entry.get("google_consent", [])
        if not isinstance(google, list) or any(g not in GOOGLE_CONSENT_TYPES for g in google):
            raise self.fail(
                table, "google_consent", f"'google_consent' takes {list(GOOGLE_CONSENT_TYPES)}"
            )
        return Service(
            name=name,
            title=self.localized(table, entry, "name"),
            category=category,
            provider=self.localized(table, entry, "provider"),
            purpose=self.localized(table, entry, "purpose"),
            legal_basis=self.localized(table, entry, "legal_basis"),
            third_country=third_country,
            transfer=self.localized(table, entry, "transfer"),
            privacy_policy=policy,
            cookies=self.cookies(table, entry.get("cookies", [])),
            hosts=tuple(hosts),
            tag=self.tag(table, entry.get("tag")),
            data=self.localized(table, entry, "data"),
            third_countries=tuple(countries),
            google_consent=tuple(google),
        )

    def cookies(self, table: str, raw: Any) -> tuple[CookieInfo, ...]:
        if not isinstance(raw, list):
            raise self.fail(table, "cookies", "'cookies' must be a list of tables")
        cookies = []
        for item in raw:
            if not isinstance(item, dict):
                raise self.fail(table, "cookies", "every cookie must be { name = ..., ... }")
            kind = item.get("type", "cookie")
            if kind not in STORAGE_KINDS:
                raise self.fail(table, "cookies", f"an item's 'type' is one of {STORAGE_KINDS}")
            cookies.append(
                CookieInfo(
                    name=self.text(table, item, "name", at="cookies"),
                    lifetime=self.localized(table, item, "lifetime", at="cookies"),
                    purpose=self.localized(table, item, "purpose", at="cookies"),
                    kind=kind,
                    justification=(
                        self.localized(table, item, "justification", at="cookies")
                        if "justification" in item
                        else None
                    ),
                )
            )
        return tuple(cookies)

    def tag(self, table: str, raw: Any) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(table, "tag", "'tag' must be a table")
        kind = raw.get("kind")
        if kind not in TAG_OPTIONS:
            raise self.fail(table, "tag", f"the tag's 'kind' must be one of {sorted(TAG_OPTIONS)}")
        for option in TAG_OPTIONS[kind]:
            self.text(table, raw, option, at="tag")
        if kind == "gtm" and not _GTM_CONTAINER.fullmatch(str(raw["container_id"])):
            raise self.fail(table, "tag", "the 'container_id' of Tag Manager is like GTM-AB12CD3")
        if kind == "matomo" and not str(raw["url"]).startswith("https://"):
            raise self.fail(table, "tag", "the Matomo 'url' must start with https://")
        return {k: str(v) for k, v in raw.items()}


def _revision(categories: tuple[Category, ...], controller: Controller) -> str:
    material: list[Any] = [{"controller": [controller.name, controller.contact]}] + [
        {
            "category": c.name,
            "required": c.required,
            "description": c.description,
            "services": [
                {
                    "name": s.name,
                    "provider": s.provider,
                    "purpose": s.purpose,
                    "legal_basis": s.legal_basis,
                    "third_country": s.third_country,
                    "third_countries": list(s.third_countries),
                    "transfer": s.transfer,
                    "data": s.data,
                    "google_consent": sorted(s.google_consent),
                    "hosts": sorted(s.hosts),
                    "cookies": [[k.name, k.kind, k.lifetime, k.purpose] for k in s.cookies],
                }
                for s in c.services
            ],
        }
        for c in categories
    ]
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def extract_catalog(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for the consent catalog (``babel.cfg``: ``[website.consent.
    catalog:extract_catalog: **/catalog.toml]``): every visitor-facing text, with its line.

    Yields ``(lineno, funcname, message, comments)`` as Babel expects; the comment names the
    table and key, so a translator sees what the text is.
    """
    source = fileobj.read().decode("utf-8")
    data = tomllib.loads(source)
    lines = source.splitlines()

    def line_of(text: str) -> int:
        quoted = json.dumps(text, ensure_ascii=False)
        return next((i + 1 for i, line in enumerate(lines) if quoted in line), 1)

    def texts(
        kind: str, where: str, table: dict[str, Any]
    ) -> Iterator[tuple[int, str, str, list[str]]]:
        for key in LOCALIZED_KEYS[kind]:
            value = table.get(key)
            if isinstance(value, str) and value.strip():
                yield line_of(value), "", value, [f"{where} {key}"]

    for name, category in (data.get("categories") or {}).items():
        yield from texts("category", f"[categories.{name}]", category)
    for name, service in (data.get("services") or {}).items():
        yield from texts("service", f"[services.{name}]", service)
        for item in service.get("cookies", []):
            if isinstance(item, dict):
                yield from texts("cookie", f"[services.{name}] cookie {item.get('name')}", item)
