"""Cookie scanner: ``flask --app wsgi consent scan [BASE_URL]`` proves the catalog against the site.

Headless Chromium (Playwright, the optional extra ``pip install .[scan]``) visits the site's pages
in three fresh browser profiles: without a decision, after "reject all" and after "accept all".
After each page it records every cookie of the browser context (first and third party), the
localStorage/sessionStorage keys and IndexedDB database names of every frame, and every request
to an origin other than the site's. :func:`compare` then checks what was seen against the catalog:

* ``before_consent`` (violation): without a decision or after a rejection, only items of a
  required category that carry a ``justification`` may be stored, and no third party may be
  contacted (§ 25 Abs. 2 Nr. 2 TDDDG; EDPB cookie banner taskforce report, para. 28);
* ``undeclared`` (violation): after "accept all", every item and every third-party origin must be
  declared by some service of the catalog;
* ``unseen`` (warning): a catalog item or host that no state ever showed (stale, or the scan did
  not reach the page that uses it).

The comparison is a pure function of the catalog and the observations; the browser part only
collects. Exit status: 0 clean, 1 at least one violation, 2 the scan could not run.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .catalog import STORAGE_KINDS, Catalog, CookieInfo, Service

if TYPE_CHECKING:  # Playwright is an optional extra: imported only when a scan runs
    from playwright.sync_api import BrowserContext, Frame, Page, Playwright, Request, Route

#: The three browser profiles, in the order they are scanned.
STATES = ("none", "rejected", "accepted")
STATE_TITLES = {"none": "no decision", "rejected": "rejected", "accepted": "accepted all"}
#: What the scanner records: the catalog's storage kinds, plus third-party requests.
KINDS = (*STORAGE_KINDS, "request")
#: Chromium flags for a headless run in a container (the same as the browser test suite's).
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
)
DEFAULT_MAX_PAGES = 50
_T = TypeVar("_T")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class ScanError(RuntimeError):
    """The scan could not run (no browser, site unreachable, no page to scan)."""


# --- What was seen, and what the comparison finds ---------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One thing observed in one state: a stored item, or a third-party request.

    ``name`` is the cookie, key or database name, or for a request the origin it went to.
    ``origin`` says where: a cookie's domain, the frame origin of a storage key, a request's
    origin. ``page`` is the path of the page after which it was first recorded.
    """

    state: str
    kind: str
    name: str
    origin: str
    page: str
    third_party: bool = False


@dataclass(frozen=True)
class Finding:
    """A violation (``before_consent``, ``undeclared``) or a warning (``unseen``)."""

    rule: str
    kind: str
    name: str
    message: str
    state: str | None = None
    origin: str | None = None
    service: str | None = None
    pages: tuple[str, ...] = ()
    third_party: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "state": self.state,
            "kind": self.kind,
            "name": self.name,
            "origin": self.origin,
            "third_party": self.third_party,
            "service": self.service,
            "pages": list(self.pages),
            "message": self.message,
        }


@dataclass
class Report:
    """The scan's result: what was seen, the violations and the warnings."""

    base_url: str
    pages: list[str]
    seen: list[Seen]
    violations: list[Finding]
    warnings: list[Finding]
    stubbed: bool = False
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self, catalog: Catalog) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "states": list(STATES),
            "pages": self.pages,
            "skipped": self.skipped,
            "third_parties_stubbed": self.stubbed,
            "ok": self.ok,
            "seen": [
                {
                    "state": s.state,
                    "kind": s.kind,
                    "name": s.name,
                    "origin": s.origin,
                    "third_party": s.third_party,
                    "service": owner.name if (owner := _owner(catalog, s)) else None,
                    "pages": list(pages),
                }
                for s, pages in _grouped(self.seen)
            ],
            "violations": [f.as_json() for f in self.violations],
            "warnings": [f.as_json() for f in self.warnings],
        }


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def host_matches(pattern: str, origin: str) -> bool:
    """Does a catalog host (``https://www.example.com``, ``https://*.example.com``) cover an
    origin? As in CSP, ``*.`` covers every subdomain but not the domain itself."""
    want, got = urlsplit(pattern), urlsplit(origin)
    if want.scheme != got.scheme:
        return False
    want_port = want.port or _DEFAULT_PORTS.get(want.scheme)
    if want_port != (got.port or _DEFAULT_PORTS.get(got.scheme)):
        return False
    want_host, got_host = (want.hostname or ""), (got.hostname or "")
    if want_host.startswith("*."):
        return got_host.endswith(want_host[1:])
    return want_host == got_host


