"""Input rules for dynamic QRs, as pure functions: each raises InputError naming the field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from .variants import DEFAULT_LABEL

MAX_URL_CHARS = 2048
MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 64
MAX_VARIANTS = 20
MAX_WEIGHT = 1_000_000


class InputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = f"{field}: {message}"


def check_destination(field: str, url: str) -> str:
    """An absolute http(s) URL with a host; no credentials, spaces or control characters."""
    if not url:
        raise InputError(field, "is required")
    if len(url) > MAX_URL_CHARS:
        raise InputError(field, f"must be at most {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InputError(field, "must not contain spaces or control characters")
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
    return url


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def as_location(url: str) -> str:
    """The destination as an ASCII URI for the Location header (RFC 3987 3.1).

    Destinations are stored as typed, so an IDN host or a path in any script is allowed; a
    header, though, is bytes, and a non-Latin-1 character there made the redirect a 500 after
    the scan was already recorded. The host goes to IDNA (punycode; percent-encoded UTF-8 when
    IDNA refuses it), every other non-ASCII character to percent-encoded UTF-8.
    """
    if url.isascii():
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        host = parts.hostname or ""
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = quote(host, safe="")
        netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    rest = [
        _NON_ASCII.sub(lambda m: quote(m.group(), safe=""), part)
        for part in (parts.path, parts.query, parts.fragment)
    ]
    return urlunsplit((parts.scheme, netloc, rest[0], rest[1], rest[2]))


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
