"""The pure rules of branded domains (domains/rules.py), one table each."""

from __future__ import annotations

import ipaddress

import pytest

from qrstudio_box.domains.rules import (
    check_domain_limit,
    check_fallback_url,
    check_hostname,
    host_of,
    may_ask_for_certificates,
    status_for_new,
)
from qrstudio_box.errors import ApiError
from qrstudio_box.urls import InputError

PUBLIC_HOST = "qr.agency.example"


@pytest.mark.parametrize(
    "given,stored",
    [
        ("go.bistro-example.com", "go.bistro-example.com"),
        ("Go.Bistro-Example.COM", "go.bistro-example.com"),  # DNS is case-insensitive: folded
        ("  go.example.test ", "go.example.test"),
        ("go.example.test.", "go.example.test"),  # the fully qualified form
        ("a.b", "a.b"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),  # an IDN, in punycode
        ("3com.example", "3com.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("x" * 63 + ".example", "x" * 63 + ".example"),
        (".".join(["a" * 62] * 4) + ".e", ".".join(["a" * 62] * 4) + ".e"),  # 253 characters
    ],
)
def test_good_hostnames_are_stored_in_lower_case(given, stored):
    assert check_hostname("hostname", given, PUBLIC_HOST) == stored


@pytest.mark.parametrize(
    "given,message",
    [
        ("", "is required"),
        ("   ", "is required"),
        ("https://go.example.com", "without http(s):// or a path"),
        ("go.example.com/menu", "without http(s):// or a path"),
        ("go.example.com:8443", "without a port"),
        ("192.0.2.7", "not an IP address"),
        ("2001:db8::1", "not an IP address"),
        ("[2001:db8::1]", "not an IP address"),
        ("0x7f.0x1", "not an IP address"),  # a browser opens http://0x7f.0x1/ as 127.0.0.1
        ("1.2.3.0x4", "not an IP address"),
        ("10.1.2.300", "not an IP address"),  # all-digit last label: a browser reads an address
        ("localhost", "at least one dot"),
        ("example", "at least one dot"),
        ("go..example.com", "empty part"),
        (".example.com", "empty part"),
        ("-go.example.com", "may not start or end with a hyphen"),
        ("go-.example.com", "may not start or end with a hyphen"),
        ("go_1.example.com", "letters a-z, digits and hyphens"),
        ("go example.com", "letters a-z, digits and hyphens"),
        ("x" * 64 + ".example", "at most 63 characters"),
        (".".join(["a" * 62] * 4) + ".ex", "at most 253 characters"),
        ("bücher.example", "must be written in punycode: xn--bcher-kva.example"),
        ("xn--zz.example", "is not valid punycode"),
        ("qr.agency.example", "this appliance's own host"),
        ("QR.Agency.Example", "this appliance's own host"),
    ],
)
def test_bad_hostnames_are_refused_saying_why(given, message):
    with pytest.raises(InputError) as refused:
        check_hostname("hostname", given, PUBLIC_HOST)
    assert refused.value.field == "hostname"
    assert refused.value.detail.startswith("hostname: ")
    assert message in refused.value.detail


@pytest.mark.parametrize(
    "given,stored",
    [
        ("", ""),
        ("  ", ""),
        ("https://bistro.example/", "https://bistro.example/"),
        ("http://bistro.example/menu?x=1", "http://bistro.example/menu?x=1"),
    ],
)
def test_good_fallback_urls(given, stored):
    assert check_fallback_url("fallback_url", given) == stored


@pytest.mark.parametrize(
    "given",
    ["bistro.example", "ftp://bistro.example/", "javascript:alert(1)", "https://a@b.example/"],
)
def test_bad_fallback_urls_name_the_field(given):
    with pytest.raises(InputError) as refused:
        check_fallback_url("fallback_url", given)
    assert refused.value.field == "fallback_url"


@pytest.mark.parametrize("require_approval,status", [(False, "active"), (True, "pending")])
def test_a_new_domain_waits_only_when_approval_is_required(require_approval, status):
    assert status_for_new(require_approval) == status


@pytest.mark.parametrize(
    "limit,owned,refused",
    [(0, 0, True), (1, 0, False), (1, 1, True), (10, 9, False), (10, 10, True), (10, 12, True)],
)
def test_the_plan_limit(limit, owned, refused):
    if not refused:
        check_domain_limit("pro", limit, owned)
        return
    with pytest.raises(ApiError) as raised:
        check_domain_limit("pro", limit, owned)
    assert raised.value.status_code == 403
    assert raised.value.body()["error"] == "plan_limit"
    assert "Your plan (pro)" in raised.value.detail


PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    "peer,forwarded,trusted,allowed",
    [
        ("127.0.0.1", [], (), True),  # Caddy on the box
        ("::1", [], (), True),
        ("::ffff:127.0.0.1", [], (), True),
        ("10.1.2.3", [], PROXY, True),  # a trusted proxy elsewhere
        ("10.1.2.3", [], (), False),
        ("203.0.113.9", [], PROXY, False),
        ("", [], (), False),
        ("127.0.0.1", ["203.0.113.9"], (), False),  # a visitor forwarded by a proxy on the box
        ("127.0.0.1", ["10.1.2.3"], PROXY, True),
        ("127.0.0.1", ["10.1.2.3, 203.0.113.9"], PROXY, False),
        ("127.0.0.1", ["junk"], (), False),
    ],
)
def test_who_may_ask_for_certificates(peer, forwarded, trusted, allowed):
    assert may_ask_for_certificates(peer, forwarded, trusted) is allowed


def test_a_request_naming_its_client_another_way_may_not_ask():
    # From loopback with no X-Forwarded-For, but through a proxy that sends Forwarded or
    # X-Real-IP: the visitor behind it is not the box.
    assert may_ask_for_certificates("127.0.0.1", [], [], other_proxy_headers=True) is False
    assert may_ask_for_certificates("127.0.0.1", [], [], other_proxy_headers=False) is True


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://QR.Example.com:8443/x", "qr.example.com"),
        ("https://qr.example.com./", "qr.example.com"),
        ("http://bücher.test", "xn--bcher-kva.test"),
        ("https:///nohost", ""),
    ],
)
def test_host_of_is_the_form_a_host_header_names(url, host):
    # The appliance's own host in the form check_hostname compares: no other spelling of it
    # may be registered as a branded domain.
    assert host_of(url) == host
