"""Smart routing, pure: which destination a scan gets by rules, lifecycle, UTM and query.

The redirect runs this for every scan, so the rules are compiled once per QR write
(`compile_rules`, from the JSON the rule checks in `links/rules.py` produced) into sets,
minutes of the day with a ZoneInfo, and unix milliseconds; a scan then only does set lookups
and integer comparisons, and parses Accept-Language only when a rule asks for a language.
Nothing here does I/O or reads a clock: the caller passes `now_ms`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from ..clock import parse_iso, unix_ms

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
UTC_ZONE = ZoneInfo("UTC")
# Lifecycle states of a code; only LIVE redirects to its rules, variants or destination.
LIVE = "live"
NOT_STARTED = "not_started"
ENDED = "ended"  # past active_until
CAPPED = "capped"  # max_scans reached


@dataclass(frozen=True, slots=True)
class Hours:
    start: int  # minute of the day, inclusive
    end: int  # minute of the day, exclusive; end < start wraps past midnight
    tz: ZoneInfo


# Slots of the per-scan values the set conditions test (`_scan_values`).
COUNTRY, DEVICE, OS, BROWSER = range(4)


@dataclass(frozen=True, slots=True)
class Conditions:
    """A rule's conditions, compiled; None means "not asked" (any value matches)."""

    countries: frozenset[str] | None = None
    devices: frozenset[str] | None = None  # casefolded ua-parser families
    oses: frozenset[str] | None = None
    browsers: frozenset[str] | None = None
    languages: frozenset[str] | None = None  # lower-case primary tags
    weekdays: frozenset[int] | None = None  # 0 = Monday
    hours: Hours | None = None
    from_ms: int | None = None  # between: inclusive
    until_ms: int | None = None  # between: exclusive
    bots: bool | None = None
    # The set conditions asked, as (slot, allowed): a rule tests only what it asks.
    checks: tuple[tuple[int, frozenset[str]], ...] = ()
    zone: ZoneInfo | None = None  # set when weekdays or hours need the local time

    @property
    def local_zone(self) -> ZoneInfo:
        """Weekdays are read in the hours' time zone when the rule has hours, else in UTC."""
        return self.hours.tz if self.hours is not None else UTC_ZONE


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    destination_url: str
    when: Conditions


@dataclass(slots=True)
class ScanFacts:
    """What is known about one scan. Unknown values are "" ("Other" for families)."""

    now_ms: int
    country: str = ""
    device: str = ""
    os: str = ""
    browser: str = ""
    is_bot: bool = False
    accept_language: str | None = None


