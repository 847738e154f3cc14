"""What the consent banner costs a visitor, captured in a real browser.

Starts the real app on a loopback port, opens it in Debian's Chromium through Playwright and
records the body of every response the first visit loads for the banner (its script and
stylesheet) plus the inline config block as it arrives in the HTML; then opens the second layer
and records what that adds (its script, stylesheet and the catalog JSON). Each body is counted
raw, gzip -9 and brotli -q 11, each compressed on its own as a server with static compression
sends it, next to the peer figures from the banner research (shared/research/peer-banners.md).
Sizes do not depend on timing, so one run is exact.

    python bench/banner.py [--max-brotli 5120] [--lang de|en|fr|nl]   (exit 1 when over the budget)
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from website import create_app  # noqa: E402
from website.i18n import LANGUAGES  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Peer JS+CSS as shipped (raw, gzip, brotli), research/peer-banners.md; none includes its texts.
PEERS = [
    ("vanilla-cookieconsent 3.1 JS+CSS, no texts", 55_666, 15_513, 13_783),
    ("tarteaucitron 1.34 (4 requests)", 317_864, 60_404, 51_531),
    ("Klaro 0.7 (klaro.js)", 235_942, 68_892, 59_197),
]
CONFIG = re.compile(rb'<script type="application/json" id="consent-config">(.*?)</script>', re.S)
FIRST_LAYER = re.compile(rb'<section id="consent-banner".*?</section>', re.S)


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11))


def banner_resource(url: str) -> bool:
    path = urlsplit(url).path
    return path.startswith(("/static/banner", "/consent/catalog."))


def capture(base: str, lang: str) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]], bytes]:
    """(first visit: name, body), (second layer adds: name, body), first-layer HTML."""
    from playwright.sync_api import sync_playwright

    first: list[tuple[str, bytes]] = []
    later: list[tuple[str, bytes]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"],
        )
        context = browser.new_context(locale={"de": "de-DE", "en": "en-GB", "fr": "fr-FR",
                                              "nl": "nl-NL"}.get(lang, lang))
        context.route(lambda url: urlsplit(url).hostname != "127.0.0.1", lambda r: r.abort())
        page = context.new_page()
        bucket = first
        page.on(
            "response",
            lambda r: banner_resource(r.url) and bucket.append((urlsplit(r.url).path, r.body())),
        )
        document = page.goto(f"{base}/?lang={lang}")
        page.wait_for_load_state("networkidle")
        html = document.body()
        config = CONFIG.search(html)
        if not config:
            raise SystemExit("the page has no consent-config block")
        first.append(("inline config (in the HTML)", config.group(1)))
        bucket = later
        page.locator("#consent-banner [data-consent-open]").click()
        page.locator(".cc-modal").wait_for()
        page.wait_for_load_state("networkidle")
        browser.close()
    layer = FIRST_LAYER.search(html)
    return first, later, layer.group(0) if layer else b""


def serve():
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = tempfile.mkdtemp(prefix="bench-banner-")
    os.environ["INSTANCE_PATH"] = tmp
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp}/receipts.db"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, tmp


def table(rows: list[tuple[str, tuple[int, int, int]]]) -> None:
    for name, (raw, gz, br) in rows:
        print(f"  {name:46} {raw:9,} {gz:9,} {br:9,}")


def total(rows: list[tuple[str, bytes]]) -> tuple[int, int, int]:
    return tuple(map(sum, zip(*(sizes(body) for _, body in rows), strict=True)))  # type: ignore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-brotli", type=int, default=5 * 1024,
                        help="budget for the first visit, brotli bytes (default 5120)")
    parser.add_argument("--lang", choices=LANGUAGES, default="de")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"bench-banner needs chromium ({CHROMIUM}; apt-get install chromium)")
        return 2
    server, tmp = serve()
    try:
        first, later, layer_html = capture(f"http://127.0.0.1:{server.server_port}", args.lang)
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'captured in Chromium, lang=' + args.lang:48} {'raw':>9} {'gzip':>9} {'brotli':>9}")
    print("first visit (every page until a decision):")
    table([(name, sizes(body)) for name, body in first])
    first_total = total(first)
    table([("= JS + CSS + inline config", first_total)])
    print("opening the second layer adds (once; then cached):")
    table([(name, sizes(body)) for name, body in later])
    print("for reference, not counted above:")
    table([("first-layer markup in the HTML (works without JS)", sizes(layer_html))])
    print("peers, JS+CSS as shipped (research/peer-banners.md):")
    for name, raw, gz, br in PEERS:
        print(f"  {name:46} {raw:9,} {gz:9,} {br:9,}  = {br / first_total[2]:.1f}x ours")
    ok = first_total[2] <= args.max_brotli
    print(f"budget: first visit brotli {first_total[2]:,} of {args.max_brotli:,} bytes: "
          f"{'OK' if ok else 'OVER BUDGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
