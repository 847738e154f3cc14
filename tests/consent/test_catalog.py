"""The consent catalog: validation with file and line, and what changes the revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from website import create_app
from website.consent.catalog import CatalogError, load_catalog

SHIPPED = Path(__file__).resolve().parents[2] / "website" / "consent" / "catalog.toml"

MINIMAL = """\
[controller]
name = "Beispiel GmbH"
contact = "Musterstraße 1, 12345 Musterstadt"

[categories.essential]
required = true
title = "Notwendig"
description = "Technisch nötig"

[categories.statistics]
title = "Statistics"
description = "Zählen"

[services.matomo]
category = "statistics"
name = "Matomo"
provider = "Wir"
purpose = "Zählen"
legal_basis = "Art. 6 Abs. 1 lit. a DSGVO"
third_country = false
transfer = "keine"
privacy_policy = "https://matomo.org/privacy-policy/"
cookies = [{ name = "_pk_id.*", lifetime = "13 Monate", purpose = "Wiedererkennung" }]
data = "Gekürzte IP-Adresse, aufgerufene Seiten"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_has_the_four_categories_and_real_services():
    catalog = load_catalog(SHIPPED)
    assert [c.name for c in catalog.categories] == ["essential", "statistics", "marketing", "media"]
    assert catalog.category("essential").required
    assert {s.name for s in catalog.services} == {
        "site", "matomo", "ga4", "gtm", "google_ads", "meta_pixel", "youtube"
    }
    ga4 = catalog.service("ga4")
    assert ga4.third_country and "Data Privacy Framework" in ga4.transfer.text("de")
    assert [k.name for k in ga4.cookies] == ["_ga", "_ga_*"]
    assert ga4.cookies[1].matches("_ga_ABC123") and not ga4.cookies[1].matches("_gat")


def test_minimal_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, MINIMAL))
    # A text without a translation in the catalog domain is shown as written (the source);
    # "Statistics" is translated by the shipped website/translations/*/catalog.po.
    assert catalog.service("matomo").purpose.text("en") == "Zählen"
    assert catalog.service("matomo").purpose.text("fr") == "Zählen"
    statistics = catalog.category("statistics").title
    assert statistics.source == "Statistics" == statistics.text("en")
    assert (statistics.text("de"), statistics.text("fr"), statistics.text("nl")) == (
        "Statistik", "Statistiques", "Statistieken")


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (('category = "statistics"', 'category = "tracking"'), 15, "'category' must be one of"),
        (("third_country = false", 'third_country = "no"'), 20, "'third_country'"),
        (('provider = "Wir"\n', ""), 14, "'provider' must be a non-empty string"),
        (('privacy_policy = "https://', 'privacy_policy = "http://'), 22, "https://"),
        (('required = true', 'required = "yes"'), 6, "'required'"),
        (('[services.matomo]', '[services.Matomo]'), 14, "lower-case"),
        (('purpose = "Zählen"', 'purpose = { de = "Zählen", en = "Count" }'), 18,
         "one English text, not a table of languages"),
        (('purpose = "Zählen"', 'purpose = ""'), 18, "'purpose' must be a non-empty string"),
        (('cookies = [{ name = "_pk_id.*", ', 'cookies = [{ '), 23, "'name'"),
        (('lifetime = "13 Monate"', 'lifetime = 13'), 23, "'lifetime'"),
    ],
)
def test_broken_catalog_names_file_line_and_problem(tmp_path, change, line, problem):
    path = write(tmp_path, MINIMAL.replace(*change, 1))
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    message = str(error.value)
    assert message.startswith(f"{path}, line {line}:"), message
    assert problem in message


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, MINIMAL.replace('name = "Matomo"', 'name = "Matomo'))
    with pytest.raises(CatalogError, match=rf"{path}: not valid TOML: .*line 16"):
        load_catalog(path)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match="cannot read the consent catalog"):
        load_catalog(tmp_path / "nope.toml")


def test_catalog_without_required_category(tmp_path):
    path = write(tmp_path, MINIMAL.replace("required = true\n", ""))
    with pytest.raises(CatalogError, match="one category must be required"):
        load_catalog(path)


