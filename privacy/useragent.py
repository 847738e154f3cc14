"""Reduce a User-Agent header to browser, operating system and device class.

The log form (``str()``) is ``Firefox 121 / Windows 10 / pc``; for crawlers it is
``bot / Googlebot``. Versions are cut to the browser's major version and at most
``major.minor`` of the operating system, so the string no longer narrows a visitor down.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

__all__ = ["MAX_USER_AGENT_CHARS", "ReducedUserAgent", "reduce_user_agent"]

#: Longer headers are cut before parsing: real user agents are far shorter, and ua-parser's
#: regular expressions get slow on huge inputs.
MAX_USER_AGENT_CHARS = 512

# Family names come from the header itself (regex groups), so keep them to harmless characters:
# nothing that could end a quoted log field or smuggle digits that look like an address.
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._+-]")


class ReducedUserAgent(NamedTuple):
    """What is kept of a user agent."""

    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str  # "pc", "mobile", "tablet", "bot" or "other"

    def __str__(self) -> str:
        if self.device == "bot":
            return f"bot / {self.browser}"
        browser = f"{self.browser} {self.browser_version}".rstrip()
        system = f"{self.os} {self.os_version}".rstrip()
        return f"{browser} / {system} / {self.device}"


def _clean(text: str | None) -> str:
    return _UNSAFE.sub("", text or "").strip()[:40] or "Other"


def _device_class(parsed: object) -> str:
    for attribute, name in (
        ("is_bot", "bot"),
        ("is_tablet", "tablet"),
        ("is_mobile", "mobile"),
        ("is_pc", "pc"),
    ):
        if getattr(parsed, attribute):
            return name
    return "other"


@functools.lru_cache(maxsize=4096)
def reduce_user_agent(ua: str) -> ReducedUserAgent:
    """Parse ``ua`` with ``user-agents`` and keep only families and short versions (cached)."""
    from user_agents import parse  # imported on first use: loading its rules takes 0.3 s

    parsed = parse(ua[:MAX_USER_AGENT_CHARS])
    device = _device_class(parsed)
    browser = _clean(parsed.browser.family)
    if device == "bot":
        return ReducedUserAgent(browser, "", "", "", "bot")
    browser_version = str(parsed.browser.version[0]) if parsed.browser.version else ""
    os_version = ".".join(str(part) for part in parsed.os.version[:2])
    return ReducedUserAgent(
        browser,
        _clean(browser_version) if browser_version else "",
        _clean(parsed.os.family),
        _clean(os_version) if os_version else "",
        device,
    )