def item_owner(catalog: Catalog, kind: str, name: str) -> tuple[Service, CookieInfo] | None:
    """The first service item of this kind whose (fnmatch) name covers ``name``."""
    for service in catalog.services:
        for item in service.cookies:
            if item.kind == kind and item.matches(name):
                return service, item
    return None


def host_owner(catalog: Catalog, origin: str) -> Service | None:
    return next(
        (s for s in catalog.services if any(host_matches(h, origin) for h in s.hosts)), None
    )


def _owner(catalog: Catalog, seen: Seen) -> Service | None:
    if seen.kind == "request":
        return host_owner(catalog, seen.name)
    owned = item_owner(catalog, seen.kind, seen.name)
    return owned[0] if owned else None


def _grouped(seen: Iterable[Seen]) -> list[tuple[Seen, tuple[str, ...]]]:
    """One entry per (state, kind, name, origin), with the pages it was seen after, in order."""
    groups: dict[tuple[str, str, str, str], tuple[Seen, list[str]]] = {}
    for s in seen:
        key = (s.state, s.kind, s.name, s.origin)
        if key not in groups:
            groups[key] = (s, [])
        if s.page not in groups[key][1]:
            groups[key][1].append(s.page)
    order = {state: i for i, state in enumerate(STATES)}
    return sorted(
        ((s, tuple(pages)) for s, pages in groups.values()),
        key=lambda e: (order.get(e[0].state, 99), KINDS.index(e[0].kind), e[0].name, e[0].origin),
    )


def compare(catalog: Catalog, seen: Iterable[Seen]) -> tuple[list[Finding], list[Finding]]:
    """Check observations against the catalog: ``(violations, warnings)``.

    Pure: no browser, no app. ``seen`` holds only third-party requests (the collector leaves
    out the site's own origin) and every stored item, first or third party.
    """
    categories = {c.name: c for c in catalog.categories}
    violations: list[Finding] = []
    seen = list(seen)
    for s, pages in _grouped(seen):
        where = f"{STATE_TITLES.get(s.state, s.state)}: {pages[0]}"
        common = dict(kind=s.kind, name=s.name, state=s.state, origin=s.origin, pages=pages,
                      third_party=s.third_party)
        if s.kind == "request":
            service = host_owner(catalog, s.name)
            item = None
        else:
            owned = item_owner(catalog, s.kind, s.name)
            service, item = owned if owned else (None, None)
        label = _label(s)
        if s.state in ("none", "rejected"):
            required = service is not None and categories[service.category].required
            if s.kind == "request":
                justified = required
            else:
                justified = required and item is not None and item.justification is not None
            if justified:
                continue
            if service is None:
                why = "is not in the catalog"
            elif not required:
                why = f"belongs to {service.name} ({service.category}), which needs consent"
            else:
                why = f"is declared for {service.name} without a justification"
            violations.append(Finding(
                rule="before_consent",
                service=service.name if service else None,
                message=f"{label} before consent ({where}) {why}",
                **common,
            ))
        elif service is None:
            violations.append(Finding(
                rule="undeclared",
                message=f"{label} after consent ({where}) is not declared in the catalog",
                **common,
            ))
    warnings: list[Finding] = []
    for service in catalog.services:
        for item in service.cookies:
            if not any(x.kind == item.kind and item.matches(x.name) for x in seen):
                warnings.append(Finding(
                    rule="unseen", kind=item.kind, name=item.name, service=service.name,
                    message=f"{service.name}: {_KIND_WORDS[item.kind]} {item.name} "
                            "is in the catalog but was never seen",
                ))
        for host in service.hosts:
            if not any(x.kind == "request" and host_matches(host, x.name) for x in seen):
                warnings.append(Finding(
                    rule="unseen", kind="request", name=host, service=service.name,
                    message=f"{service.name}: host {host} is in the catalog but was never "
                            "contacted",
                ))
    return violations, warnings


_KIND_WORDS = {
    "cookie": "cookie",
    "local_storage": "localStorage key",
    "session_storage": "sessionStorage key",
    "indexeddb": "IndexedDB database",
    "request": "request to",
}


