"""Generate a realistic nginx "combined" access log for the log benchmark (deterministic).

Clients: a Zipf-distributed population (s=0.9) of IPv4 and IPv6 addresses from the
documentation ranges plus some other public-looking ranges, about 30 % IPv6, some written as
IPv4-mapped ``::ffff:a.b.c.d``, some IPv6 clients rotating privacy addresses. About 2 % of
lines carry an IP-literal referrer and 1.5 % an ``&ip=<client>`` in the query string.
User agents are real browser and crawler strings.

    python bench/generate_log.py OUTPUT [--lines N] [--seed S]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
from datetime import UTC, datetime, timedelta

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
    "-",
]
UA_WEIGHTS = [22, 8, 10, 7, 6, 12, 9, 3, 6, 3, 5, 3, 2, 2, 2]
PATHS = [
    "/",
    "/index.html",
    "/about/",
    "/contact/",
    "/privacy/",
    "/imprint/",
    "/blog/",
    "/blog/2023/10/hello-world/",
    "/static/css/site.3f2a1c.css",
    "/static/js/banner.js?v=1.4.2",
    "/static/img/logo.svg",
    "/favicon.ico",
    "/robots.txt",
    "/sitemap.xml",
    "/api/v1/consent",
    "/search?q=datenschutz&page=2",
    "/products/item?id=12345",
    "/downloads/tool-2.10.3.tar.gz",
]
REFERRERS = [
    "-",
    "https://www.example.com/",
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://www.example.com/blog/",
    "android-app://com.google.android.gm/",
]
STATUSES = [200] * 80 + [304] * 10 + [301, 302, 404, 404, 404, 403, 500, 206, 200, 200]
METHODS = ["GET"] * 18 + ["POST", "HEAD"]


def _client_pool(rng: random.Random, size: int) -> list[str]:
    pool = []
    for _ in range(size):
        kind = rng.random()
        if kind < 0.69:
            first = rng.choice([192, 198, 203, 81, 91, 145, 185, 217, 62, 46])
            pool.append(f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}")
        elif kind < 0.72:
            pool.append(f"::ffff:198.51.{rng.randrange(256)}.{rng.randrange(256)}")
        else:
            groups = [0x2001, 0xDB8] + [rng.randrange(0x10000) for _ in range(6)]
            if rng.random() < 0.3:
                groups[4:7] = [0, 0, 0]
            pool.append(":".join(f"{g:x}" for g in groups))
    return pool


def _rotate_privacy(rng: random.Random, address: str) -> str:
    """IPv6 privacy extensions: same /64, new random interface identifier."""
    head = address.split(":")[:4]
    return ":".join(head + [f"{rng.randrange(0x10000):x}" for _ in range(4)])


def generate(path: str, lines: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    pool = _client_pool(rng, 20_000)
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(pool))))
    ua_cumulative = list(itertools.accumulate(UA_WEIGHTS))
    when = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for _ in range(lines):
            client = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            if ":" in client and "." not in client and rng.random() < 0.01:
                client = _rotate_privacy(rng, client)
            when += timedelta(milliseconds=rng.randrange(170))
            path_part = rng.choice(PATHS)
            if rng.random() < 0.015:
                path_part += ("&" if "?" in path_part else "?") + "ip=" + client
            referrer = rng.choice(REFERRERS)
            if rng.random() < 0.02:
                host = f"203.0.113.{rng.randrange(1, 255)}"
                referrer = f"http://{host}/admin/login?next=/"
            ua = USER_AGENTS[bisect.bisect(ua_cumulative, rng.random() * ua_cumulative[-1])]
            status = rng.choice(STATUSES)
            size = 0 if status == 304 else rng.randrange(200, 250_000)
            out.write(
                f'{client} - - [{when:%d/%b/%Y:%H:%M:%S} +0000] "{rng.choice(METHODS)} '
                f'{path_part} HTTP/1.1" {status} {size} "{referrer}" "{ua}"\n'
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.output, args.lines, args.seed)


if __name__ == "__main__":
    main()
