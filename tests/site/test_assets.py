"""The .min copies pages load are the minified current sources (run `make assets`)."""

from __future__ import annotations

from website import assets


def test_minified_copies_are_up_to_date():
    assert assets.stale() == [], "run `make assets`"


def test_pages_load_the_minified_copies(client):
    html = client.get("/").get_data(as_text=True)
    assert "/static/banner.min.js" in html and "/static/banner.min.css" in html
    for name in assets.SOURCES:
        assert client.get(f"/static/{assets.minified_name(name)}").status_code == 200


def test_a_changed_source_makes_its_copy_stale(tmp_path):
    for name in assets.SOURCES:
        (tmp_path / name).write_text((assets.STATIC / name).read_text())
    assert sorted(assets.build(tmp_path)) == sorted(map(assets.minified_name, assets.SOURCES))
    assert assets.stale(tmp_path) == []
    (tmp_path / "banner.js").write_text("/* changed */ (() => 1)();")
    assert assets.stale(tmp_path) == ["banner.min.js"]


def test_first_visit_stays_within_5_kb_brotli(client):
    """The same sum `make bench-banner` captures in Chromium, from the files and the page."""
    import re

    import brotli

    html = client.get("/").get_data()
    config = re.search(rb'id="consent-config">(.*?)</script>', html, re.S).group(1)
    bodies = [config] + [(assets.STATIC / n).read_bytes() for n in ("banner.min.js",
                                                                     "banner.min.css")]
    assert sum(len(brotli.compress(b, quality=11)) for b in bodies) <= 5 * 1024