def _label(s: Seen) -> str:
    party = "third-party " if s.third_party and s.kind != "request" else ""
    if s.kind == "request":
        return f"request to {s.name}"
    return f"{party}{_KIND_WORDS[s.kind]} {s.name} ({s.origin})"


# --- Collecting in a real browser ----------------------------------------------------------


def _playwright_error() -> type[Exception]:
    from playwright.sync_api import Error

    return Error


def chromium_path() -> str:
    """The system's Chromium: ``CHROMIUM_PATH``, else ``chromium`` on PATH, else the Debian
    path (Playwright's own browser download is not needed)."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


#: Run in every frame: its origin, storage keys and IndexedDB database names. A stub script
#: whose writes finish later (IndexedDB) puts a promise in ``window.__consentScanReady``.
_STORAGE_JS = """async () => {
  try { await window.__consentScanReady; } catch (e) { /* the stub's own failure */ }
  const keys = get => { try { return Object.keys(get()); } catch (e) { return []; } };
  let dbs = [];
  try { dbs = (await indexedDB.databases()).map(d => d.name); } catch (e) { /* none */ }
  return { origin: location.origin, local: keys(() => localStorage),
           session: keys(() => sessionStorage), idb: dbs };
}"""
#: Scroll down a screen at a time, two animation frames each (intersection observers run in the
#: rendering step, so every lazy iframe on the way starts loading), then back to the top.
_SCROLL_JS = """async () => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const step = window.innerHeight || 800;
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await frame();
  }
  window.scrollTo(0, 0);
  await frame();
}"""
#: True once every iframe has navigated to its document and finished loading it (a lazy one
#: that has not started still shows its initial about:blank document).
_FRAMES_LOADED_JS = """() => [...document.querySelectorAll('iframe[src]')].every(f => {
  if (/^(about|javascript):/i.test(f.getAttribute('src'))) return true;
  try {
    const d = f.contentDocument;
    return !d || (d.URL !== 'about:blank' && d.readyState === 'complete');
  } catch (e) { return true; }
})"""
#: Appended to every stub script: proves to the scanner that the script has run.
_RAN_JS = ";(window.__consentScanRan = window.__consentScanRan || {})[{token}] = true;"
#: Network quiet this long (ms) counts as settled; a settle gives up waiting after ``timeout``.
QUIET_MS = 500


def _stub_body(script: str | None, resource_type: str, token: str) -> tuple[int, str, str]:
    """What a stubbed third party answers: a script, a frame document, or an empty 204."""
    ran = _RAN_JS.replace("{token}", json.dumps(token))
    if resource_type == "script":
        return 200, "text/javascript", (script or "/* stubbed by the cookie scanner */") + ran
    if resource_type == "document":
        inline = ((script or "") + ran).replace("</", "<\\/")
        return 200, "text/html", f"<!doctype html><title>stub</title><script>{inline}</script>"
    return 204, "text/plain", ""


class _Recorder:
    """Collects what one browser profile shows, page by page; tracks requests in flight and
    the stub scripts served, so that it knows when a page has settled."""

    def __init__(self, state: str, site_origin: str, scripts: Mapping[str, str],
                 timeout_ms: int) -> None:
        self.state = state
        self.site_origin = site_origin
        self.site_host = urlsplit(site_origin).hostname or ""
        self.scripts = scripts
        self.timeout_ms = timeout_ms
        self.page = "/"
        self.seen: list[Seen] = []
        self.pending: set[Request] = set()
        self.last_activity = time.monotonic()
        self.unran: list[tuple[Frame, str]] = []

    def is_third_party(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme in _DEFAULT_PORTS and origin_of(url) != self.site_origin

    def watch(self, context: BrowserContext) -> None:
        context.on("request", self.on_request)
        context.on("requestfinished", self.on_done)
        context.on("requestfailed", self.on_done)

    def on_request(self, request: Request) -> None:
        self.pending.add(request)
        self.last_activity = time.monotonic()
        if self.is_third_party(request.url):
            origin = origin_of(request.url)
            self.seen.append(Seen(self.state, "request", origin, origin, self.page, True))

    def on_done(self, request: Request) -> None:
        self.pending.discard(request)
        self.last_activity = time.monotonic()

    def stub(self, route: Route) -> None:
        """Answer a third-party request locally (``--stub-third-parties``)."""
        request = route.request
        host = urlsplit(request.url).hostname or ""
        script = next(
            (js for pattern, js in self.scripts.items() if fnmatch.fnmatch(host, pattern)), None
        )
        token = secrets.token_hex(8)
        status, content_type, body = _stub_body(script, request.resource_type, token)
        if request.resource_type in ("script", "document"):
            self.unran.append((request.frame, token))
        route.fulfill(status=status, content_type=content_type, body=body)

    def _wait(self, page: Page, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not done() and time.monotonic() < deadline:
            page.wait_for_timeout(50)  # lets Playwright deliver the browser's events

    def _quiet(self) -> bool:
        return not self.pending and time.monotonic() - self.last_activity >= QUIET_MS / 1000

    def _frames_loaded(self, page: Page) -> bool:
        try:
            return bool(page.evaluate(_FRAMES_LOADED_JS))
        except _playwright_error():  # the page navigated meanwhile: check again
            return False

    def _stubs_ran(self) -> bool:
        still = []
        for frame, token in self.unran:
            try:
                ran = frame.evaluate("t => !!(window.__consentScanRan || {})[t]", token)
            except _playwright_error():  # frame detached or navigated: nothing to wait for
                continue
            if not ran:
                still.append((frame, token))
        self.unran = still
        return not still

    def settle(self, page: Page) -> None:
        """Let the page finish: scroll through it a screen at a time (lazy iframes start loading
        near the viewport), then wait until the network is quiet, every iframe has loaded and
        every stub script served has run. A page that never gets there is collected after the
        timeout."""
        page.wait_for_load_state("load")
        self.last_activity = time.monotonic()
        page.evaluate(_SCROLL_JS)
        self._wait(page, lambda: self._quiet() and self._frames_loaded(page)
                   and self._stubs_ran())

    def _cookie_third_party(self, domain: str) -> bool:
        domain = domain.lstrip(".")
        return not (self.site_host == domain or self.site_host.endswith("." + domain))

    def collect(self, context: BrowserContext, page: Page) -> None:
        for c in context.cookies():
            self.seen.append(Seen(self.state, "cookie", c["name"], c["domain"], self.page,
                                  self._cookie_third_party(c["domain"])))
        found: list[tuple[str, str, str]] = []
        for frame in page.frames:
            try:
                data = frame.evaluate(_STORAGE_JS)
            except _playwright_error():  # a frame detached or navigated meanwhile
                continue
            for kind, key in (("local_storage", "local"), ("session_storage", "session"),
                              ("indexeddb", "idb")):
                found.extend((kind, name, data["origin"]) for name in data[key])
        for entry in context.storage_state()["origins"]:
            found.extend(("local_storage", item["name"], entry["origin"])
                         for item in entry.get("localStorage", []))
        for kind, name, origin in found:
            self.seen.append(Seen(self.state, kind, name, origin, self.page,
                                  origin != self.site_origin))


#: True once no consent-gated tag or embed of this app is left inert (after "accept all").
_INERT_GONE_JS = (
    "() => !document.querySelector("
    "'script[type=\"text/plain\"][data-consent], .consent-placeholder[data-src]')"
)


def _decide(page: Page, context: BrowserContext, action: str, decision_url: str, path: str) -> None:
    """Click the banner's ``accept_all``/``reject_all`` button and wait for the server's answer;
    without such a button, POST the banner's form (the no-JavaScript path) instead."""
    button = page.locator(f'#consent-banner button[name="action"][value="{action}"]')
    if button.count():
        # form.getAttribute: form.action would be the button named "action" (DOM clobbering)
        target = button.first.evaluate(
            "b => b.form ? new URL(b.form.getAttribute('action') || '', location.href).href : ''"
        ) or decision_url
        target_path = urlsplit(target).path

        def is_decision(response: Any) -> bool:
            return response.request.method == "POST" and urlsplit(response.url).path == target_path

        with page.expect_response(is_decision) as answer:
            button.first.click()
        if answer.value.status >= 400:
            raise ScanError(f"{action} on {path}: the site answered {answer.value.status}")
        if action == "accept_all":
            # banner.js activates the inert tags once it has read the answer; wait for that
            # rather than for a quiet moment, which a slow machine could put first.
            page.wait_for_function(_INERT_GONE_JS)
        return
    token = page.locator('meta[name="csrf-token"]').first.get_attribute("content") or ""
    response = context.request.post(
        decision_url, form={"action": action, "csrf_token": token, "next": path},
        headers={"Referer": page.url}, max_redirects=0,
    )
    if response.status >= 400:
        raise ScanError(f"{action} on {path}: POST {decision_url} answered {response.status}")
    page.reload()