def _families(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(value.casefold() for value in values)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def compile_when(when: Mapping[str, Any]) -> Conditions:
    """A checked `when` object (links.rules.check_when's output), compiled."""
    hours = when.get("hours")
    between = when.get("between") or {}
    countries = frozenset(when["country"]) if "country" in when else None
    devices = _families(when.get("device"))
    oses = _families(when.get("os"))
    browsers = _families(when.get("browser"))
    weekdays = (
        frozenset(WEEKDAYS.index(day) for day in when["weekdays"]) if "weekdays" in when else None
    )
    compiled_hours = (
        Hours(_minutes(hours["from"]), _minutes(hours["to"]), ZoneInfo(hours["tz"]))
        if hours
        else None
    )
    checks = tuple(
        (slot, allowed)
        for slot, allowed in (
            (COUNTRY, countries),
            (DEVICE, devices),
            (OS, oses),
            (BROWSER, browsers),
        )
        if allowed is not None
    )
    zone = None
    if compiled_hours is not None:
        zone = compiled_hours.tz
    elif weekdays is not None:
        zone = UTC_ZONE
    return Conditions(
        countries=countries,
        devices=devices,
        oses=oses,
        browsers=browsers,
        languages=frozenset(when["language"]) if "language" in when else None,
        weekdays=weekdays,
        hours=compiled_hours,
        from_ms=unix_ms(parse_iso(between["from"])) if between.get("from") else None,
        until_ms=unix_ms(parse_iso(between["to"])) if between.get("to") else None,
        bots=when.get("bots"),
        checks=checks,
        zone=zone,
    )


def compile_rules(rules: Sequence[Mapping[str, Any]]) -> tuple[Rule, ...]:
    return tuple(
        Rule(rule["label"], rule["destination_url"], compile_when(rule.get("when") or {}))
        for rule in rules
    )


def primary_languages(header: str | None) -> frozenset[str]:
    """The primary subtags an Accept-Language header accepts ("fr-CA;q=0.8" -> "fr"); a
    range with q=0 is refused, not accepted, and "*" names no language."""
    if not header:
        return frozenset()
    found = set()
    for item in header[:1024].split(","):
        tag, _, params = item.partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = params.strip().lower()
        if quality.startswith("q=") and quality[2:].strip().rstrip("0").rstrip(".") in ("0", ""):
            continue
        found.add(tag.split("-", 1)[0])
    return frozenset(found)


def _in_hours(hours: Hours, minute: int) -> bool:
    if hours.start < hours.end:
        return hours.start <= minute < hours.end
    return minute >= hours.start or minute < hours.end  # past midnight: 22:00-06:00


_MINUTE_MS = 60_000
# zone -> (first ms of the UTC minute, weekday, minute of the day) of the last scan's minute:
# every zone's offset is a whole number of minutes, so a UTC minute is one local minute and
# scans within it share the answer (datetime.fromtimestamp with a ZoneInfo costs more than a
# whole rule otherwise).
_local_minutes: dict[ZoneInfo, tuple[int, int, int]] = {}


def local_weekday_minute(zone: ZoneInfo, now_ms: int) -> tuple[int, int]:
    """(weekday, minute of the day) at `now_ms` in `zone`, memoised per UTC minute."""
    minute_ms = now_ms - now_ms % _MINUTE_MS
    cached = _local_minutes.get(zone)
    if cached is not None and cached[0] == minute_ms:
        return cached[1], cached[2]
    moment = datetime.fromtimestamp(minute_ms / 1000, zone)
    weekday, minute = moment.weekday(), moment.hour * 60 + moment.minute
    _local_minutes[zone] = (minute_ms, weekday, minute)
    return weekday, minute


class _Scan:
    """One scan's values as the rules test them, each derived once and only when asked:
    casefolded families, the local time per zone, the parsed Accept-Language."""

    __slots__ = ("facts", "values", "local", "languages")

    def __init__(self, facts: ScanFacts) -> None:
        self.facts = facts
        self.values = (
            facts.country,
            facts.device.casefold(),
            facts.os.casefold(),
            facts.browser.casefold(),
        )
        self.local: dict[ZoneInfo, tuple[int, int]] = {}
        self.languages: frozenset[str] | None = None

    def weekday_minute(self, zone: ZoneInfo) -> tuple[int, int]:
        found = self.local.get(zone)
        if found is None:
            found = self.local[zone] = local_weekday_minute(zone, self.facts.now_ms)
        return found

    def holds(self, when: Conditions) -> bool:
        """Every condition `when` asks holds; an unknown value never matches one."""
        facts = self.facts
        if when.bots is not None and when.bots != facts.is_bot:
            return False
        values = self.values
        for slot, allowed in when.checks:
            if values[slot] not in allowed:
                return False
        if when.from_ms is not None and facts.now_ms < when.from_ms:
            return False
        if when.until_ms is not None and facts.now_ms >= when.until_ms:
            return False
        if when.zone is not None:
            weekday, minute = self.weekday_minute(when.zone)
            if when.weekdays is not None and weekday not in when.weekdays:
                return False
            if when.hours is not None and not _in_hours(when.hours, minute):
                return False
        if when.languages is not None:
            if self.languages is None:
                self.languages = primary_languages(facts.accept_language)
            if self.languages.isdisjoint(when.languages):
                return False
        return True


def matches(when: Conditions, scan: ScanFacts) -> bool:
    """Every condition the rule asks holds (one rule; the redirect uses first_match)."""
    return _Scan(scan).holds(when)


def first_match(rules: Sequence[Rule], scan: ScanFacts) -> tuple[int, Rule] | None:
    """The first rule whose conditions hold, with its index. Each derived value (local time,
    Accept-Language) is computed at most once, and only when a rule reached asks for it."""
    derived = _Scan(scan)
    for index, rule in enumerate(rules):
        if derived.holds(rule.when):
            return index, rule
    return None


def lifecycle_state(
    now_ms: int,
    active_from_ms: int | None,
    active_until_ms: int | None,
    max_scans: int | None,
    served: int,
) -> str:
    """LIVE, NOT_STARTED, ENDED or CAPPED; `served` counts the non-bot scans redirected."""
    if active_from_ms is not None and now_ms < active_from_ms:
        return NOT_STARTED
    if active_until_ms is not None and now_ms >= active_until_ms:
        return ENDED
    if max_scans is not None and served >= max_scans:
        return CAPPED
    return LIVE


def utm_pairs(utm: Mapping[str, str]) -> list[tuple[str, str]]:
    """{"source": "flyer"} -> [("utm_source", "flyer")], in UTM_KEYS order, empty ones out."""
    return [(f"utm_{key}", utm[key]) for key in UTM_KEYS if utm.get(key)]


def add_query(url: str, pairs: Iterable[tuple[str, str]]) -> str:
    """`url` with the pairs appended whose names it does not already have (the destination's
    own parameters always win; of two pairs with one name, the first)."""
    parts = urlsplit(url)
    taken = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = []
    for name, value in pairs:
        if name not in taken:
            taken.add(name)
            added.append((name, value))
    if not added:
        return url
    extra = urlencode(added)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


MAX_FORWARDED_QUERY = 1024


def forwarded_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The scan URL's own query string as pairs (forward_query), re-encoded on the way out; a
    query longer than 1 KiB is not forwarded (the Location header has to stay reasonable)."""
    if not query_string or len(query_string) > MAX_FORWARDED_QUERY:
        return []
    return parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
