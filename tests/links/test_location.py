"""rules.as_location: the ASCII URI the redirect's Location header carries."""

import pytest

from qrstudio_box.urls import as_location


@pytest.mark.parametrize(
    "url,location",
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),  # ASCII: untouched
        ("https://x.com/a%20b", "https://x.com/a%20b"),  # existing escapes stay single
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://BÜCHER.example:8443/p", "https://xn--bcher-kva.example:8443/p"),
        ("https://例え.jp/パス?q=ü#ß", "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%C3%BC#%C3%9F"),
        ("https://example.com/\u202egnp.exe", "https://example.com/%E2%80%AEgnp.exe"),
        ("http://[2001:db8::1]:8080/ü", "http://[2001:db8::1]:8080/%C3%BC"),
        (
            "https://" + "é" * 64 + ".com/",
            "https://" + "%C3%A9" * 64 + ".com/",
        ),  # a label IDNA refuses
    ],
)
def test_as_location(url, location):
    assert as_location(url) == location
    assert as_location(url).isascii()