def _discover(playwright: Playwright, base_url: str, candidates: Sequence[str], max_pages: int
              ) -> tuple[list[str], list[str]]:
    """The pages to scan: a ``sitemap.xml`` at ``base_url`` if there is one, else
    ``candidates``; only those that answer 200 with HTML, at most ``max_pages``.
    Checked with a throwaway request context so that no scanned profile gets its cookies."""
    origin = origin_of(base_url)
    api = playwright.request.new_context(base_url=base_url)
    try:
        paths = list(candidates)
        try:
            sitemap = api.get(base_url.rstrip("/") + "/sitemap.xml", max_redirects=0)
        except _playwright_error() as exc:  # connection refused, DNS, TLS
            raise ScanError(f"cannot reach {base_url}: {exc}") from None
        if sitemap.ok and "xml" in sitemap.headers.get("content-type", ""):
            paths = _sitemap_paths(sitemap.body(), origin) or paths
        pages, skipped = [], []
        for path in paths:
            if len(pages) >= max_pages:
                break
            response = api.get(base_url.rstrip("/") + path, max_redirects=0)
            kind = response.headers.get("content-type", "")
            attachment = "attachment" in response.headers.get("content-disposition", "")
            if response.status == 200 and kind.startswith("text/html") and not attachment:
                pages.append(path)
            else:
                skipped.append(path)
        return pages, skipped
    finally:
        api.dispose()


