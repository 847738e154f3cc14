"""The gettext catalogs: complete in every language and domain, current with the sources and
compiled; every page speaks every language; the banner and the receipts follow the language."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.admin.helpers import PASSWORD, Clock, login, new_client
from tests.conftest import csrf_token, post_choice
from website.admin.accounts import Accounts
from website.consent.catalog import load_catalog
from website.consent.texts import SOURCE, TEXTS
from website.i18n import DOMAINS, LANGUAGES, SOURCE_LANGUAGE, TRANSLATIONS_DIR, gettext_in

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"messages": "babel.cfg", "catalog": "babel-catalog.cfg"}
CATALOGS = [(lang, domain) for lang in LANGUAGES for domain in DOMAINS]
#: Languages whose pages must not show an English message id (English is the source).
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdrif]")
PAGES = ["/", "/datenschutz", "/impressum", "/cookie-einstellungen", "/kontakt", "/kontakt/danke",
         "/meine-daten", "/gibt-es-nicht"]


@pytest.fixture
def backend() -> str:
    """Rendering does not depend on the database: SQLite only (receipts are tested on both)."""
    return "sqlite"


def po(lang: str, domain: str):
    path = TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


def ids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_the_language_list_is_the_translations_folder():
    """i18n.LANGUAGES is the one list: a folder per language, each with both domains."""
    folders = {p.name for p in TRANSLATIONS_DIR.iterdir() if p.is_dir()}
    assert folders == set(LANGUAGES)
    for lang, domain in CATALOGS:
        for suffix in (".po", ".mo"):
            assert (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{domain}{suffix}").is_file()
    assert LANGUAGES[0] == "de"  # the default language


@pytest.mark.parametrize(("lang", "domain"), CATALOGS)
def test_every_message_is_translated_and_none_is_fuzzy_or_obsolete(lang, domain):
    catalog = po(lang, domain)
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert not catalog.obsolete, f"obsolete entries: {list(catalog.obsolete)}"
    untranslated = [m.id for m in catalog if m.id and not all(f.strip() for f in forms(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{lang}/{domain}: not translated: {untranslated}"
    assert not fuzzy, f"{lang}/{domain}: fuzzy: {fuzzy}"
    assert len(ids(catalog)) > 40


@pytest.mark.parametrize(("lang", "domain"), CATALOGS)
def test_placeholders_of_every_translation_match_the_message_id(lang, domain):
    catalog = po(lang, domain)
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else " ".join(message.id)
        expected = set(PLACEHOLDER.findall(source))
        for form in forms(message):
            assert set(PLACEHOLDER.findall(form)) == expected, (lang, message.id, form)
            assert form.count("%") - form.count("%%") * 2 == len(PLACEHOLDER.findall(form)), (
                lang, message.id, form)
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems, problems  # Babel's own checkers: python-format, plural forms


@pytest.mark.parametrize("domain", DOMAINS)
def test_po_files_are_current_with_the_sources(tmp_path, monkeypatch, domain):
    """Extract afresh, as `make translations-extract` does: every catalog has exactly the
    message ids of the code, the templates and catalog.toml (run `make translations-update`)."""
    monkeypatch.chdir(ROOT)
    template = tmp_path / f"{domain}.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", CONFIG[domain], "--no-wrap",
                                "-o", str(template), "."])
    with template.open("rb") as f:
        expected = ids(read_po(f))
    assert len(expected) > 40
    for lang in LANGUAGES:
        found = ids(po(lang, domain))
        assert found == expected, (
            f"{lang}/{domain}.po is out of date: missing {sorted(map(str, expected - found))}, "
            f"stale {sorted(map(str, found - expected))}; run make translations-update"
        )


@pytest.mark.parametrize(("lang", "domain"), CATALOGS)
def test_compiled_catalogs_are_current(lang, domain):
    """The committed .mo is what `make translations-compile` makes of the .po."""
    buffer = io.BytesIO()
    write_mo(buffer, po(lang, domain), use_fuzzy=False)
    committed = (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{domain}.mo").read_bytes()
    assert buffer.getvalue() == committed, "run make translations-compile"


def visible_text(page: str, lang: str) -> str:
    """What a reader sees in ``lang``: no scripts, and no element marked as another language
    (the English privacy policy on a French page, the switcher's language names)."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    # The operator's legal documents are files, not messages (docs/translations.md).
    page = re.sub(r'<div class="legal-text".*?</div>', " ", page, flags=re.S)
    page = re.sub(rf'<(\w+)\b[^>]*\blang="(?!{lang}")[a-z]+"[^>]*>.*?</\1>', " ", page,
                  flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def leaked_message_ids(page: str, lang: str) -> list[str]:
    """English message ids that show on a page in ``lang`` although they have a translation."""
    text = visible_text(page, lang)
    messages = [m for domain in DOMAINS for m in po(lang, domain) if m.id]
    # An id the translations use themselves ("Privacy" in "Global Privacy Control") proves
    # nothing: only ids that no translation of the language contains count.
    translated = " ".join(s for m in messages for s in forms(m))
    leaks = []
    for message in messages:
        if not isinstance(message.id, str) or "%" in message.id or len(message.id) < 4:
            continue
        if message.string == message.id or message.id in translated:
            continue
        if re.search(rf"(?<!\w){re.escape(message.id)}(?!\w)", text):
            leaks.append(message.id)
    return leaks


def decided_client(app, lang: str):
    client = app.test_client()
    post_choice(client, {"categories": {"statistics": True}, "lang": lang})
    return client


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_renders_in_every_language(app, lang):
    for client in (app.test_client(), decided_client(app, lang)):
        for path in PAGES:
            response = client.get(f"{path}?lang={lang}")
            page = response.get_data(as_text=True)
            assert response.status_code == (404 if path == "/gibt-es-nicht" else 200), path
            assert f'<html lang="{lang}">' in page, path
            if lang in TRANSLATED:
                assert leaked_message_ids(page, lang) == [], (lang, path)
            # The switcher offers every language, each named in itself, the page's marked.
            for code in LANGUAGES:
                assert f'lang="{code}" hreflang="{code}"' in page, (path, code)
            assert re.search(rf'hreflang="{lang}" aria-current="true"', page), path


def test_the_leak_check_finds_an_english_text_on_a_german_page():
    """The oracle of the test above, both sides."""
    assert leaked_message_ids("<p>Accept all</p>", "de") == ["Accept all"]
    assert leaked_message_ids("<p>Alle akzeptieren</p>", "de") == []
    assert leaked_message_ids('<div lang="en"><p>Accept all</p></div>', "fr") == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_banner_config_and_catalog_endpoint_speak_the_chosen_language(app, client, lang):
    page = client.get(f"/?lang={lang}").get_data(as_text=True)
    config = json.loads(re.search(r'id="consent-config">(.*?)</script>', page).group(1))
    assert config["lang"] == lang
    assert config["texts"]["close"] == gettext_in(lang, "Close without consenting")
    revision = app.extensions["consent"].catalog.revision
    assert config["endpoints"]["catalog"] == f"/consent/catalog.{revision}.{lang}.json"
    body = client.get(config["endpoints"]["catalog"]).get_json()
    assert body["lang"] == lang
    assert body["texts"]["save"] == gettext_in(lang, "Save selection")
    statistics = next(c for c in body["categories"] if c["name"] == "statistics")
    assert statistics["title"] == gettext_in(lang, "Statistics", "catalog")
    assert body["counts"]["statistics"] == {"de": "3 Dienste", "en": "3 services",
                                            "fr": "3 services", "nl": "3 diensten"}[lang]
    assert body["counts"]["essential"] == {"de": "1 Dienst", "en": "1 service",
                                           "fr": "1 service", "nl": "1 dienst"}[lang]
    if lang != SOURCE_LANGUAGE:
        assert config["texts"]["close"] != "Close without consenting"
        assert statistics["title"] != "Statistics"


def test_each_language_has_its_own_texts():
    """No language silently shows another's: every translated language differs from the
    English source in most banner texts, and from each other."""
    for lang in TRANSLATED:
        same = [k for k, v in TEXTS[lang].items() if v == TEXTS["en"][k]]
        assert len(same) < len(SOURCE) // 5, (lang, same)
    assert TEXTS["fr"]["accept_all"] == "Tout accepter"
    assert TEXTS["nl"]["accept_all"] == "Alles accepteren"
    assert TEXTS["de"]["accept_all"] == "Alle akzeptieren"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_receipt_records_the_language_its_notice_and_the_policy_shown(app, client, store,
                                                                        lang):
    """The receipt says which language the visitor read; its notice hash covers the texts in
    that language; the policy version is the file actually shown (English for fr and nl)."""
    response = post_choice(client, {"categories": {"statistics": True}, "lang": lang})
    assert response.status_code == 200
    receipt = list(store.export())[0]
    assert receipt.language == lang
    notice = store.notice(receipt.notice_hash)
    content = json.loads(notice.content)
    assert notice.language == content["language"] == lang
    assert content["texts"] == TEXTS[lang]
    assert receipt.notice_hash == app.extensions["consent"].notices[lang].notice_hash
    shown = "en" if lang in ("fr", "nl") else lang
    legal = Path(app.config["LEGAL_TEXTS_DIR"]) / f"datenschutz.{shown}.md"
    assert receipt.policy_hash == hashlib.sha256(legal.read_bytes()).hexdigest()
    hashes = {app.extensions["consent"].notices[code].notice_hash for code in LANGUAGES}
    assert len(hashes) == len(LANGUAGES)  # one notice per language


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_legal_documents_fall_back_to_english_marked_as_english(client, lang):
    page = client.get(f"/datenschutz?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert '<h1 lang="en">Privacy Policy</h1>' in page
    assert '<div class="legal-text" lang="en">' in page
    english = ("This document is available in German and English only. It is shown in English "
               "here; the German version is binding.")
    note = gettext_in(lang, english)
    assert note != english and html.escape(note, quote=False) in page
    assert f"<title>{gettext_in(lang, 'Privacy policy')} – " in page
    german = client.get("/datenschutz?lang=de").get_data(as_text=True)
    assert "<h1>Datenschutzerklärung</h1>" in german and 'role="note"' not in german


def test_contact_form_errors_and_error_pages_speak_the_page_language(client):
    token = csrf_token(client, "/kontakt?lang=fr")
    response = client.post("/kontakt?lang=fr", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Veuillez remplir ce champ." in response.get_data(as_text=True)
    page = client.get("/gibt-es-nicht?lang=nl").get_data(as_text=True)
    assert "Deze pagina bestaat niet." in page


def test_json_error_messages_stay_english_for_every_language(client):
    """The API's messages are for programs' logs: one language whoever calls; a form post's
    error page says the same message in the page's language."""
    token = csrf_token(client)
    for accept in ("fr", "de", "nl"):
        response = client.post("/consent", json={"categories": {"nope": True}},
                               headers={"X-CSRFToken": token, "Accept-Language": accept})
        assert response.status_code == 400
        assert response.get_json()["message"] == "Unknown category 'nope'."
    form = client.post("/consent?lang=de", data={"csrf_token": token, "action": "maybe"},
                       headers={"Accept-Language": "de"})
    assert form.status_code == 400
    assert "„action“ muss accept_all, reject_all oder save sein." in form.get_data(as_text=True)


def test_catalog_toml_texts_are_one_source_each():
    """Every visitor-facing catalog text is a plain English string whose translations come
    from the catalog domain (German from de/catalog.po, not from the TOML)."""
    catalog = load_catalog(ROOT / "website" / "consent" / "catalog.toml")
    ga4 = catalog.service("ga4")
    assert ga4.provider.source.endswith("Dublin 4, Ireland")
    assert ga4.provider.text("de").endswith("Dublin 4, Irland")
    assert ga4.provider.text("fr").endswith("Dublin 4, Irlande")
    assert ga4.legal_basis.text("de") == (
        "Einwilligung, Art. 6 Abs. 1 lit. a DSGVO; § 25 Abs. 1 TDDDG")
    assert "RGPD" in ga4.legal_basis.text("fr") and "AVG" in ga4.legal_basis.text("nl")
    assert "TDDDG" in ga4.legal_basis.text("fr") and "TDDDG" in ga4.legal_basis.text("nl")


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_admin_compares_a_receipt_with_the_policy_its_language_is_shown(app, client, store,
                                                                       lang):
    """A French receipt was given under the English policy file: the admin compares it with the
    English file served today (not the German one), so it says "the same hash"."""
    body = post_choice(client, {"categories": {"statistics": True}, "lang": lang}).get_json()
    Accounts(app.extensions["receipt_store"].engine, Clock()).create("alice", PASSWORD)
    admin = new_client(app)
    assert login(admin).status_code == 302
    page = admin.get(f"/admin/receipts/{body['receipt_id']}").get_data(as_text=True)
    english = Path(app.config["LEGAL_TEXTS_DIR"]) / "datenschutz.en.md"
    assert hashlib.sha256(english.read_bytes()).hexdigest() in page
    assert f"The policy served today ({lang}) has the same hash" in page


ADMIN_PAGES = ["/admin", "/admin/receipts", "/admin/receipts/{receipt}", "/admin/export",
               "/admin/visitor?consent_id={consent}", "/admin/messages", "/admin/audit",
               "/admin/receipts/unknown-receipt"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_admin_speaks_admin_language(app, client, lang):
    """ADMIN_LANGUAGE sets the operator's screens (English unless configured), whatever the
    browser asks; every admin page renders in it without an English message id showing."""
    body = post_choice(client, {"categories": {"statistics": True}, "lang": lang}).get_json()
    Accounts(app.extensions["receipt_store"].engine, Clock()).create("alice", PASSWORD)
    app.config["ADMIN_LANGUAGE"] = lang
    admin = new_client(app)
    login_page = admin.get("/admin/login", headers={"Accept-Language": "ja, es"})
    assert f'<html lang="{lang}">' in login_page.get_data(as_text=True)
    assert login(admin).status_code == 302
    for path in ADMIN_PAGES:
        path = path.format(receipt=body["receipt_id"], consent=body["consent_id"])
        response = admin.get(path, headers={"Accept-Language": "de" if lang != "de" else "en"})
        page = response.get_data(as_text=True)
        assert response.status_code == (404 if "unknown" in path else 200), path
        assert f'<html lang="{lang}">' in page, path
        if lang in TRANSLATED:
            assert leaked_message_ids(page, lang) == [], (lang, path)
    dashboard = admin.get("/admin").get_data(as_text=True)
    assert html.escape(gettext_in(lang, "Opt-in rates"), quote=False) in dashboard
    assert gettext_in(lang, "Statistics", "catalog") in dashboard  # the catalog's titles too


def test_admin_language_defaults_to_english_and_is_checked(tmp_path):
    from website import create_app
    from website.settings import ConfigError

    url = f"sqlite:///{tmp_path / 'r.db'}"
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": url})
    assert app.config["ADMIN_LANGUAGE"] == "en"
    with pytest.raises(ConfigError, match="ADMIN_LANGUAGE='es' must be one of de, en, fr, nl"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": url, "ADMIN_LANGUAGE": "es"})


def test_no_text_is_chosen_by_language_in_code_or_templates():
    """The one mechanism is gettext: no template picks a text with `if de` / `lang == "de"`,
    and no module keeps texts in dicts keyed by language (as i18n.MESSAGES and TEXTS did)."""
    website = ROOT / "website"
    conditional = re.compile(r"""\bif de\b|(?<![\w.])lang\s*==\s*["'][a-z]{2}["']""")
    for template in (website / "templates").rglob("*.html"):
        found = conditional.findall(template.read_text(encoding="utf-8"))
        assert not found, (template, found)
    codes = "|".join(LANGUAGES)
    keyed = re.compile(rf"""["'](?:{codes})["']\s*:\s*["'{{]""")
    for module in website.rglob("*.py"):
        found = keyed.findall(module.read_text(encoding="utf-8"))
        assert not found, (module, found)
    assert conditional.search('{{ "Ja" if de else "Yes" }}')  # the patterns find the old style
    assert keyed.search('{"de": "Bitte ausfüllen.", "en": "Please fill this in."}')
