"""The consent catalog: validation with file and line, and what changes the revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from website import create_app
from website.consent.catalog import CatalogError, load_catalog

SHIPPED = Path(__file__).resolve().parents[2] / "website" / "consent" / "catalog.toml"

MINIMAL = """\
[categories.essential]
required = true
title = "Notwendig"
description = "Technisch nötig"

[categories.statistics]
title = { de = "Statistik", en = "Statistics" }
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
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_has_the_four_categories_and_real_services():
    catalog = load_catalog(SHIPPED)
    assert [c.name for c in catalog.categories] == ["essential", "statistics", "marketing", "media"]
    assert catalog.category("essential").required
    assert {s.name for s in catalog.services} == {"site", "matomo", "ga4", "meta_pixel", "youtube"}
    ga4 = catalog.service("ga4")
    assert ga4.third_country and "Data Privacy Framework" in ga4.transfer.text("de")
    assert [k.name for k in ga4.cookies] == ["_ga", "_ga_*"]
    assert ga4.cookies[1].matches("_ga_ABC123") and not ga4.cookies[1].matches("_gat")


def test_minimal_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, MINIMAL))
    assert catalog.service("matomo").purpose.text("en") == "Zählen"  # falls back to German
    assert catalog.category("statistics").title.text("en") == "Statistics"


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (('category = "statistics"', 'category = "tracking"'), 11, "'category' must be one of"),
        (("third_country = false", 'third_country = "no"'), 16, "'third_country'"),
        (('provider = "Wir"\n', ""), 10, "'provider' must be a non-empty string"),
        (('privacy_policy = "https://', 'privacy_policy = "http://'), 18, "https://"),
        (('required = true', 'required = "yes"'), 2, "'required'"),
        (('[services.matomo]', '[services.Matomo]'), 10, "lower-case"),
        (('purpose = "Zählen"', 'purpose = { fr = "Compter" }'), 14, "German text"),
        (('cookies = [{ name = "_pk_id.*", ', 'cookies = [{ '), 19, "'name'"),
        (('lifetime = "13 Monate"', 'lifetime = 13'), 19, "'lifetime'"),
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
    with pytest.raises(CatalogError, match=rf"{path}: not valid TOML: .*line 12"):
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
    with pytest.raises(CatalogError, match=rf"{path}, line 16"):
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
        ("third_country = false", "third_country = true"),
    ):
        changed = load_catalog(write(tmp_path, MINIMAL.replace(*material, 1))).revision
        assert changed != base, material


def test_tag_problems_point_at_the_tag_line(tmp_path):
    text = MINIMAL + 'tag = { kind = "matomo", url = "http://stats.example.de/", site_id = "1" }\n'
    with pytest.raises(CatalogError, match=r"line 20: \[services.matomo\] tag: .*https://"):
        load_catalog(write(tmp_path, text))
    unknown_kind = MINIMAL + 'tag = { kind = "hotjar" }\n'
    with pytest.raises(CatalogError, match=r"line 20: .*'kind' must be one of"):
        load_catalog(write(tmp_path, unknown_kind))
    missing_option = MINIMAL + 'tag = { kind = "matomo", url = "https://s.example.de/" }\n'
    with pytest.raises(CatalogError, match=r"line 20: .*'site_id'"):
        load_catalog(write(tmp_path, missing_option))
