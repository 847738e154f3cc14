"""The cookie scanner: the comparison rules on their own (both sides of each), then the whole
command in real Chromium against the real app, with every third party stubbed locally by scripts
that store what the real services store."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from website import create_app
from website.consent.catalog import Catalog, load_catalog
from website.consent.scanner import (
    Report,
    Seen,
    _sitemap_paths,
    app_pages,
    chromium_path,
    compare,
    host_matches,
    origin_of,
    render_text,
)
from website.store import upgrade

SHIPPED = Path(__file__).resolve().parents[2] / "website" / "consent" / "catalog.toml"
SITE = "127.0.0.1"

# --- Stubs: what each service's script stores on a real visit, as plain DOM writes ----------

#: gtag.js serves GA4 (id=G-...) and Google Ads (id=AW-...): both set their first-party cookies.
GA4_JS = """(function () {
  var src = (document.currentScript && document.currentScript.src) || '';
  var keep = '; max-age=63072000; path=/; SameSite=Lax';
  if (src.indexOf('id=G-') !== -1) {
    document.cookie = '_ga=GA1.1.1234567890.1700000000' + keep;
    document.cookie = '_ga_EXAMPLE123=GS1.1.1700000000.1.0.1700000000.0.0.0' + keep;
  }
  if (src.indexOf('id=AW-') !== -1) document.cookie = '_gcl_au=1.1.1234567890.1700000000' + keep;
})();"""
#: The same, plus the undeclared ``_gid`` that older GA versions set.
GA4_WITH_GID_JS = GA4_JS + "\ndocument.cookie = '_gid=GA1.1.987654321.1700000000; path=/';"
MATOMO_JS = """document.cookie = '_pk_id.1.abcd=0123456789abcdef.1700000000.; path=/';
document.cookie = '_pk_ses.1.abcd=1; max-age=1800; path=/';"""
META_JS = "document.cookie = '_fbp=fb.1.1700000000000.1234567890; max-age=7776000; path=/';"
#: Served as the youtube-nocookie.com frame: the player's storage in its own origin. IndexedDB
#: is asynchronous: ``__consentScanReady`` makes the scanner wait for the database.
YOUTUBE_JS = """localStorage.setItem('yt-player-quality', '{"data":"hd720"}');
localStorage.setItem('yt-remote-device-id', '{"data":"stub"}');
sessionStorage.setItem('yt-remote-session-app', '{"data":"youtube-embedded"}');
window.__consentScanReady = new Promise(done => {
  const open = indexedDB.open('YtIdbMeta#databases', 1);
  open.onsuccess = open.onerror = done;
});"""
STUBS = {
    "www.googletagmanager.com": GA4_JS,
    "statistik.example.de": MATOMO_JS,
    "connect.facebook.net": META_JS,
    "www.youtube-nocookie.com": YOUTUBE_JS,
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED)


def seen(state: str, kind: str, name: str, origin: str = SITE, page: str = "/") -> Seen:
    return Seen(state, kind, name, origin, page, third_party=origin != SITE)


def rules(findings) -> set[tuple[str, str | None, str, str]]:
    return {(f.rule, f.state, f.kind, f.name) for f in findings}


# --- The comparison, without a browser -------------------------------------------------------


@pytest.mark.parametrize("state", ["none", "rejected"])
def test_before_consent_a_justified_essential_item_passes(catalog, state):
    violations, _ = compare(catalog, [seen(state, "cookie", "session"),
                                      seen(state, "cookie", "consent"),
                                      seen(state, "local_storage", "consent-pending",
                                           "http://127.0.0.1:5000")])
    assert violations == []


@pytest.mark.parametrize("state", ["none", "rejected"])
def test_before_consent_a_declared_optional_item_is_a_violation(catalog, state):
    violations, _ = compare(catalog, [seen(state, "cookie", "_ga_EXAMPLE123")])
    assert rules(violations) == {("before_consent", state, "cookie", "_ga_EXAMPLE123")}
    assert violations[0].service == "ga4"
    assert "ga4 (statistics), which needs consent" in violations[0].message


def test_before_consent_an_undeclared_item_is_a_violation(catalog):
    violations, _ = compare(catalog, [seen("none", "cookie", "tracking_id", page="/impressum")])
    (v,) = violations
    assert (v.rule, v.state, v.name, v.service, v.pages) == (
        "before_consent", "none", "tracking_id", None, ("/impressum",))
    assert "not in the catalog" in v.message and "no decision: /impressum" in v.message


def test_before_consent_the_kind_must_match_too(catalog):
    """``session`` is a justified cookie; a localStorage key of that name is not."""
    violations, _ = compare(catalog, [seen("none", "local_storage", "session")])
    assert rules(violations) == {("before_consent", "none", "local_storage", "session")}


def test_before_consent_a_required_item_without_justification_is_a_violation(catalog):
    essential = catalog.category("essential")
    site = essential.services[0]
    bare = dataclasses.replace(site, cookies=tuple(
        dataclasses.replace(k, justification=None) if k.name == "session" else k
        for k in site.cookies))
    changed = dataclasses.replace(catalog, categories=tuple(
        dataclasses.replace(c, services=(bare,)) if c is essential else c
        for c in catalog.categories))
    violations, _ = compare(changed, [seen("none", "cookie", "session"),
                                      seen("none", "cookie", "consent")])
    assert rules(violations) == {("before_consent", "none", "cookie", "session")}
    assert "without a justification" in violations[0].message


@pytest.mark.parametrize("state", ["none", "rejected"])
def test_before_consent_any_third_party_request_is_a_violation(catalog, state):
    violations, _ = compare(catalog, [
        seen(state, "request", "https://www.googletagmanager.com", "https://www.googletagmanager.com"),
        seen(state, "request", "https://cdn.example.net", "https://cdn.example.net"),
    ])
    assert rules(violations) == {
        ("before_consent", state, "request", "https://www.googletagmanager.com"),
        ("before_consent", state, "request", "https://cdn.example.net"),
    }
    assert {v.service for v in violations} == {"ga4", None}


def test_after_consent_declared_items_and_hosts_pass(catalog):
    violations, _ = compare(catalog, [
        seen("accepted", "cookie", "_ga"),
        seen("accepted", "cookie", "_ga_EXAMPLE123"),
        seen("accepted", "cookie", "_pk_id.1.abcd"),
        seen("accepted", "cookie", "session"),
        seen("accepted", "local_storage", "yt-player-quality", "https://www.youtube-nocookie.com"),
        seen("accepted", "indexeddb", "YtIdbMeta#databases", "https://www.youtube-nocookie.com"),
        seen("accepted", "request", "https://region1.google-analytics.com",
             "https://region1.google-analytics.com"),
        seen("accepted", "request", "https://connect.facebook.net", "https://connect.facebook.net"),
    ])
    assert violations == []


def test_after_consent_undeclared_items_and_hosts_are_violations(catalog):
    violations, _ = compare(catalog, [
        seen("accepted", "cookie", "_gid"),
        seen("accepted", "session_storage", "_ga"),  # declared only as a cookie
        seen("accepted", "request", "https://google-analytics.com", "https://google-analytics.com"),
        seen("accepted", "request", "http://www.googletagmanager.com",
             "http://www.googletagmanager.com"),
    ])
    assert rules(violations) == {
        ("undeclared", "accepted", "cookie", "_gid"),
        ("undeclared", "accepted", "session_storage", "_ga"),
        ("undeclared", "accepted", "request", "https://google-analytics.com"),
        ("undeclared", "accepted", "request", "http://www.googletagmanager.com"),
    }
    gid = next(v for v in violations if v.name == "_gid")
    assert "after consent (accepted all: /) is not declared in the catalog" in gid.message


def test_unseen_entries_are_warnings_not_violations(catalog):
    violations, warnings = compare(catalog, [seen("accepted", "cookie", "_ga")])
    assert violations == []
    unseen = rules(warnings)
    assert ("unseen", None, "cookie", "_ga_*") in unseen
    assert ("unseen", None, "request", "https://*.google-analytics.com") in unseen
    assert ("unseen", None, "cookie", "_ga") not in unseen  # seen once is enough
    assert all(w.rule == "unseen" and w.service for w in warnings)
    report = Report("http://127.0.0.1:1", ["/"], [], [], warnings)
    assert report.ok


def test_an_item_seen_in_any_state_counts_as_seen(catalog):
    _, warnings = compare(catalog, [seen("rejected", "cookie", "consent")])
    assert ("unseen", None, "cookie", "consent") not in rules(warnings)
    assert ("unseen", None, "cookie", "session") in rules(warnings)


def test_findings_group_pages_per_item_and_state(catalog):
    violations, _ = compare(catalog, [seen("accepted", "cookie", "_gid", page=p)
                                      for p in ("/", "/impressum", "/")])
    (v,) = violations
    assert v.pages == ("/", "/impressum")


@pytest.mark.parametrize(("pattern", "origin", "expected"), [
    ("https://www.example.com", "https://www.example.com", True),
    ("https://www.example.com", "https://example.com", False),
    ("https://www.example.com", "http://www.example.com", False),
    ("https://www.example.com", "https://www.example.com:8443", False),
    ("https://www.example.com:443", "https://www.example.com", True),
    ("https://*.example.com", "https://a.b.example.com", True),
    ("https://*.example.com", "https://example.com", False),
    ("https://*.example.com", "https://badexample.com", False),
])
def test_host_matches_like_csp(pattern, origin, expected):
    assert host_matches(pattern, origin) is expected


def test_origin_of_drops_default_ports_and_paths():
    assert origin_of("https://www.example.com:443/a?b") == "https://www.example.com"
    assert origin_of("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000"
    assert origin_of("http://[2001:db8::1]:8080/") == "http://[2001:db8::1]:8080"


def test_sitemap_paths_keep_same_origin_locs_only():
    body = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.de/</loc></url><url><loc>https://example.de/a?lang=en</loc></url>
      <url><loc>https://other.example/b</loc></url><url><loc>https://example.de/</loc></url>
    </urlset>"""
    assert _sitemap_paths(body, "https://example.de") == ["/", "/a?lang=en"]
    assert _sitemap_paths(b"<not xml", "https://example.de") == []


