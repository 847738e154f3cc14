"""``reduce_user_agent``: what is kept of a user agent, and its log form."""

from __future__ import annotations

from privacy.useragent import ReducedUserAgent, reduce_user_agent
from tests.logrotate.logdata import CHROME, FIREFOX, GOOGLEBOT

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)


def test_desktop_browser() -> None:
    reduced = reduce_user_agent(FIREFOX)
    assert reduced == ReducedUserAgent("Firefox", "121", "Windows", "10", "pc")
    assert str(reduced) == "Firefox 121 / Windows 10 / pc"
    assert str(reduce_user_agent(CHROME)) == "Chrome 120 / Windows 10 / pc"


def test_mobile_tablet_bot_other() -> None:
    assert str(reduce_user_agent(IPHONE)) == "Mobile Safari 17 / iOS 17.1 / mobile"
    assert reduce_user_agent(IPAD).device == "tablet"
    assert str(reduce_user_agent(GOOGLEBOT)) == "bot / Googlebot"
    assert reduce_user_agent("curl/8.4.0") == ReducedUserAgent("curl", "8", "Other", "", "other")
    assert str(reduce_user_agent("")) == "Other / Other / other"


def test_hostile_input_is_cleaned_and_bounded() -> None:
    reduced = reduce_user_agent('Evil"Browser/1.0 (X11; Linux x86_64) ' + "A" * 100_000)
    assert '"' not in str(reduced)
    assert all(len(part) <= 40 for part in reduced)


def test_cached() -> None:
    reduce_user_agent.cache_clear()
    reduce_user_agent(FIREFOX)
    reduce_user_agent(FIREFOX)
    info = reduce_user_agent.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert info.maxsize is not None
