from __future__ import annotations

import pytest

from qrstudio_box.links.rules import (
    InputError,
    check_destination,
    check_name,
    check_variants,
    short_link_note,
)
from qrstudio_box.urls import as_location, ascii_host


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/a?b=c#d",
        "https://xn--bcher-kva.example/",
        "https://example.com:8443/x",
        "HTTPS://EXAMPLE.COM/",
        "https://[2001:db8::1]/",
    ],
)
def test_good_destinations(url):
    assert check_destination("destination_url", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com",
        "ftp://example.com/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https:///nohost",
        "https://exa mple.com/",
        "https://example.com/\n",
        "mailto:a@b.c",
        "https://user:pw@example.com/",
        "https://bank.example@evil.example/",
        "https://example.com:99999/",
        "//example.com/",
        "https://" + "a" * 2050 + ".com",
    ],
)
def test_bad_destinations_name_the_field(url):
    with pytest.raises(InputError) as raised:
        check_destination("destination_url", url)
    assert raised.value.field == "destination_url"
    assert raised.value.detail.startswith("destination_url: ")


# Destinations that the WHATWG URL parser (every browser) reads differently from urlsplit: what
# the owner sees and what we check is not where a scanner would land. Issue 14.11.
READ_DIFFERENTLY = [
    # a browser reads "\\" as "/": host bank.example, not bank.example\\.evil.example
    ("https://bank.example\\.evil.example/", "backslash"),
    ("https://evil.example\\@bank.example/", "backslash"),
    ("https://example.com/a\\b", "backslash"),
    # bidi controls: the text shows reversed; browsers keep or strip them
    *[(f"https://example.com/{chr(c)}gpj.exe", "invisible") for c in range(0x202A, 0x202F)],
    *[(f"https://example.com/{chr(c)}x", "invisible") for c in range(0x2066, 0x206A)],
    ("https://exa\u202emple.com/", "invisible"),
    # zero-width and format characters: IDNA maps them away, so the host is another one
    ("https://ex\u200bample.com/", "invisible"),
    ("https://ex\u200dample.com/", "invisible"),
    ("https://ex\u200cample.com/", "invisible"),
    ("https://example.com\u00ad/", "invisible"),
    ("https://\ufeffexample.com/", "invisible"),
    ("https://example.com/\u2061", "invisible"),
    # tabs and newlines (stripped by browsers anywhere), spaces at the ends, C0 and C1 controls
    ("https://exa\tmple.com/", "spaces or control characters"),
    ("https://example.com/\r\n", "spaces or control characters"),
    (" https://example.com/", "spaces or control characters"),
    ("https://example.com/ ", "spaces or control characters"),
    ("https://example.com/\x00", "spaces or control characters"),
    ("https://example.com/\x7f", "spaces or control characters"),
    ("https://\x85example.com/", "spaces or control characters"),
    ("https://example.com/\u00a0", "spaces or control characters"),
    # hosts a browser decodes or refuses: percent-escapes, forbidden code points
    ("https://ex%61mple.com/", "host may contain only"),
    ("https://bank.example%40evil.example/", "host may contain only"),
    ("https://exa<mple.com/", "host may contain only"),
    ("https://exa^mple.com/", "host may contain only"),
    ("https://exa|mple.com/", "host may contain only"),
    ('https://exa"mple.com/', "host may contain only"),
    # numbers a browser reads as IPv4 in another notation (or refuses)
    ("https://0x7f.1/", "non-standard form"),
    ("https://2130706433/", "non-standard form"),
    ("https://0177.0.0.1/", "non-standard form"),
    ("https://010.0.0.1/", "non-standard form"),
    ("https://127.1/", "non-standard form"),
    ("https://1.2.3/", "non-standard form"),
    ("https://example.123/", "non-standard form"),
    ("https://0x/", "non-standard form"),
    # ports: a sign, and IPv6 zone ids, which urlsplit takes and browsers refuse
    ("https://example.com:+80/", "must be an http(s) URL"),
    ("https://[::1%25eth0]/", "must be an http(s) URL"),
    # userinfo: already refused (the host a person reads is not the host)
    ("https://bank.example@evil.example/", "user name or password"),
    ("https://bank.example:443@evil.example/", "user name or password"),
    # an IDN that IDNA 2003 (this server's fallback) and browsers spell differently
    ("https://faß☃.de/", "spell differently"),
]


