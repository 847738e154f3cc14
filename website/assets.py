"""Minified copies of the consent banner's scripts and stylesheets: what pages really load.

The readable sources (``banner.js``, ``banner.css``, ``banner-layer.js``, ``banner-layer.css``)
stay in ``website/static/`` next to their ``.min`` copies, which ``make assets`` writes with the
standard pure-Python minifiers rjsmin and rcssmin (test tools only: the copies are committed, so
the site needs no build step at run time). ``tests/site/test_assets.py`` fails when a copy is
stale.

    python -m website.assets [--check]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
SOURCES = ("banner.js", "banner.css", "banner-layer.js", "banner-layer.css")
HEADER = "/* {name} minified by `make assets` */\n"


def minified_name(name: str) -> str:
    """``banner.js`` -> ``banner.min.js``."""
    stem, ext = name.rsplit(".", 1)
    return f"{stem}.min.{ext}"


def _minifier(name: str) -> Callable[[str], str]:
    if name.endswith(".js"):
        import rjsmin

        return rjsmin.jsmin
    import rcssmin

    return rcssmin.cssmin


def minify(name: str, static: Path = STATIC) -> str:
    """The minified text of one source file."""
    source = (static / name).read_text(encoding="utf-8")
    return HEADER.format(name=name) + _minifier(name)(source).strip() + "\n"


def stale(static: Path = STATIC) -> list[str]:
    """The ``.min`` copies that are missing or differ from their sources' minified text."""
    out = []
    for name in SOURCES:
        target = static / minified_name(name)
        if not target.exists() or target.read_text(encoding="utf-8") != minify(name, static):
            out.append(target.name)
    return out


def build(static: Path = STATIC) -> list[str]:
    """Write every ``.min`` copy that is stale; return their names."""
    written = stale(static)
    for target in written:
        source = target.replace(".min.", ".")
        (static / target).write_text(minify(source, static), encoding="utf-8")
    return written


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        if names:
            print(f"stale: {', '.join(names)} (run `make assets`)", file=sys.stderr)
            return 1
        return 0
    for name in build():
        print(f"wrote website/static/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
