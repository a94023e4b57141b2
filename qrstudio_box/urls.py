"""Absolute http(s) URLs as a browser reads them: the check every stored destination passes
(a dynamic QR's, a static QR's data, a branded domain's fallback) and their ASCII forms.

Neutral ground: it imports no domain, so `links` and `domains` (which links imports) both call
the one rule. Each check raises InputError naming the field.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

import idna

from .errors import FieldError

MAX_URL_CHARS = 2048


class InputError(FieldError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, f"{field}: {message}")


# Besides controls (C0, DEL, C1) and spaces, a URL may not hold invisible format characters (the
# bidi controls U+202A-U+202E and U+2066-U+2069, zero-width joiners, the BOM, the soft hyphen)
# nor lone surrogates: they make the same text read differently to a person, to urlsplit and to
# a browser (which strips or maps some of them).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cs"})
# What a host may be made of besides non-ASCII letters (an IDN): no "%" (a browser decodes it),
# no "<>^|" and the like (a browser refuses them; urlsplit does not).
_ASCII_HOST = re.compile(r"^[A-Za-z0-9._-]*$")
# host[:port] once userinfo is ruled out; a port is ASCII digits only ("+80" is not one).
_HOST_PORT = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::[0-9]*)?$")
# WHATWG reads a host whose last label is a number as an IPv4 address in any notation.
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$")
# The IDNA "deviation" characters: IDNA 2003 (Python's "idna" codec) maps them away, browsers
# (UTS 46 nontransitional) keep them. ZWJ and ZWNJ are format characters, refused above.
_DEVIATIONS = frozenset("\u00df\u03c2")


def check_destination(field: str, url: str) -> str:
    """An absolute http(s) URL with a host, that a browser reads as we do (WHATWG URL parsing
    against urlsplit): no credentials, spaces, controls, invisible characters or backslashes;
    a plain host name, a standard IPv4 address or a bracketed IPv6 address."""
    if not url:
        raise InputError(field, "is required")
    if len(url) > MAX_URL_CHARS:
        raise InputError(field, f"must be at most {MAX_URL_CHARS} characters")
    categories = {unicodedata.category(ch) for ch in url}
    if "Cc" in categories or any(ch.isspace() for ch in url):
        # A browser strips tabs and newlines anywhere and spaces at the ends: it would not
        # read the URL we store.
        raise InputError(field, "must not contain spaces or control characters")
    if categories & _INVISIBLE_CATEGORIES:
        raise InputError(
            field,
            "must not contain invisible formatting characters (such as bidi controls or "
            "zero-width joiners)",
        )
    if "\\" in url:
        # "https://bank.example\\.evil.example/": a browser reads the backslash as "/", so it
        # goes to bank.example.
        raise InputError(field, "must not contain a backslash (browsers read it as /)")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(field, "must be an http(s) URL") from None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise InputError(field, "must be an http(s) URL")
    if parts.username is not None or parts.password is not None:
        # "https://bank.example@evil.example/" reads like the bank; we never print that.
        raise InputError(field, "must not contain a user name or password")
    if not _HOST_PORT.match(parts.netloc):
        raise InputError(field, "must be an http(s) URL")
    host_problem = _host_problem(hostname)
    if host_problem:
        raise InputError(field, host_problem)
    return url


def _host_problem(host: str) -> str | None:
    """Why a browser would read `host` (as urlsplit gives it) differently, or None."""
    if ":" in host:  # urlsplit gives a bracketed IPv6 literal without its brackets
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "host is not a valid IPv6 address"
        return None
    if not _ASCII_HOST.match(_NON_ASCII.sub("", host)):
        return "host may contain only letters, digits, hyphens, dots and underscores"
    labels = host.rstrip(".").split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            ipaddress.IPv4Address(host.rstrip("."))
        except ValueError:
            # "0x7f.1", "2130706433", "010.0.0.1": a browser goes to 127.0.0.1 or 8.0.0.1
            return "host is an IP address in a non-standard form; write it as four decimal numbers"
        return None
    if host.isascii():
        return None
    if _browser_ascii_host(host) is None:
        if _DEVIATIONS.intersection(host):
            return "host is an international name that browsers and this server spell differently"
        try:
            host.encode("idna")
        except UnicodeError:
            return "host is not a valid international domain name"
    return None


@functools.lru_cache(maxsize=4096)
def _browser_ascii_host(host: str) -> str | None:
    """`host` as a browser sends it (UTS 46 nontransitional, as WHATWG does), or None when the
    strict IDNA 2008 rules refuse it (emoji, "_"), where Python's IDNA 2003 codec takes over."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return None


def ascii_host(url: str) -> str | None:
    """The punycode form of an international host in `url` (the admin UI shows it next to the
    Unicode one, so a look-alike host is visible); None for an ASCII host."""
    host = urlsplit(url).hostname or ""
    if host.isascii():
        return None
    return _to_ascii_host(host)


def _to_ascii_host(host: str) -> str:
    ascii_host = _browser_ascii_host(host)
    if ascii_host is not None:
        return ascii_host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return quote(host, safe="")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def as_location(url: str) -> str:
    """The destination as an ASCII URI for the Location header (RFC 3987 3.1).

    Destinations are stored as typed, so an IDN host or a path in any script is allowed; a
    header, though, is bytes, and a non-Latin-1 character there made the redirect a 500 after
    the scan was already recorded. The host goes to punycode as a browser would encode it (UTS 46
    nontransitional: "faß.de" is xn--fa-hia.de, not fass.de; Python's IDNA 2003 codec, then
    percent-encoded UTF-8, where that refuses it), every other non-ASCII character to
    percent-encoded UTF-8.
    """
    if url.isascii():
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        ascii_host = _to_ascii_host(parts.hostname or "")
        netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    rest = [
        _NON_ASCII.sub(lambda m: quote(m.group(), safe=""), part)
        for part in (parts.path, parts.query, parts.fragment)
    ]
    return urlunsplit((parts.scheme, netloc, rest[0], rest[1], rest[2]))
