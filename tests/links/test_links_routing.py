"""Smart routing's pure parts: rule matching over every condition and their combinations,
the lifecycle, UTM and query strings, and the input checks (each naming its field)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qrstudio_box.clock import FakeClock, unix_ms
from qrstudio_box.links import routing
from qrstudio_box.links.routing import ScanFacts, compile_rules, first_match, lifecycle_state
from qrstudio_box.links.rules import InputError, check_rules, check_utm, check_when

# Saturday 9 May 2026, 14:00 UTC = 16:00 in Paris, 10:00 in Montreal.
CLOCK = FakeClock(datetime(2026, 5, 9, 14, 0, tzinfo=UTC))
IPHONE = {"device": "iPhone", "os": "iOS", "browser": "Mobile Safari"}
ANDROID = {"device": "Pixel 8", "os": "Android", "browser": "Chrome Mobile"}
DESKTOP = {"device": "Other", "os": "Windows", "browser": "Firefox"}


def facts(clock: FakeClock = CLOCK, **given) -> ScanFacts:
    given.setdefault("country", "CA")
    for key, value in IPHONE.items():
        given.setdefault(key, value)
    return ScanFacts(now_ms=unix_ms(clock.now()), **given)


def matches(when: dict, scan: ScanFacts) -> bool:
    rules = compile_rules([{"label": "x", "destination_url": "https://x.example/", "when": when}])
    return first_match(rules, scan) is not None


def at(text: str) -> FakeClock:
    return FakeClock(datetime.fromisoformat(text))


@pytest.mark.parametrize(
    ("when", "scan", "expected"),
    [
        # no condition: every scan
        ({}, facts(), True),
        # country: from GeoIP; unknown ("") never matches
        ({"country": ["CA", "FR"]}, facts(country="CA"), True),
        ({"country": ["FR"]}, facts(country="CA"), False),
        ({"country": ["CA"]}, facts(country=""), False),
        # device / os / browser: ua-parser families, case-insensitive; "Other" never matches
        ({"device": ["iphone"]}, facts(), True),
        ({"device": ["iPhone"]}, facts(**ANDROID), False),
        ({"os": ["Android"]}, facts(**ANDROID), True),
        ({"os": ["Android"]}, facts(), False),
        ({"browser": ["Chrome Mobile", "Firefox"]}, facts(**DESKTOP), True),
        ({"browser": ["Chrome Mobile"]}, facts(), False),
        ({"device": ["Pixel 8"]}, facts(**DESKTOP), False),
        # language: primary tags of Accept-Language; none sent never matches
        ({"language": ["fr"]}, facts(accept_language="fr-CA,fr;q=0.9,en;q=0.5"), True),
        ({"language": ["fr"]}, facts(accept_language="en-US, de;q=0.3"), False),
        ({"language": ["de"]}, facts(accept_language="en-US, de;q=0"), False),  # q=0: refused
        ({"language": ["fr"]}, facts(accept_language=None), False),
        ({"language": ["fr"]}, facts(accept_language="*"), False),
        # weekdays: in UTC without hours
        ({"weekdays": ["sat"]}, facts(), True),
        ({"weekdays": ["mon", "tue", "wed", "thu", "fri"]}, facts(), False),
        # hours: local time in the zone; "to" is exclusive; past midnight wraps
        ({"hours": {"from": "09:00", "to": "17:00", "tz": "Europe/Paris"}}, facts(), True),
        ({"hours": {"from": "09:00", "to": "16:00", "tz": "Europe/Paris"}}, facts(), False),
        ({"hours": {"from": "16:00", "to": "16:01", "tz": "Europe/Paris"}}, facts(), True),
        ({"hours": {"from": "11:00", "to": "17:00", "tz": "America/Toronto"}}, facts(), False),
        (
            {"hours": {"from": "22:00", "to": "06:00", "tz": "UTC"}},
            facts(at("2026-05-09T23:30:00+00:00")),
            True,
        ),
        (
            {"hours": {"from": "22:00", "to": "06:00", "tz": "UTC"}},
            facts(at("2026-05-10T05:59:00+00:00")),
            True,
        ),
        (
            {"hours": {"from": "22:00", "to": "06:00", "tz": "UTC"}},
            facts(at("2026-05-10T06:00:00+00:00")),
            False,
        ),
        ({"hours": {"from": "00:00", "to": "24:00", "tz": "UTC"}}, facts(), True),
        # weekdays are read in the hours' zone: 23:30 UTC Saturday is Sunday in Tokyo
        (
            {"weekdays": ["sun"], "hours": {"from": "00:00", "to": "24:00", "tz": "Asia/Tokyo"}},
            facts(at("2026-05-09T23:30:00+00:00")),
            True,
        ),
        (
            {"weekdays": ["sat"], "hours": {"from": "00:00", "to": "24:00", "tz": "Asia/Tokyo"}},
            facts(at("2026-05-09T23:30:00+00:00")),
            False,
        ),
        # between: from inclusive, to exclusive, either side open
        (
            {"between": {"from": "2026-05-09T14:00:00Z", "to": "2026-05-10T00:00:00Z"}},
            facts(),
            True,
        ),
        ({"between": {"from": "2026-05-09T14:00:01Z"}}, facts(), False),
        ({"between": {"to": "2026-05-09T14:00:00Z"}}, facts(), False),
        ({"between": {"to": "2026-05-09T14:00:01Z"}}, facts(), True),
        # bots
        ({"bots": True}, facts(is_bot=True), True),
        ({"bots": True}, facts(is_bot=False), False),
        ({"bots": False}, facts(is_bot=True), False),
        # combinations: every condition must hold
        ({"country": ["CA"], "os": ["iOS"], "bots": False}, facts(), True),
        ({"country": ["CA"], "os": ["Android"]}, facts(), False),
        ({"country": ["FR"], "os": ["iOS"]}, facts(), False),
        (
            {
                "country": ["CA"],
                "device": ["iPhone"],
                "language": ["fr"],
                "weekdays": ["sat"],
                "hours": {"from": "15:00", "to": "18:00", "tz": "Europe/Paris"},
                "between": {"from": "2026-05-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"},
                "bots": False,
            },
            facts(accept_language="fr-CA"),
            True,
        ),
        (
            {"language": ["fr"], "hours": {"from": "09:00", "to": "12:00", "tz": "Europe/Paris"}},
            facts(accept_language="fr"),
            False,
        ),
    ],
)
def test_matching(when, scan, expected):
    assert matches(check_when("when", when), scan) is expected


def test_the_first_matching_rule_wins_and_accept_language_is_parsed_only_when_asked(
    monkeypatch,
):
    rules = compile_rules(
        check_rules(
            "rules",
            [
                {
                    "label": "ios",
                    "destination_url": "https://apps.apple.com/",
                    "when": {"os": ["iOS"]},
                },
                {
                    "label": "fr",
                    "destination_url": "https://fr.example/",
                    "when": {"language": ["fr"]},
                },
                {"label": "all", "destination_url": "https://all.example/", "when": {}},
            ],
        )
    )
    parsed = []
    original = routing.primary_languages
    monkeypatch.setattr(routing, "primary_languages", lambda h: parsed.append(h) or original(h))
    assert first_match(rules, facts(accept_language="fr"))[0] == 0  # iOS first
    assert parsed == []  # no rule before it asked for a language
    assert first_match(rules, facts(accept_language="fr", **ANDROID))[0] == 1
    assert first_match(rules, facts(accept_language="de", **ANDROID))[0] == 2
    assert first_match(compile_rules([]), facts()) is None


@pytest.mark.parametrize(
    ("now", "start", "end", "cap", "served", "state"),
    [
        (1000, None, None, None, 0, routing.LIVE),
        (999, 1000, None, None, 0, routing.NOT_STARTED),
        (1000, 1000, None, None, 0, routing.LIVE),  # start is inclusive
        (1999, None, 2000, None, 0, routing.LIVE),
        (2000, None, 2000, None, 0, routing.ENDED),  # end is exclusive
        (1000, None, None, 3, 2, routing.LIVE),
        (1000, None, None, 3, 3, routing.CAPPED),
        (2000, None, 2000, 3, 3, routing.ENDED),  # the end says first
    ],
)
def test_lifecycle_state(now, start, end, cap, served, state):
    assert lifecycle_state(now, start, end, cap, served) == state


@pytest.mark.parametrize(
    ("url", "pairs", "expected"),
    [
        ("https://a.example/", [("utm_source", "flyer")], "https://a.example/?utm_source=flyer"),
        (
            "https://a.example/p?utm_source=own&x=1#top",
            [("utm_source", "flyer"), ("utm_medium", "print")],
            "https://a.example/p?utm_source=own&x=1&utm_medium=print#top",
        ),
        ("https://a.example/?a=", [("a", "b")], "https://a.example/?a="),  # blank is a value
        ("https://a.example/", [("q", "a b&c"), ("q", "second")], "https://a.example/?q=a+b%26c"),
        ("https://a.example/", [], "https://a.example/"),
    ],
)
def test_add_query_never_overrides(url, pairs, expected):
    assert routing.add_query(url, pairs) == expected


def test_utm_pairs_and_forwarded_query():
    assert routing.utm_pairs({"medium": "print", "source": "flyer", "term": ""}) == [
        ("utm_source", "flyer"),
        ("utm_medium", "print"),
    ]
    assert routing.forwarded_pairs(b"table=12&utm_source=poster") == [
        ("table", "12"),
        ("utm_source", "poster"),
    ]
    assert routing.forwarded_pairs(b"x=" + b"a" * 1100) == []


RULE = {"label": "A", "destination_url": "https://a.example/"}


@pytest.mark.parametrize(
    ("rules", "field", "message"),
    [
        ([{**RULE, "when": {"country": ["XX"]}}], "rules[0].when.country", "'XX' is not an ISO"),
        ([{**RULE, "when": {"country": ["CAN"]}}], "rules[0].when.country", "not an ISO 3166"),
        ([{**RULE, "when": {"country": []}}], "rules[0].when.country", "at least one"),
        ([{**RULE, "when": {"device": ["x" * 65]}}], "rules[0].when.device", "1 to 64"),
        ([{**RULE, "when": {"os": ["Other"]}}], "rules[0].when.os", "unknown value never"),
        ([{**RULE, "when": {"browser": ["a"] * 51}}], "rules[0].when.browser", "at most 50"),
        ([{**RULE, "when": {"language": ["french"]}}], "rules[0].when.language", "primary"),
        ([{**RULE, "when": {"weekdays": ["monday"]}}], "rules[0].when.weekdays", "'monday'"),
        (
            [{**RULE, "when": {"hours": {"from": "9:00", "to": "17:00", "tz": "UTC"}}}],
            "rules[0].when.hours.from",
            "like 09:00",
        ),
        (
            [{**RULE, "when": {"hours": {"from": "09:00", "to": "09:00", "tz": "UTC"}}}],
            "rules[0].when.hours.from",
            "must differ",
        ),
        (
            [{**RULE, "when": {"hours": {"from": "09:00", "to": "17:00", "tz": "Mars/Olympus"}}}],
            "rules[0].when.hours.tz",
            "not an IANA time zone",
        ),
        (
            [{**RULE, "when": {"hours": {"from": "09:00", "to": "17:00", "tz": "../etc/passwd"}}}],
            "rules[0].when.hours.tz",
            "not an IANA time zone",
        ),
        (
            [
                {
                    **RULE,
                    "when": {
                        "between": {"from": "2026-06-02T00:00:00Z", "to": "2026-06-01T00:00Z"}
                    },
                }
            ],
            "rules[0].when.between.from",
            "before between.to",
        ),
        (
            [{**RULE, "when": {"between": {"from": "2026-06-02T00:00:00"}}}],
            "rules[0].when.between.from",
            "offset",
        ),
        ([{**RULE, "when": {"between": {}}}], "rules[0].when.between", "needs from"),
        ([RULE] * 51, "rules", "at most 50 rules"),
        ([RULE, RULE], "rules[1].label", "'A' is already"),
        ([{**RULE, "label": "(expired)"}], "rules[0].label", "reserved"),
        ([{**RULE, "label": " "}], "rules[0].label", "is required"),
        ([{**RULE, "destination_url": "ftp://a.example/"}], "rules[0].destination_url", "http"),
        ([{**RULE, "destination_url": ""}], "rules[0].destination_url", "is required"),
    ],
)
def test_rule_checks_name_the_field(rules, field, message):
    with pytest.raises(InputError) as raised:
        check_rules("rules", rules)
    assert raised.value.field == field
    assert message in raised.value.detail


def test_rule_labels_must_differ_from_variant_labels():
    with pytest.raises(InputError) as raised:
        check_rules("rules", [RULE], variant_labels=["A", "B"])
    assert raised.value.field == "rules[0].label"


def test_checks_normalise():
    checked = check_when(
        "w",
        {
            "country": ["ca", "CA", "fr"],
            "language": ["FR"],
            "weekdays": ["Sun", "mon"],
            "between": {"from": "2026-06-01T09:00:00+02:00"},
        },
    )
    assert checked == {
        "country": ["CA", "FR"],
        "language": ["fr"],
        "weekdays": ["mon", "sun"],
        "between": {"from": "2026-06-01T07:00:00Z"},
    }
    assert check_utm("utm", {"source": " flyer ", "medium": ""}) == {"source": "flyer"}
    with pytest.raises(InputError) as raised:
        check_utm("utm", {"campaign": "x" * 201})
    assert raised.value.field == "utm.campaign"
