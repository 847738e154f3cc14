"""Test data for the log job: log lines built at test time.

Only documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)
are used.
"""

from __future__ import annotations

from datetime import UTC, datetime

# The moment the log job believes it is (``LOGROTATE_NOW`` in ``run_cli``): the generated lines
# below are from two hours before it.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def combined_line(
    client: str,
    path: str = "/",
    referrer: str = "-",
    agent: str = FIREFOX,
    when: str = "24/Nov/2026:10:00:00 +0000",
    status: int = 200,
    size: int = 1234,
) -> str:
    return f'{client} - - [{when}] "GET {path} HTTP/1.1" {status} {size} "{referrer}" "{agent}"\n'


def many_lines(count: int, when: str = "24/Nov/2026:10:00:00 +0000") -> bytes:
    """A big combined log with IPv4 and IPv6 clients, some addresses in query strings."""
    lines = []
    for number in range(count):
        if number % 3:
            client = f"198.51.100.{number % 254 + 1}"
        else:
            client = f"2001:db8:{number % 65536:x}:{number % 7 + 1}::{number % 97 + 1:x}"
        path = f"/page/{number % 50}" + (
            f"?ip=203.0.113.{number % 200 + 1}" if number % 9 == 0 else ""
        )
        agent = (FIREFOX, CHROME, GOOGLEBOT)[number % 3]
        lines.append(combined_line(client, path, agent=agent, when=when, size=number))
    return "".join(lines).encode()