def test_app_refuses_to_start_with_a_broken_catalog(tmp_path):
    path = write(tmp_path, MINIMAL.replace("third_country = false", "third_country = 1"))
    with pytest.raises(CatalogError, match=rf"{path}, line 20"):
        create_app({"CONSENT_CATALOG": str(path), "SECRET_KEY": "x",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"})


def test_revision_follows_material_content_only(tmp_path):
    base = load_catalog(write(tmp_path, MINIMAL)).revision
    assert load_catalog(write(tmp_path, MINIMAL)).revision == base  # stable
    retitled = MINIMAL.replace('name = "Matomo"', 'name = "Matomo Analytics"')
    assert load_catalog(write(tmp_path, retitled)).revision == base  # cosmetic
    for material in (
        ('purpose = "Zählen"', 'purpose = "Zählen und Profile bilden"'),
        ('provider = "Wir"', 'provider = "Ein Dienstleister"'),
        ('lifetime = "13 Monate"', 'lifetime = "25 Monate"'),
        ('transfer = "keine"', 'transfer = "an einen Auftragsverarbeiter"'),
        ('data = "Gekürzte IP-Adresse', 'data = "Vollständige IP-Adresse'),
        ('contact = "Musterstraße 1', 'contact = "Hauptstraße 2'),
    ):
        changed = load_catalog(write(tmp_path, MINIMAL.replace(*material, 1))).revision
        assert changed != base, material


def test_tag_problems_point_at_the_tag_line(tmp_path):
    text = MINIMAL + 'tag = { kind = "matomo", url = "http://stats.example.de/", site_id = "1" }\n'
    with pytest.raises(CatalogError, match=r"line 25: \[services.matomo\] tag: .*https://"):
        load_catalog(write(tmp_path, text))
    unknown_kind = MINIMAL + 'tag = { kind = "hotjar" }\n'
    with pytest.raises(CatalogError, match=r"line 25: .*'kind' must be one of"):
        load_catalog(write(tmp_path, unknown_kind))
    missing_option = MINIMAL + 'tag = { kind = "matomo", url = "https://s.example.de/" }\n'
    with pytest.raises(CatalogError, match=r"line 25: .*'site_id'"):
        load_catalog(write(tmp_path, missing_option))


ESSENTIAL_SERVICE = """
[services.site]
category = "essential"
name = "Diese Website"
provider = "Wir"
purpose = "Speichert die Auswahl"
legal_basis = "§ 25 Abs. 2 Nr. 2 TDDDG"
third_country = false
transfer = "keine"
privacy_policy = "/datenschutz"
data = "Ihre Auswahl"
cookies = [{ name = "consent", lifetime = "6 Monate", purpose = "Auswahl", JUSTIFIED }]
""".replace("JUSTIFIED", 'justification = "Sonst fragt jede Seite neu"')


def test_a_required_category_holds_only_first_party_justified_services(tmp_path):
    """Both sides: a first-party essential service with justified cookies loads; a third-party
    host, a tag, a transfer or an unjustified cookie in it is refused, naming file, line and
    service."""
    good = load_catalog(write(tmp_path, MINIMAL + ESSENTIAL_SERVICE))
    cookie = good.service("site").cookies[0]
    assert cookie.justification.text("en") == "Sonst fragt jede Seite neu"
    for change, key in (
        (("data =", 'hosts = ["https://cdn.example.net"]\ndata ='), "hosts"),
        (("data =", 'tag = { kind = "embed" }\ndata ='), "tag"),
        (("third_country = false", 'third_country = true\nthird_countries = ["US"]'),
         "third_country"),
    ):
        text = MINIMAL + ESSENTIAL_SERVICE.replace(*change, 1)
        path = write(tmp_path, text)
        with pytest.raises(CatalogError) as error:
            load_catalog(path)
        message = str(error.value)
        assert message.startswith(f"{path}, line "), message
        assert "service 'site' is in a required category" in message and f"({key})" in message
        line = int(message.split("line ")[1].split(":")[0])
        assert text.splitlines()[line - 1].startswith(key), (line, message)
    unjustified = ESSENTIAL_SERVICE.replace(', justification = "Sonst fragt jede Seite neu"', "")
    path = write(tmp_path, MINIMAL + unjustified)
    with pytest.raises(CatalogError, match=r"line \d+: \[services.site\] cookies: required item "
                       r"'consent' of service 'site' needs a 'justification'"):
        load_catalog(path)


def test_every_storage_item_and_transfer_is_declared_in_the_shipped_catalog():
    catalog = load_catalog(SHIPPED)
    names = {s.name: {(k.kind, k.name) for k in s.cookies} for s in catalog.services}
    assert {("cookie", "_fbp"), ("cookie", "_fbc")} <= names["meta_pixel"]
    assert {("cookie", "_ga"), ("cookie", "_ga_*")} <= names["ga4"]
    assert {("cookie", "_pk_id.*"), ("cookie", "_pk_ses.*")} <= names["matomo"]
    assert {kind for kind, _ in names["youtube"]} == {
        "local_storage", "session_storage", "indexeddb"
    }
    assert ("local_storage", "consent-pending") in names["site"]
    for service in catalog.services:
        assert service.data.text("de") and service.data.text("en"), service.name
        assert bool(service.third_countries) == service.third_country, service.name
    assert catalog.service("ga4").google_consent == ("analytics_storage",)
    assert set(catalog.service("google_ads").google_consent) == {
        "ad_storage", "ad_user_data", "ad_personalization"
    }
    assert catalog.service("meta_pixel").google_consent == ()
    assert catalog.service("matomo").google_consent == ()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("third_country = false", 'third_country = true'), "names its countries"),
        (("third_country = false", 'third_country = false\nthird_countries = ["US"]'),
         "names its countries"),
        (("third_country = false", 'third_country = true\nthird_countries = ["usa"]'),
         "ISO codes"),
        (('description = "Zählen"',
          'description = "Zählen"\ngoogle_consent = ["analytics_storage"]'),
         "belong to the services"),
        (('purpose = "Wiedererkennung" }', 'purpose = "x", type = "flash" }'), "'type' is one of"),
        (('data = "Gekürzte IP-Adresse, aufgerufene Seiten"\n', ""),
         "'data' must be a non-empty string"),
        ((MINIMAL[: MINIMAL.index("[categories")], ""), "[controller] table"),
    ],
)
def test_catalog_claims_are_checked(tmp_path, change, problem):
    path = write(tmp_path, MINIMAL.replace(*change, 1))
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert str(error.value).startswith(f"{path}, line "), str(error.value)
    assert problem in str(error.value)
