from __future__ import annotations

import pytest

from qrstudio_box.links.shortid import ALPHABET, LENGTH, looks_like_short_id, new_short_id
from qrstudio_box.links.useragent import UserAgentInfo, cut_user_agent, parse_user_agent

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
DESKTOP_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_short_ids_are_8_base62_and_differ():
    ids = {new_short_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == LENGTH == 8 and set(i) <= set(ALPHABET) for i in ids)
    assert len(ALPHABET) == 62
    # Every character position uses the whole alphabet (not, say, digits only).
    assert len({c for i in ids for c in i}) == 62


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("aBc12dEf", True),
        ("aBc12dE", False),
        ("aBc12dEfg", False),
        ("aBc12dE-", False),
        ("../../et", False),
        ("", False),
    ],
)
def test_short_id_shape(text, ok):
    assert looks_like_short_id(text) is ok


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE_SAFARI, UserAgentInfo("iPhone", "iOS", "Mobile Safari", False)),
        (ANDROID_CHROME, UserAgentInfo("Pixel 8", "Android", "Chrome Mobile", False)),
        (DESKTOP_FIREFOX, UserAgentInfo("Other", "Ubuntu", "Firefox", False)),
        (GOOGLEBOT, UserAgentInfo("Spider", "Other", "Googlebot", True)),
    ],
)
def test_families(user_agent, expected):
    assert parse_user_agent(user_agent) == expected


@pytest.mark.parametrize(
    ("user_agent", "is_bot"),
    [
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", True),
        ("curl/8.5.0", True),
        ("Wget/1.21.3", True),
        ("python-requests/2.31.0", True),
        ("python-httpx/0.27.0", True),
        ("Go-http-client/2.0", True),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/124.0.0.0 Safari/537.36",
            True,
        ),
        ("", True),
        ("   ", True),
        (IPHONE_SAFARI, False),
        (ANDROID_CHROME, False),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.0",
            False,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
            False,
        ),
    ],
)
def test_bots(user_agent, is_bot):
    assert parse_user_agent(user_agent).is_bot is is_bot


def test_parse_results_are_cached():
    parse_user_agent.cache_clear()
    first = parse_user_agent(ANDROID_CHROME)
    assert parse_user_agent(ANDROID_CHROME) is first
    assert parse_user_agent.cache_info().hits == 1


def test_user_agent_cut_at_512():
    assert cut_user_agent("a" * 600) == "a" * 512
    assert cut_user_agent(None) == ""
