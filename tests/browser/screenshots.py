"""Screenshots of each first-layer layout (box, bar) in the light and the dark theme, on a
desktop (1280 x 800) and a phone (390 x 844), plus the second layer, into docs/screenshots/.

    python -m tests.browser.screenshots        (make screenshots)

The real app on a loopback port per layout, Debian's Chromium, third parties stubbed. The
browser suite checks the files exist and have these sizes (test_screenshots.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.conftest import ARGS, CHROMIUM, ROOT, live_app

OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
SHOTS = [(layout, theme, device) for layout in ("box", "bar") for theme in ("light", "dark")
         for device in SIZES]
SECOND_LAYER = [("light", "desktop"), ("dark", "phone")]


def names() -> list[str]:
    """Every file this script writes."""
    return [f"{layout}-{theme}-{device}.png" for layout, theme, device in SHOTS] + [
        f"settings-{theme}-{device}.png" for theme, device in SECOND_LAYER]


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    servers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("box", "bar"):
            folder = Path(tmp) / layout
            folder.mkdir()
            servers[layout] = live_app(folder, CONSENT_LAYOUT=layout)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)

            def page_for(layout: str, theme: str, device: str):
                width, height = SIZES[device]
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=theme,
                    locale="de-DE", reduced_motion="reduce")
                context.route(lambda url: urlsplit(url).hostname != "127.0.0.1",
                              lambda route: route.abort())
                page = context.new_page()
                page.goto(servers[layout][1].url + "/")
                page.wait_for_load_state("networkidle")
                return context, page

            for layout, theme, device in SHOTS:
                context, page = page_for(layout, theme, device)
                page.screenshot(path=OUT / f"{layout}-{theme}-{device}.png")
                context.close()
            for theme, device in SECOND_LAYER:
                context, page = page_for("box", theme, device)
                page.locator("#consent-banner [data-consent-open]").click()
                page.locator(".cc-modal").wait_for()
                page.locator(".cc-modal details").first.locator("summary").click()
                page.screenshot(path=OUT / f"settings-{theme}-{device}.png")
                context.close()
            browser.close()
        for srv, _ in servers.values():
            srv.shutdown()
    for name in names():
        print(f"docs/screenshots/{name}: {(OUT / name).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