@pytest.mark.parametrize("url, message", READ_DIFFERENTLY, ids=[u for u, _ in READ_DIFFERENTLY])
def test_destinations_a_browser_reads_differently_are_refused(url, message):
    with pytest.raises(InputError) as raised:
        check_destination("destination_url", url)
    assert raised.value.field == "destination_url"
    assert message in raised.value.detail


@pytest.mark.parametrize(
    "url, punycode",
    [
        ("https://bücher.de/", "xn--bcher-kva.de"),
        ("https://faß.de/", "xn--fa-hia.de"),  # a browser's spelling, not IDNA 2003's fass.de
        ("https://аpple.com/", "xn--pple-43d.com"),  # Cyrillic а: the look-alike shows
        ("https://☃.net/", "xn--n3h.net"),
        ("https://例え.jp/パス", "xn--r8jz45g.jp"),
        ("https://a_b.example.com/", None),
        ("https://127.0.0.1/", None),
        ("https://[2001:db8::1]/", None),
        ("https://example.com./x", None),
        ("https://example.com:/", None),
    ],
)
def test_destinations_both_read_alike_are_kept_and_idn_hosts_have_a_punycode_form(url, punycode):
    assert check_destination("destination_url", url) == url
    assert ascii_host(url) == punycode
    if punycode:
        assert f"//{punycode}/" in as_location(url)


def test_names():
    assert check_name("name", "  Spring menu ") == "Spring menu"
    with pytest.raises(InputError):
        check_name("name", "x" * 201)
    with pytest.raises(InputError):
        check_name("name", "bad\x00name")


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([("", "https://a.test/", 1)], "variants[0].label"),
        ([("A", "https://a.test/", 1), ("A", "https://b.test/", 1)], "variants[1].label"),
        ([("(default)", "https://a.test/", 1)], "variants[0].label"),
        ([("A", "ftp://a.test/", 1)], "variants[0].destination_url"),
        ([("A", "https://a.test/", 0)], "variants[0].weight"),
        ([("A", "https://a.test/", -3)], "variants[0].weight"),
        ([("A", "https://a.test/", 1.5)], "variants[0].weight"),
        ([("A", "https://a.test/", True)], "variants[0].weight"),
        ([(str(i), "https://a.test/", 1) for i in range(21)], "variants"),
    ],
)
def test_bad_variants(variants, field):
    with pytest.raises(InputError) as raised:
        check_variants("variants", variants)
    assert raised.value.field == field


def test_good_variants():
    assert check_variants(
        "variants", [(" A ", "https://a.test/", 3), ("B", "https://b.test/", 1)]
    ) == [("A", "https://a.test/", 3), ("B", "https://b.test/", 1)]


@pytest.mark.parametrize(
    "public_url, kind",
    [
        # issue 15.1: is this base printable? (what every short link and QR encodes)
        ("https://qr.example.com", None),
        ("https://qr.example.com:8443/box", None),
        ("https://93.184.216.34", None),
        ("http://qr.example.com", "plain_http"),
        ("http://93.184.216.34:8080", "plain_http"),
        ("http://127.0.0.1:8080", "local"),  # the default: public_url empty
        ("https://127.0.0.1", "local"),
        ("http://0.0.0.0:8080", "local"),  # host = 0.0.0.0 without public_url
        ("http://[::1]:8080", "local"),
        ("http://localhost:8080", "local"),
        ("https://qr.localhost", "local"),
        ("http://192.168.1.20:8080", "local"),
        ("https://10.0.0.5", "local"),
        ("https://172.16.3.4", "local"),
        ("https://100.64.0.9", "local"),  # carrier-grade NAT
        ("https://169.254.10.1", "local"),
        ("https://[fd00::1]", "local"),
        ("https://qrbox", "local"),  # a bare name: only a LAN resolves it
        ("https://qrbox.local", "local"),
        ("https://box.internal", "local"),
        ("https://box.lan", "local"),
        ("https://box.home.arpa", "local"),
    ],
)
def test_short_link_note(public_url, kind):
    note = short_link_note(public_url)
    assert (note.kind if note else None) == kind
    if note:
        assert note.base == public_url and public_url in note.message
        assert "[server] public_url" in note.message
