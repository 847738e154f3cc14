"""Size of what the consent banner costs a visitor: banner.js + banner.css as served, and the
German and English texts it receives in the page's config block. Prints raw, gzip -9 and
brotli (quality 11) bytes next to the peer figures from the banner research.

    python bench/banner.py [--max-brotli 6144]   (exit status 1 when over the budget)
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from website.consent.texts import TEXTS  # noqa: E402

STATIC = ROOT / "website" / "static"
# Peer JS+CSS as shipped (raw, gzip, brotli), research/peer-banners.md; none includes its texts.
PEERS = [
    ("vanilla-cookieconsent 3.1 JS+CSS, no texts", 55_666, 15_513, 13_783),
    ("tarteaucitron 1.34 (4 requests)", 317_864, 60_404, 51_531),
    ("Klaro 0.7 (klaro.js)", 235_942, 68_892, 59_197),
]


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-brotli",
        type=int,
        default=6 * 1024,
        help="budget for JS+CSS+texts, brotli bytes (default 6144)",
    )
    args = parser.parse_args()
    js = (STATIC / "banner.js").read_bytes()
    css = (STATIC / "banner.css").read_bytes()
    texts = json.dumps(TEXTS, ensure_ascii=False).encode()
    rows = [
        ("banner.js", sizes(js)),
        ("banner.css", sizes(css)),
        ("texts de+en (JSON)", sizes(texts)),
        # Two responses, each compressed on its own, as a server sends them.
        ("JS+CSS", tuple(a + b for a, b in zip(sizes(js), sizes(css), strict=True))),
        (
            "JS+CSS+texts",
            tuple(a + b + c for a, b, c in zip(sizes(js), sizes(css), sizes(texts), strict=True)),
        ),
    ]
    print(f"{'':44} {'raw':>9} {'gzip':>9} {'brotli':>9}")
    for name, (raw, gz, br) in rows:
        print(f"{name:44} {raw:9,} {gz:9,} {br:9,}")
    print("peers (research/peer-banners.md):")
    for name, raw, gz, br in PEERS:
        print(f"  {name:42} {raw:9,} {gz:9,} {br:9,}")
    total = rows[-1][1][2]
    ok = total <= args.max_brotli
    print(
        f"budget: JS+CSS+texts brotli {total:,} of {args.max_brotli:,} bytes: "
        f"{'OK' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