def test_app_pages_are_get_routes_without_arguments(app):
    pages = app_pages(app)
    assert pages[0] == "/"
    assert {"/datenschutz", "/impressum", "/cookie-einstellungen"} <= set(pages)
    assert not any("<" in p or p.startswith("/static") for p in pages)
    assert "/consent/withdraw" not in pages  # POST only


def test_text_report_names_violations_and_result(catalog):
    violations, warnings = compare(catalog, [seen("accepted", "cookie", "_gid")])
    text = render_text(Report("http://127.0.0.1:1", ["/"], [seen("accepted", "cookie", "_gid")],
                              violations, warnings), catalog)
    assert "Violations (1)" in text and "_gid" in text
    assert text.rstrip().endswith("Result: FAIL (1 violation)")


# --- The command in real Chromium -------------------------------------------------------------


def _missing(reason: str) -> None:
    """Skip locally; in CI (CI=true) a missing browser is a failure, as in tests/browser."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the scanner tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if not Path(path).exists():
        _missing(f"chromium not found at {path} (apt-get install chromium; or CHROMIUM_PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    return path


@pytest.fixture(scope="module")
def stub_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stubs")
    files = {}
    for name, body in {**STUBS, "gid": GA4_WITH_GID_JS}.items():
        files[name] = folder / f"{name}.js"
        files[name].write_text(body)
    return files


def stub_args(files: dict[str, Path], **override: str) -> list[str]:
    args = ["--stub-third-parties"]
    for host in STUBS:
        args += ["--stub-script", f"{host}={files[override.get(host, host)]}"]
    return args


def make_app(tmp: Path, catalog: Path = SHIPPED):
    upgrade(f"sqlite:///{tmp / 'receipts.db'}")  # the deploy step: a site serves a migrated store
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "scanner-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp / 'receipts.db'}",
        "CONSENT_CATALOG": str(catalog),
    })


def run_scan(app, *args: str):
    return app.test_cli_runner().invoke(args=["consent", "scan", *args])


@pytest.fixture(scope="module")
def shipped_scan(chromium, stub_files, tmp_path_factory):
    """One JSON scan of the shipped site (all pages, three states), shared by several tests."""
    tmp = tmp_path_factory.mktemp("shipped")
    result = run_scan(make_app(tmp), "--json", *stub_args(stub_files))
    return result


def test_shipped_site_passes_with_stubbed_third_parties(shipped_scan):
    assert shipped_scan.exit_code == 0, shipped_scan.output
    report = json.loads(shipped_scan.stdout)
    assert report["ok"] is True and report["violations"] == []
    assert report["third_parties_stubbed"] is True
    assert {"/", "/datenschutz", "/impressum", "/cookie-einstellungen"} <= set(report["pages"])
    assert {"/healthz", "/consent", "/consent/receipts"} <= set(report["skipped"])
    by_state: dict[str, set[tuple[str, str]]] = {}
    for s in report["seen"]:
        by_state.setdefault(s["state"], set()).add((s["kind"], s["name"]))
    # Before consent: only the CSRF session cookie, then the decision cookie; nothing loaded.
    assert by_state["none"] == {("cookie", "session")}
    assert by_state["rejected"] == {("cookie", "session"), ("cookie", "consent")}
    # After "accept all" the stubs ran: what GA4, Matomo, Meta and the YouTube player store.
    assert {("cookie", "_ga"), ("cookie", "_ga_EXAMPLE123"), ("cookie", "_gcl_au"),
            ("cookie", "_pk_id.1.abcd"), ("cookie", "_pk_ses.1.abcd"), ("cookie", "_fbp"),
            ("local_storage", "yt-player-quality"), ("local_storage", "yt-remote-device-id"),
            ("session_storage", "yt-remote-session-app"),
            ("indexeddb", "YtIdbMeta#databases"),
            ("request", "https://www.googletagmanager.com"),
            ("request", "https://statistik.example.de"),
            ("request", "https://connect.facebook.net"),
            ("request", "https://www.youtube-nocookie.com")} <= by_state["accepted"]
    yt = next(s for s in report["seen"] if s["name"] == "yt-player-quality")
    assert (yt["origin"], yt["third_party"], yt["service"]) == (
        "https://www.youtube-nocookie.com", True, "youtube")
    ga = next(s for s in report["seen"] if s["name"] == "_ga")
    assert (ga["origin"], ga["third_party"], ga["service"]) == ("127.0.0.1", False, "ga4")


def test_shipped_scan_lists_never_seen_entries_as_warnings(shipped_scan):
    warnings = {(w["service"], w["kind"], w["name"]) for w in json.loads(shipped_scan.stdout)[
        "warnings"]}
    assert {("matomo", "cookie", "_pk_ref.*"), ("meta_pixel", "cookie", "_fbc"),
            ("google_ads", "cookie", "_gcl_aw"),
            ("ga4", "request", "https://*.google-analytics.com")} <= warnings
    assert not {w for w in warnings if w[2] in ("_ga", "_ga_*", "session", "yt-player-*")}


def test_json_report_has_the_documented_shape(shipped_scan):
    report = json.loads(shipped_scan.stdout)
    assert set(report) == {"base_url", "states", "pages", "skipped", "third_parties_stubbed",
                           "ok", "seen", "violations", "warnings"}
    assert report["states"] == ["none", "rejected", "accepted"]
    assert report["base_url"].startswith("http://127.0.0.1:")
    for entry in report["seen"]:
        assert set(entry) == {"state", "kind", "name", "origin", "third_party", "service",
                              "pages"}
        assert entry["state"] in report["states"] and entry["pages"]
    finding = {"rule", "state", "kind", "name", "origin", "third_party", "service", "pages",
               "message"}
    for warning in report["warnings"]:
        assert set(warning) == finding and warning["rule"] == "unseen"


def test_catalog_missing_one_cookie_fails(chromium, stub_files, tmp_path):
    """Without the ``session`` line the CSRF cookie every page sets is undeclared: a violation
    before consent (and after), named with its state."""
    source = SHIPPED.read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if not line.startswith('  { name = "session"')]
    assert len(lines) == len(source.splitlines()) - 1
    changed = tmp_path / "catalog.toml"
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_scan(make_app(tmp_path, changed), "--max-pages", "1", *stub_args(stub_files))
    assert result.exit_code == 1, result.output
    assert "cookie session (127.0.0.1) before consent (no decision: /) is not in the catalog" in (
        result.output)
    assert "cookie session (127.0.0.1) after consent (accepted all: /) is not declared" in (
        result.output)
    assert result.output.rstrip().endswith("Result: FAIL (3 violations)")


def test_undeclared_cookie_after_accept_all_fails(chromium, stub_files, tmp_path):
    """The stubbed gtag.js also sets ``_gid``, which the catalog does not declare."""
    args = stub_args(stub_files, **{"www.googletagmanager.com": "gid"})
    result = run_scan(make_app(tmp_path), "--max-pages", "1", "--json", *args)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(v["rule"], v["state"], v["kind"], v["name"]) for v in report["violations"]] == [
        ("undeclared", "accepted", "cookie", "_gid")]


class _Sitemap:
    """WSGI wrapper: the site plus a sitemap.xml naming only the imprint."""

    def __init__(self, app) -> None:
        self.app = app
        self.origin = ""

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/sitemap.xml":
            body = (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'
                    f'{self.origin}/impressum</loc></url></urlset>').encode()
            start_response("200 OK", [("Content-Type", "application/xml")])
            return [body]
        return self.app(environ, start_response)


@pytest.fixture
def running_site(tmp_path) -> Iterator[str]:
    site = _Sitemap(make_app(tmp_path))
    srv = make_server("127.0.0.1", 0, site, threaded=True)
    site.origin = f"http://127.0.0.1:{srv.server_port}"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield site.origin
    srv.shutdown()
    thread.join()


def test_base_url_with_a_sitemap_scans_its_pages(chromium, stub_files, running_site, tmp_path):
    (tmp_path / "cli").mkdir()
    app = make_app(tmp_path / "cli")
    result = run_scan(app, running_site, "--json", *stub_args(stub_files))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["base_url"] == running_site and report["pages"] == ["/impressum"]
    assert ("accepted", "cookie", "consent") in {(s["state"], s["kind"], s["name"])
                                                 for s in report["seen"]}


def test_missing_browser_is_exit_2_with_a_clear_message(app, monkeypatch):
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")
    result = run_scan(app, "--stub-third-parties")
    assert result.exit_code == 2
    assert "chromium not found at /nonexistent/chromium" in result.output


def test_unreachable_site_is_exit_2_with_a_clear_message(chromium, app):
    import socket

    with socket.socket() as sock:  # bound, never listening: the port refuses connections
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = run_scan(app, f"http://127.0.0.1:{port}")
    assert result.exit_code == 2
    assert f"cannot reach http://127.0.0.1:{port}" in result.output


def test_bad_options_are_usage_errors(app, tmp_path):
    assert run_scan(app, "--stub-script", f"x={tmp_path}").exit_code == 2
    assert run_scan(app, "ftp://example.de").exit_code == 2
    missing = run_scan(app, "--stub-third-parties", "--stub-script", "x.example=/no/such.js")
    assert missing.exit_code == 2 and "/no/such.js" in missing.output
    assert run_scan(app, "--max-pages", "0").exit_code == 2


@pytest.mark.parametrize(("action", "granted"), [("reject_all", False), ("accept_all", True)])
def test_without_a_banner_button_the_decision_is_posted_as_the_form(chromium, running_site,
                                                                     action, granted):
    """If a banner offers no such button (another layout), the scanner posts the first
    layer's plain form, as a browser without JavaScript does."""
    import tempfile

    from playwright.sync_api import Error, sync_playwright

    from website.consent.scanner import _decide, _launch, _outside_asyncio

    def body() -> dict:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            context = _launch(p, profile, chromium, Error)
            try:
                page = context.pages[0]
                page.goto(running_site + "/impressum")
                page.evaluate("document.getElementById('consent-banner').remove()")
                _decide(page, context, action, running_site + "/consent", "/impressum")
                state = page.evaluate("fetch('/consent').then(r => r.json())")
                state["banners"] = page.locator("#consent-banner").count()
                return state
            finally:
                context.close()

    # The browser suite's session may hold Playwright's loop in this thread (as in `make test`).
    state = _outside_asyncio(body)
    assert state["decided"] is True
    assert state["categories"]["statistics"] is granted
    assert state["banners"] == 0  # reloaded with the decision
