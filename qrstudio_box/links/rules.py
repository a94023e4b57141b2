"""Input rules for dynamic QRs, as pure functions: each raises InputError naming the field."""

from __future__ import annotations

import functools
import ipaddress
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The URL check and its ASCII forms live in the neutral urls.py (the domains domain, which links
# imports, checks a fallback URL with the same rule); links' callers keep importing them here.
from ..urls import InputError, check_destination
from .routing import UTM_KEYS, WEEKDAYS
from .shortid import could_be_short_id
from .variants import DEFAULT_LABEL, EXPIRED_LABEL

# Which scans each `bots` choice counts, by their is_bot flag: stats, charts, lists, exports.
BOT_FILTER: dict[str, tuple[int, ...]] = {"exclude": (0,), "include": (0, 1), "only": (1,)}


def bot_flag(bots: str) -> int | None:
    """The one is_bot value that `bots` keeps, or None when it keeps both."""
    flags = BOT_FILTER[bots]
    return flags[0] if len(flags) == 1 else None


MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 64
MAX_VARIANTS = 20
MAX_WEIGHT = 1_000_000


def check_name(field: str, name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InputError(field, f"must be at most {MAX_NAME_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InputError(field, "must not contain control characters")
    return name


def check_variants(
    field: str, variants: Sequence[tuple[str, str, int]]
) -> list[tuple[str, str, int]]:
    """(label, destination_url, weight) triples: labels unique, weights positive integers."""
    if len(variants) > MAX_VARIANTS:
        raise InputError(field, f"at most {MAX_VARIANTS} variants")
    seen: set[str] = set()
    checked = []
    for index, (label, destination_url, weight) in enumerate(variants):
        at = f"{field}[{index}]"
        label = label.strip()
        if not label:
            raise InputError(f"{at}.label", "is required")
        if len(label) > MAX_LABEL_CHARS:
            raise InputError(f"{at}.label", f"must be at most {MAX_LABEL_CHARS} characters")
        if label == DEFAULT_LABEL:
            raise InputError(f"{at}.label", f"{DEFAULT_LABEL} is reserved for QRs without variants")
        if label in seen:
            raise InputError(f"{at}.label", f"{label!r} is used twice")
        seen.add(label)
        check_destination(f"{at}.destination_url", destination_url)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise InputError(f"{at}.weight", f"must be a whole number from 1 to {MAX_WEIGHT}")
        checked.append((label, destination_url, weight))
    return checked


# -- smart routing (issue 18): rules, lifecycle, UTM -------------------------------------------

MAX_RULES = 50
MAX_VALUES = 50  # values per condition list
MAX_FAMILY_CHARS = 64
MAX_UTM_CHARS = 200
MAX_TZ_CHARS = 64
RESERVED_LABELS = (DEFAULT_LABEL, EXPIRED_LABEL)
# ua-parser's word for "I do not know": an unknown value never matches, so no rule may ask it.
UNKNOWN_FAMILY = "other"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@functools.cache
def iso_countries() -> frozenset[str] | None:
    """ISO 3166-1 alpha-2 codes from the tz database's iso3166.tab (the system's zoneinfo, or
    the tzdata package's), the list GeoIP databases use; None when neither is installed."""
    paths = [Path(root) / "iso3166.tab" for root in zoneinfo.TZPATH]
    try:
        paths.append(Path(str(resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab"))))
    except ModuleNotFoundError:
        pass
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        return frozenset(
            line.split("\t", 1)[0] for line in text.splitlines() if line and line[0] != "#"
        )
    return None


def check_label(field: str, label: Any) -> str:
    if not isinstance(label, str) or not label.strip():
        raise InputError(field, "is required")
    label = label.strip()
    if len(label) > MAX_LABEL_CHARS:
        raise InputError(field, f"must be at most {MAX_LABEL_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
        raise InputError(field, "must not contain control characters")
    if label in RESERVED_LABELS:
        raise InputError(field, f"{label} is reserved")
    return label


def _value_list(field: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not values:
        raise InputError(field, "must be a list of at least one value")
    if len(values) > MAX_VALUES:
        raise InputError(field, f"at most {MAX_VALUES} values")
    if not all(isinstance(value, str) for value in values):
        raise InputError(field, "must be a list of strings")
    return values


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def check_countries(field: str, values: Any) -> list[str]:
    known = iso_countries()
    checked = []
    for value in _value_list(field, values):
        code = value.strip().upper()
        valid = len(code) == 2 and code.isascii() and code.isalpha()
        if not valid or (known is not None and code not in known):
            raise InputError(field, f"{value!r} is not an ISO 3166-1 country code like CA")
        checked.append(code)
    return _unique(checked)


def check_families(field: str, values: Any) -> list[str]:
    """Device, OS or browser families as ua-parser names them ("iPhone", "iOS", "Chrome
    Mobile"): free strings, since ua-parser's list grows, but bounded."""
    checked = []
    for value in _value_list(field, values):
        name = value.strip()
        if not name or len(name) > MAX_FAMILY_CHARS:
            raise InputError(field, f"each value must be 1 to {MAX_FAMILY_CHARS} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise InputError(field, "must not contain control characters")
        if name.casefold() == UNKNOWN_FAMILY:
            raise InputError(field, "Other means unknown, and an unknown value never matches")
        checked.append(name)
    return _unique(checked)


def check_languages(field: str, values: Any) -> list[str]:
    checked = []
    for value in _value_list(field, values):
        tag = value.strip().lower()
        if not _LANGUAGE.match(tag):
            raise InputError(field, f"{value!r} is not a primary language tag like fr")
        checked.append(tag)
    return _unique(checked)


def check_time_zone(field: str, name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_TZ_CHARS:
        raise InputError(field, "must be an IANA time zone like Europe/Paris")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(field, f"{name!r} is not an IANA time zone like Europe/Paris") from None
    return name


def check_instant(field: str, text: Any) -> datetime:
    if not isinstance(text, str) or "T" not in text:
        raise InputError(field, "must be an ISO 8601 instant like 2026-06-01T09:00:00Z")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise InputError(field, "must be an ISO 8601 instant like 2026-06-01T09:00:00Z") from None
    if moment.tzinfo is None:
        raise InputError(field, "must say its offset (Z or +02:00)")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_when(field: str, when: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's conditions, normalised (codes upper-case, languages lower-case, instants in
    UTC); only the conditions given are kept. `{}` matches every scan."""
    checked: dict[str, Any] = {}
    if when.get("country") is not None:
        checked["country"] = check_countries(f"{field}.country", when["country"])
    for key in ("device", "os", "browser"):
        if when.get(key) is not None:
            checked[key] = check_families(f"{field}.{key}", when[key])
    if when.get("language") is not None:
        checked["language"] = check_languages(f"{field}.language", when["language"])
    if when.get("weekdays") is not None:
        days = [
            str(day).strip().lower() for day in _value_list(f"{field}.weekdays", when["weekdays"])
        ]
        for day in days:
            if day not in WEEKDAYS:
                raise InputError(f"{field}.weekdays", f"{day!r} is not one of mon, tue, ... sun")
        checked["weekdays"] = [day for day in WEEKDAYS if day in days]
    hours = when.get("hours")
    if hours is not None:
        for key in ("from", "to"):
            if not isinstance(hours.get(key), str) or not _HHMM.match(hours[key]):
                raise InputError(f"{field}.hours.{key}", "must be a time like 09:00 (00:00-24:00)")
        if hours["from"] == hours["to"] or hours["from"] == "24:00":
            raise InputError(f"{field}.hours.from", "must differ from to (and be before 24:00)")
        tz = check_time_zone(f"{field}.hours.tz", hours.get("tz"))
        checked["hours"] = {"from": hours["from"], "to": hours["to"], "tz": tz}
    between = when.get("between")
    if between is not None:
        start = between.get("from")
        end = between.get("to")
        if start is None and end is None:
            raise InputError(f"{field}.between", "needs from, to or both")
        checked["between"] = {}
        if start is not None:
            checked["between"]["from"] = _iso(check_instant(f"{field}.between.from", start))
        if end is not None:
            checked["between"]["to"] = _iso(check_instant(f"{field}.between.to", end))
        if start is not None and end is not None:
            if checked["between"]["from"] >= checked["between"]["to"]:
                raise InputError(f"{field}.between.from", "must be before between.to")
    if when.get("bots") is not None:
        if not isinstance(when["bots"], bool):
            raise InputError(f"{field}.bots", "must be true or false")
        checked["bots"] = when["bots"]
    return checked


def check_rules(
    field: str, rules: Sequence[Mapping[str, Any]], variant_labels: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Ordered rules `{label, destination_url, when}`, labels unique among the rules and the
    QR's variants (stats count scans by label)."""
    if len(rules) > MAX_RULES:
        raise InputError(field, f"at most {MAX_RULES} rules")
    seen = set(variant_labels)
    checked = []
    for index, rule in enumerate(rules):
        at = f"{field}[{index}]"
        label = check_label(f"{at}.label", rule.get("label"))
        if label in seen:
            raise InputError(f"{at}.label", f"{label!r} is already a rule's or variant's label")
        seen.add(label)
        destination = check_destination(f"{at}.destination_url", rule.get("destination_url") or "")
        when = check_when(f"{at}.when", rule.get("when") or {})
        checked.append({"label": label, "destination_url": destination, "when": when})
    return checked


def check_utm(field: str, utm: Mapping[str, Any]) -> dict[str, str]:
    """UTM values (source, medium, campaign, term, content); empty ones are dropped."""
    checked = {}
    for key in UTM_KEYS:
        value = utm.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"{field}.{key}", "must be a string")
        value = value.strip()
        if len(value) > MAX_UTM_CHARS:
            raise InputError(f"{field}.{key}", f"must be at most {MAX_UTM_CHARS} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InputError(f"{field}.{key}", "must not contain control characters")
        if value:
            checked[key] = value
    return checked


def check_lifecycle(
    active_from: datetime | None, active_until: datetime | None, max_scans: Any
) -> None:
    """active_from before active_until; max_scans a positive whole number (or none)."""
    if active_from is not None and active_until is not None and active_from >= active_until:
        raise InputError("active_from", "must be before active_until")
    if max_scans is not None and (
        isinstance(max_scans, bool) or not isinstance(max_scans, int) or not 1 <= max_scans <= 2**53
    ):
        raise InputError("max_scans", "must be a whole number from 1 up (or null: no cap)")


# -- where printed codes point ------------------------------------------------------------------

_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class ShortLinkNote:
    """Why the short links (and so every printed code) may not work for scanners.

    `kind` is "local" (phones cannot reach it: loud) or "plain_http" (reachable, but not
    https: mild)."""

    kind: str
    base: str
    message: str


def short_link_note(public_url: str) -> ShortLinkNote | None:
    """Is `public_url` (the base every short link and QR encodes) printable? None when it is:
    an https:// URL on a public host. Loopback, private, link-local and unspecified addresses,
    `localhost`, names without a dot and local-only suffixes (.local, .internal, .lan...) are
    "local"; a public host over plain http:// is "plain_http". No DNS lookup: a name with a
    public-looking suffix counts as public."""
    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
        local = not address.is_global
        this_machine = address.is_loopback or address.is_unspecified
    except ValueError:
        this_machine = host in ("", "localhost") or host.endswith(".localhost")
        local = this_machine or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    if local:
        reach = (
            "only this computer can open" if this_machine else "phones off this network cannot open"
        )
        return ShortLinkNote(
            "local",
            public_url,
            f"These codes point at {public_url}, which {reach}. Set [server] public_url (or "
            "QRSTUDIO_SERVER_PUBLIC_URL) to the address people reach this box at, e.g. "
            "https://qr.example.com, before you print or share them.",
        )
    if parts.scheme != "https":
        return ShortLinkNote(
            "plain_http",
            public_url,
            f"These codes point at {public_url} over plain http://: scanners' browsers may "
            "warn. Serve the box over https and set [server] public_url to its https:// "
            "address.",
        )
    return None


def short_link_warning(public_url: str, configured: bool) -> str | None:
    """The start-up log line for a public_url that is not printable (None when it is)."""
    note = short_link_note(public_url)
    if note is None:
        return None
    if note.kind == "plain_http":
        return (
            f"[server] public_url is {public_url}, plain http://: short links and QR codes work, "
            "but scanners' browsers may warn; serve over https and set it to the https:// address"
        )
    what = f"is {public_url}" if configured else f"is not set (so {public_url})"
    return (
        f"[server] public_url {what}: every short link and QR code points at a local address "
        "phones cannot reach; set [server] public_url (or QRSTUDIO_SERVER_PUBLIC_URL) to the "
        "public address, e.g. https://qr.example.com"
    )


# -- chosen short ids and branded hosts (issue 17.3, 17.5) ----------------------------------------

# First path segments a branded host never treats as a code, and short ids nobody may choose:
# the appliance's own paths (so a client's name never fronts them) and what browsers and
# crawlers ask every host for. Compared lower-cased.
RESERVED_PATHS = frozenset(
    {
        "r",
        "admin",
        "api",
        "static",
        "healthz",
        "metrics",
        "internal",
        "schema",
        "favicon.ico",
        "robots.txt",
        "sitemap.xml",
        ".well-known",
    }
)


def check_chosen_short_id(field: str, short_id: Any, on_domain: bool = True) -> str:
    """A short id an owner picks on a branded domain: 3-64 of A-Z a-z 0-9 _ -, not a reserved
    path. Case is kept: `Menu` and `menu` are two codes, as on every shortener. The default
    host's codes are all drawn at random (`on_domain` false): its short ids are one namespace
    for the whole box, where a chosen word would be first come, first served."""
    if not on_domain:
        raise InputError(field, "choose a short id only on a branded domain (give domain too)")
    if not isinstance(short_id, str) or not could_be_short_id(short_id):
        raise InputError(field, "must be 3 to 64 letters, digits, '_' or '-'")
    if short_id.lower() in RESERVED_PATHS:
        raise InputError(field, f"'{short_id}' is reserved; choose another")
    return short_id


# What a request on a branded host asks for (`branded_target`): the root, a code, or a path
# that is never served there.
ROOT = "root"
CODE = "code"
REFUSED = "refused"


def branded_target(path: str) -> tuple[str, str]:
    """(ROOT, ""), (CODE, short_id) for `/{id}` and `/r/{id}`, or (REFUSED, "") for a path a
    branded host never serves (a reserved first segment: /api/..., /admin, /static/...). Any
    other path is a CODE, perhaps unknown (a deeper path included: it falls back like one)."""
    if path == "/":
        return ROOT, ""
    rest = path[1:]
    if rest.startswith("r/"):
        code = rest[2:]
        if code and "/" not in code:
            return CODE, code
    first = rest.partition("/")[0]
    if first.lower() in RESERVED_PATHS:
        return REFUSED, ""
    return CODE, rest


def host_name(value: bytes) -> str:
    """The host a request's Host header names: without its port or a final dot, lower-cased
    (a bracketed IPv6 address keeps its brackets: it is never a branded domain)."""
    host = value.decode("latin-1")
    if not host.startswith("["):
        host = host.partition(":")[0]
    return host.rstrip(".").lower()
