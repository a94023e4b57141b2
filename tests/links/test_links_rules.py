from __future__ import annotations

import pytest

from qrstudio_box.links.rules import (
    InputError,
    check_destination,
    check_name,
    check_variants,
    short_link_note,
)


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
