"""The SSRF corpus: every case is refused with a 400-ready message naming `url`."""

import asyncio

import pytest

from qrstudio_box.webhooks.urlsafety import (
    UnresolvableHost,
    UnsafeUrl,
    UrlPolicy,
    parse_target,
    switches_on_warning,
    vet_url,
)

DNS = {
    "example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "hooks.example.com": ["93.184.216.34"],
    "xn--bcher-kva.de": ["81.169.145.78"],
    "localhost": ["127.0.0.1", "::1"],
    "internal.test": ["192.168.0.10"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["93.184.216.34", "10.0.0.1"],
    "cgnat.test": ["100.64.12.1"],
    "mapped.test": ["::ffff:10.1.2.3"],
}


async def fake_resolver(host: str, port: int) -> list[str]:
    try:
        return DNS[host]
    except KeyError:
        raise UnresolvableHost(f"{host}: Name or service not known") from None


def vet(url: str, **policy) -> None:
    asyncio.run(vet_url(url, UrlPolicy(**policy), fake_resolver))


REFUSED = [
    # scheme, credentials, syntax
    ("http://example.com/hook", "must be an https:// URL"),
    ("ftp://example.com/hook", "must be an https:// URL"),
    ("javascript:alert(1)", "must be an https:// URL"),
    ("", "must not be empty"),
    ("https://", "must include a host"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com\\@evil.test/", "backslashes"),
    ("https://user:pw@example.com/hook", "credentials"),
    ("https://user@example.com/hook", "credentials"),
    ("https://example.com:99999/", "port must be a number"),
    # loopback
    ("https://localhost/hook", "localhost resolves to a non-public address (a loopback address)"),
    ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("https://127.8.9.10/", "loopback"),
    ("https://[::1]/", "loopback"),
    # private, link-local, metadata, CGNAT
    ("https://10.0.0.5/", "a private address"),
    ("https://172.16.3.4/", "a private address"),
    ("https://192.168.1.1/", "a private address"),
    ("https://[fc00::1]/", "a private address"),
    ("https://internal.test/", "a non-public address (a private address)"),
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("https://metadata.test/", "cloud metadata"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://100.127.255.254/", "carrier-grade NAT"),
    ("https://cgnat.test/", "carrier-grade NAT"),
    # multicast, reserved, unspecified, documentation ranges
    ("https://224.0.0.1/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "webhook targets must be public"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://192.0.2.1/", "webhook targets must be public"),
    ("https://198.18.0.1/", "webhook targets must be public"),
    ("https://[2001:db8::1]/", "webhook targets must be public"),
    # IPv6 forms embedding a private IPv4
    ("https://[::ffff:127.0.0.1]/", "IPv6 form of 127.0.0.1, a loopback"),
    ("https://[::ffff:7f00:1]/", "IPv6 form of 127.0.0.1"),
    ("https://[::ffff:169.254.169.254]/", "IPv6 form of 169.254.169.254, the link-local cloud"),
    ("https://mapped.test/", "a non-public address (an IPv6 form of a private address)"),
    ("https://[::127.0.0.1]/", "IPv6 form of 127.0.0.1"),
    ("https://[2002:7f00:1::]/", "IPv6 form of 127.0.0.1"),  # 6to4
    ("https://[2002:c0a8:101::1]/", "IPv6 form of 192.168.1.1"),  # 6to4
    ("https://[64:ff9b::7f00:1]/", "IPv6 form of 127.0.0.1"),  # NAT64
    ("https://[64:ff9b::a9fe:a9fe]/", "IPv6 form of 169.254.169.254"),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "IPv6 form of 127.0.0.1"),  # Teredo
    # numeric tricks and trailing dots
    ("https://2130706433/", "non-standard numeric form"),
    ("https://0x7f000001/", "non-standard numeric form"),
    ("https://0x7f.1/", "non-standard numeric form"),
    ("https://0177.0.0.1/", "0177.0.0.1"),
    ("https://017700000001/", "non-standard numeric form"),
    ("https://127.1/", "non-standard numeric form"),
    ("https://0/", "non-standard numeric form"),
    ("https://127.0.0.1./", "must not end with a dot"),
    ("https://example.com./hook", "must not end with a dot"),
    ("https://localhost./", "must not end with a dot"),
    # resolution
    ("https://no-such-host.invalid/hook", "does not resolve"),
    ("https://mixed.test/hook", "a non-public address (a private address)"),
]


@pytest.mark.parametrize("url, message", REFUSED, ids=[u or "<empty>" for u, _ in REFUSED])
def test_refused(url, message):
    with pytest.raises(UnsafeUrl) as refused:
        vet(url)
    text = str(refused.value)
    assert text.startswith("url: ")
    assert message in text


NON_PUBLIC_NAMES = ["localhost", "internal.test", "metadata.test", "mixed.test", "cgnat.test"]


@pytest.mark.parametrize("name", [*NON_PUBLIC_NAMES, "mapped.test"])
def test_a_refused_name_never_shows_the_address_it_resolves_to(name):
    # The message names the rule, not the address: it would map the internal DNS.
    with pytest.raises(UnsafeUrl) as refused:
        vet(f"https://{name}/hook")
    text = str(refused.value)
    assert f"url: {name} resolves to a non-public address (" in text
    for address in [*DNS[name], "10.1.2.3", "::1"]:
        assert address not in text.replace(name, "")


def test_corpus_is_large_enough():
    assert len(REFUSED) >= 30


@pytest.mark.parametrize(
    "url, host, port",
    [
        ("https://example.com/hook", "example.com", 443),
        ("https://HOOKS.example.com:8443/a?b=c", "hooks.example.com", 8443),
        ("https://93.184.216.34/x", "93.184.216.34", 443),
        (
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
            "2606:2800:220:1:248:1893:25c8:1946",
            443,
        ),
        ("https://bücher.de/hook", "xn--bcher-kva.de", 443),
        ("https://[::ffff:93.184.216.34]/", "::ffff:93.184.216.34", 443),
    ],
)
def test_allowed(url, host, port):
    target = asyncio.run(vet_url(url, UrlPolicy(), fake_resolver))
    assert (target.host, target.port) == (host, port)


@pytest.mark.parametrize(
    "url, ok",
    [
        ("http://127.0.0.1:8080/hook", True),
        ("https://localhost/hook", True),
        ("https://internal.test/", True),
        ("https://169.254.169.254/", True),
        ("https://0.0.0.0/", False),  # never a real destination
        ("https://224.0.0.1/", False),
        ("https://user:pw@127.0.0.1/", False),
        ("https://2130706433/", False),
        ("https://no-such-host.invalid/", False),
    ],
)
def test_self_hoster_switches(url, ok):
    if ok:
        vet(url, allow_http=True, allow_private_targets=True)
    else:
        with pytest.raises(UnsafeUrl):
            vet(url, allow_http=True, allow_private_targets=True)


def test_http_needs_its_switch_only_for_scheme():
    with pytest.raises(UnsafeUrl, match="a private address"):
        vet("http://10.0.0.1/", allow_http=True)
    assert parse_target("http://example.com/", UrlPolicy(allow_http=True)).port == 80


@pytest.mark.parametrize(
    "url, switch",
    [
        # issue 15.5: a refusal a testing switch would allow names that switch
        ("http://example.com/hook", "allow_http"),
        ("https://localhost/hook", "allow_private_targets"),
        ("https://internal.test/", "allow_private_targets"),
        ("https://169.254.169.254/", "allow_private_targets"),
        ("https://cgnat.test/", "allow_private_targets"),
        ("https://mapped.test/", "allow_private_targets"),
        # ... and no switch when none would
        ("ftp://example.com/", None),
        ("https://0.0.0.0/", None),
        ("https://224.0.0.1/", None),
        ("https://user:pw@example.com/", None),
        ("https://no-such-host.invalid/", None),
    ],
)
def test_refusal_names_the_switch_that_would_allow_it(url, switch):
    with pytest.raises(UnsafeUrl) as refused:
        vet(url)
    assert refused.value.switch == switch
    if switch:  # and the switch really lets it through
        vet(url, **{switch: True})


@pytest.mark.parametrize(
    "allow_http, allow_private, line",
    [
        (False, False, None),
        (
            True,
            False,
            "[webhooks] allow_http is on: webhooks accept plain http:// URLs; "
            "for testing only, turn it off in production",
        ),
        (
            False,
            True,
            "[webhooks] allow_private_targets is on: webhooks accept loopback and private "
            "addresses; for testing only, turn it off in production",
        ),
        (
            True,
            True,
            "[webhooks] allow_http and [webhooks] allow_private_targets are on: webhooks accept "
            "plain http:// URLs and loopback and private addresses; for testing only, turn them "
            "off in production",
        ),
    ],
)
def test_switches_on_warning(allow_http, allow_private, line):
    policy = UrlPolicy(allow_http=allow_http, allow_private_targets=allow_private)
    assert switches_on_warning(policy) == line