def _sitemap_paths(body: bytes, origin: str) -> list[str]:
    """Same-origin ``<loc>`` entries of a sitemap, as paths with their query."""
    try:
        root = ET.fromstring(body)  # the operator's own sitemap; expat limits entity expansion
    except ET.ParseError:
        return []
    paths = []
    for loc in root.iter():
        if loc.tag.rsplit("}", 1)[-1] != "loc" or not loc.text:
            continue
        url = loc.text.strip()
        if origin_of(url) == origin:
            parts = urlsplit(url)
            paths.append((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return list(dict.fromkeys(paths))


def collect(
    base_url: str,
    candidates: Sequence[str],
    *,
    decision_url: str,
    max_pages: int = DEFAULT_MAX_PAGES,
    stub: bool = False,
    stub_scripts: Mapping[str, str] | None = None,
    executable: str | None = None,
    timeout_ms: int = 30_000,
) -> tuple[list[str], list[str], list[Seen]]:
    """Visit the pages in the three states; return ``(pages, skipped, seen)``.

    ``stub`` answers every request to another origin locally (nothing leaves the machine); a
    host in ``stub_scripts`` (fnmatch pattern -> JavaScript) gets that script as its script and,
    wrapped in a page, as its frame document, so a test scenario can emulate what a service
    stores.
    """
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ScanError(
            "the cookie scanner needs Playwright: pip install '.[scan]' (it uses the system's "
            "chromium, no browser download)"
        ) from None
    executable = executable or chromium_path()
    if not Path(executable).exists():
        raise ScanError(f"chromium not found at {executable} (apt-get install chromium, or set "
                        "CHROMIUM_PATH)")
    site_origin = origin_of(base_url)
    scripts = dict(stub_scripts or {})
    base = base_url.rstrip("/")

    def run() -> tuple[list[str], list[str], list[Seen]]:
        return _collect(sync_playwright, PlaywrightError, base, site_origin, candidates,
                        decision_url, max_pages, stub, scripts, executable, timeout_ms)

    return _outside_asyncio(run)


def _outside_asyncio(run: Callable[[], _T]) -> _T:
    """Run ``run`` here, or in a thread of its own if this thread runs an asyncio loop (the
    sync Playwright API refuses to start inside one, e.g. inside another Playwright session)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="consent-scan")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _collect(
    sync_playwright: Callable[[], Any], PlaywrightError: type[Exception], base: str,
    site_origin: str, candidates: Sequence[str], decision_url: str, max_pages: int, stub: bool,
    scripts: Mapping[str, str], executable: str, timeout_ms: int,
) -> tuple[list[str], list[str], list[Seen]]:
    """The browser part of :func:`collect`, in one thread."""
    seen: list[Seen] = []
    with sync_playwright() as p:
        pages, skipped = _discover(p, base, candidates, max_pages)
        if not pages:
            raise ScanError(f"no HTML page to scan at {base} (skipped: {skipped})")
        for state in STATES:
            recorder = _Recorder(state, site_origin, scripts, timeout_ms)
            with tempfile.TemporaryDirectory(prefix="consent-scan-profile-") as profile:
                context = _launch(p, profile, executable, PlaywrightError)
                context.set_default_timeout(timeout_ms)
                recorder.watch(context)
                if stub:
                    context.route(recorder.is_third_party, recorder.stub)
                try:
                    page = context.pages[0] if context.pages else context.new_page()
                    for i, path in enumerate(pages):
                        recorder.page = path
                        page.goto(base + path)
                        if i == 0 and state != "none":
                            action = "reject_all" if state == "rejected" else "accept_all"
                            recorder.settle(page)
                            _decide(page, context, action, decision_url, path)
                        recorder.settle(page)
                        recorder.collect(context, page)
                except PlaywrightError as exc:
                    raise ScanError(f"{STATE_TITLES[state]}, {recorder.page}: {exc}") from None
                finally:
                    context.close()
            seen.extend(recorder.seen)
    return pages, skipped, seen


def _launch(
    playwright: Playwright, profile: str, executable: str, error: type[Exception]
) -> BrowserContext:
    """A fresh Chromium profile that accepts third-party cookies and storage.

    This Chromium blocks them by default, but many visitors' browsers do not: the scan shows
    the most a page can store, so an embedded player's storage in its frame counts too.
    """
    default = Path(profile) / "Default"
    default.mkdir()
    (default / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}})
    )
    try:
        return playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, args=list(CHROMIUM_ARGS),
            viewport={"width": 1280, "height": 800}, locale="de-DE",
        )
    except error as exc:
        raise ScanError(f"cannot start chromium at {executable}: {exc}") from None


def scan(
    catalog: Catalog, base_url: str, candidates: Sequence[str], *, decision_url: str,
    **options: Any,
) -> Report:
    """Collect in the browser, then compare with the catalog."""
    pages, skipped, seen = collect(base_url, candidates, decision_url=decision_url, **options)
    violations, warnings = compare(catalog, seen)
    return Report(base_url, pages, seen, violations, warnings,
                  stubbed=bool(options.get("stub")), skipped=skipped)


# --- Output ----------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def render_text(report: Report, catalog: Catalog) -> str:
    """The readable report: what was seen per state, then violations, then warnings."""
    out = [
        f"Cookie scan of {report.base_url}: {len(report.pages)} page(s) x 3 states "
        f"({', '.join(STATE_TITLES[s] for s in STATES)})"
        + ("; third parties stubbed" if report.stubbed else ""),
        "Pages: " + " ".join(report.pages),
    ]
    if report.skipped:
        out.append("Skipped (not an HTML page): " + " ".join(report.skipped))
    data = report.as_json(catalog)
    out += ["", "Seen"]
    out += _table(
        ("STATE", "KIND", "NAME", "ORIGIN", "SERVICE", "PAGES"),
        [(STATE_TITLES[s["state"]], s["kind"], s["name"],
          "-" if s["kind"] == "request" else s["origin"], s["service"] or "-",
          " ".join(s["pages"])) for s in data["seen"]],
    ) if data["seen"] else ["(nothing)"]
    out += ["", f"Violations ({len(report.violations)})"]
    if report.violations:
        out += _table(
            ("RULE", "STATE", "KIND", "NAME", "ORIGIN", "PROBLEM"),
            [(f.rule, STATE_TITLES.get(f.state or "", ""), f.kind, f.name, f.origin or "",
              f.message) for f in report.violations],
        )
    else:
        out.append("(none)")
    out += ["", f"Warnings: catalog entries never seen ({len(report.warnings)})"]
    if report.warnings:
        out += _table(("SERVICE", "KIND", "NAME"),
                      [(f.service or "", f.kind, f.name) for f in report.warnings])
    else:
        out.append("(none)")
    out += ["", "Result: " + ("OK" if report.ok else f"FAIL ({len(report.violations)} "
                              f"violation{'s' if len(report.violations) != 1 else ''})")]
    return "\n".join(out)


# --- The command ---------------------------------------------------------------------------


consent_cli = AppGroup("consent", help="Consent manager tools: the cookie scanner.")


class _ScanFailed(click.ClickException):
    """The scan could not run: exit 2, so that 1 always means a violation."""

    exit_code = 2


#: Blueprints no visitor meets: the operator's admin (its own login cookie, never a visitor's).
OPERATOR_BLUEPRINTS = frozenset({"admin"})


def app_pages(app: Flask) -> list[str]:
    """The app's GET routes without arguments (home first): what visitors can reach; static
    files and the operator's admin left out."""
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint != "static"
        and rule.endpoint.split(".", 1)[0] not in OPERATOR_BLUEPRINTS
    }
    return sorted(rules, key=lambda r: (r != "/", r))


@contextmanager
def serve_copy(app: Flask) -> Iterator[str]:
    """Serve a copy of ``app`` on a free loopback port, with its receipts in a throwaway SQLite
    file (the scan's decisions must not end up in the operator's proof store)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        """No access log on the terminal: the report is the output."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    from .. import create_app
    from ..store import upgrade

    with tempfile.TemporaryDirectory(prefix="consent-scan-") as tmp:
        skip = {"DATABASE_URL", "SERVER_NAME", "TRUSTED_PROXIES", "SESSION_COOKIE_SECURE"}
        config = {k: v for k, v in app.config.items() if k not in skip}
        config["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'scan-receipts.db'}"
        upgrade(config["DATABASE_URL"])  # a throwaway store with the current schema
        copy = create_app(config)
        server = make_server("127.0.0.1", 0, copy, threaded=True, request_handler=Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()


def _read_stub_scripts(specs: Sequence[str]) -> dict[str, str]:
    scripts = {}
    for spec in specs:
        host, sep, file = spec.partition("=")
        if not sep or not host or not file:
            raise click.BadParameter(f"{spec!r}: use HOST=FILE", param_hint="--stub-script")
        try:
            scripts[host] = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"{file}: {exc.strerror}", param_hint="--stub-script"
                                     ) from None
    return scripts


@consent_cli.command("scan")
@click.argument("base_url", required=False)
@click.option("--max-pages", type=click.IntRange(min=1), default=DEFAULT_MAX_PAGES,
              show_default=True, help="Scan at most this many pages.")
@click.option("--json", "as_json", is_flag=True, help="Write the report as JSON.")
@click.option("--stub-third-parties", is_flag=True,
              help="Answer every request to another origin locally; nothing leaves the machine.")
@click.option("--stub-script", "stub_scripts", multiple=True, metavar="HOST=FILE",
              help="With --stub-third-parties: serve FILE's JavaScript for HOST (an fnmatch "
                   "pattern), as its scripts and inside its frames. Repeatable.")
@click.option("--timeout", type=click.IntRange(min=1), default=30, show_default=True,
              help="Seconds to wait for a page, a click or a quiet network.")
def scan_command(base_url: str | None, max_pages: int, as_json: bool, stub_third_parties: bool,
                 stub_scripts: tuple[str, ...], timeout: int) -> None:
    """Prove the catalog against the site: visit its pages without a decision, after "reject
    all" and after "accept all" in headless Chromium, and compare every cookie, storage key and
    third-party request with the catalog. Without BASE_URL, a copy of this app is started on a
    free loopback port. Exit 1 on a violation, 2 if the scan cannot run."""
    from flask import url_for

    if stub_scripts and not stub_third_parties:
        raise click.UsageError("--stub-script needs --stub-third-parties")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    catalog = app.extensions["consent"].catalog
    scripts = _read_stub_scripts(stub_scripts)
    if base_url is not None and urlsplit(base_url).scheme not in ("http", "https"):
        raise click.BadParameter("give an http:// or https:// URL", param_hint="BASE_URL")
    with app.test_request_context():
        decision_path = url_for("consent.save_choice")
    candidates = app_pages(app)
    options: dict[str, Any] = dict(max_pages=max_pages, stub=stub_third_parties,
                                   stub_scripts=scripts, timeout_ms=timeout * 1000)
    try:
        if base_url is None:
            with serve_copy(app) as url:
                report = scan(catalog, url, candidates, decision_url=url + decision_path,
                              **options)
        else:
            url = base_url.rstrip("/")
            report = scan(catalog, url, candidates, decision_url=url + decision_path, **options)
    except ScanError as exc:
        raise _ScanFailed(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_json(catalog), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(report, catalog))
    if not report.ok:
        raise click.exceptions.Exit(1)
