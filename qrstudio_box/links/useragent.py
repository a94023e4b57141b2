"""User-agent families and bot detection for scans.

ua-parser (with its builtin regexes) gives the families; its "Spider" device family marks
the crawlers it knows. Our own rule set adds the HTTP libraries, headless browsers and
link-preview fetchers it leaves as ordinary clients. Bot scans are flagged, never dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec
import ua_parser

MAX_USER_AGENT_CHARS = 512  # what a scan stores; parsing sees the same cut string

# Case-insensitive substrings of clients that are not a person holding a phone.
CRAWLER_RULES = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrape|preview|fetcher|monitor|uptime|pingdom|"
    r"headless|phantomjs|selenium|puppeteer|playwright|lighthouse|"
    r"curl/|wget/|httpie|python-requests|python-urllib|python-httpx|aiohttp|httpx/|"
    r"go-http-client|java/|okhttp/[0-9.]+$|libwww-perl|node-fetch|axios/|undici|"
    r"postmanruntime|insomnia|apache-httpclient",
    re.IGNORECASE,
)


class UserAgentInfo(msgspec.Struct, frozen=True):
    device_family: str
    os_family: str
    browser_family: str
    is_bot: bool


def cut_user_agent(user_agent: str | None) -> str:
    return (user_agent or "")[:MAX_USER_AGENT_CHARS]


@lru_cache(maxsize=8192)
def parse_user_agent(user_agent: str) -> UserAgentInfo:
    """Families as ua-parser names them ("Other" when it does not know); cached because
    scanners repeat: a few hundred distinct phone/browser strings cover most traffic."""
    result = ua_parser.parse(user_agent).with_defaults()
    # An empty user agent is a script: every phone camera opens a browser that sends one.
    is_bot = (
        not user_agent.strip()
        or result.device.family == "Spider"
        or CRAWLER_RULES.search(user_agent) is not None
    )
    return UserAgentInfo(
        device_family=result.device.family,
        os_family=result.os.family,
        browser_family=result.user_agent.family,
        is_bot=is_bot,
    )
