"""Branded domains' rules, as pure functions: each check raises InputError naming the field."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import idna

from ..clientip import Network, is_trusted, parse_address
from ..errors import ApiError
from ..urls import InputError, check_destination

PENDING, ACTIVE, DELETED = "pending", "active", "deleted"
MAX_HOSTNAME_CHARS = 253
MAX_LABEL_CHARS = 63
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# A last label a browser reads as a number (WHATWG URL "ends in a number": decimal, or hex
# with 0x): such a name is an IPv4 address to it (http://0x7f.0x1/ is 127.0.0.1).
_ALL_DIGITS = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")


def check_hostname(field: str, hostname: str, public_host: str) -> str:
    """A lower-case DNS name for a branded domain, as stored and matched against Host.

    Case is folded (DNS names are case-insensitive: "Go.Example.com" is go.example.com) and
    surrounding spaces and one final dot (the fully qualified form) are dropped; anything else
    that is not a plain host name is refused with the reason, never silently changed: a URL
    or a port, an IP address, a name without a dot, a label outside [a-z0-9-] (1-63 characters,
    no hyphen at either end), more than 253 characters, an international name not written in
    punycode (the message gives it), and the appliance's own host (`[server] public_url`)."""
    host = hostname.strip()
    if not host:
        raise InputError(field, "is required")
    if "://" in host or "/" in host:
        raise InputError(field, "must be a host name only, without http(s):// or a path")
    if _is_ip_address(host):
        raise InputError(field, "must be a domain name, not an IP address")
    if ":" in host:
        raise InputError(field, "must be a host name only, without a port")
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host.isascii():
        raise InputError(field, _punycode_hint(host))
    if len(host) > MAX_HOSTNAME_CHARS:
        raise InputError(field, f"must be at most {MAX_HOSTNAME_CHARS} characters")
    labels = host.split(".")
    if len(labels) < 2:
        raise InputError(field, "must have at least one dot, like go.example.com")
    for label in labels:
        if not label:
            raise InputError(field, "must not have an empty part between dots")
        if len(label) > MAX_LABEL_CHARS:
            raise InputError(
                field, f"each part between dots must be at most {MAX_LABEL_CHARS} characters"
            )
        if not _LABEL.match(label):
            raise InputError(
                field,
                "each part between dots may hold only letters a-z, digits and hyphens, and may "
                "not start or end with a hyphen",
            )
        if label.startswith("xn--") and not _is_punycode(label):
            raise InputError(field, f"{label!r} is not valid punycode")
    if _ALL_DIGITS.match(labels[-1]):
        # No top-level domain is all digits; browsers read such a name as an IPv4 address.
        raise InputError(field, "must be a domain name, not an IP address")
    if host == public_host:
        raise InputError(
            field,
            "is this appliance's own host ([server] public_url); a branded domain is another name",
        )
    return host


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_punycode(label: str) -> bool:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def _punycode_hint(host: str) -> str:
    try:
        ascii_form = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return "must be written in ASCII (an international name in punycode, xn--...)"
    return f"must be written in punycode: {ascii_form}"


def check_fallback_url(field: str, url: str) -> str:
    """Where `/` and unknown codes of the domain go: an http(s) URL by the destinations' rule,
    or "" (none: a neutral 404 page)."""
    url = url.strip()
    return check_destination(field, url) if url else ""


def host_of(url: str) -> str:
    """The host of an absolute URL as a Host header names it: lower case, no port, no final
    dot, an internationalised name in its ASCII (punycode) form ("" when it has none). The
    appliance's own host is compared in this form, so `https://Bücher.test./` cannot be
    registered as a branded domain under another spelling (review of issue 17)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def status_for_new(require_approval: bool) -> str:
    """A new domain is active at once, or pending until an instance admin approves it."""
    return PENDING if require_approval else ACTIVE


def check_domain_limit(plan_name: str, limit: int, owned: int) -> None:
    """403 plan_limit when the workspace already has its plan's `custom_domains` (pending or
    active; a deleted one does not count)."""
    if owned >= limit:
        if limit == 0:
            detail = (
                f"Your plan ({plan_name}) has no branded domains; an instance admin can move "
                "this workspace to a plan with custom_domains."
            )
        else:
            detail = (
                f"Your plan ({plan_name}) allows {limit} branded domain"
                f"{'' if limit == 1 else 's'} and this workspace has {owned}; delete one or "
                "move to a bigger plan."
            )
        raise ApiError(403, detail, error="plan_limit")


def may_ask_for_certificates(
    peer: str | None,
    forwarded_for: Iterable[str],
    trusted: Sequence[Network],
    *,
    other_proxy_headers: bool = False,
) -> bool:
    """Whether the TLS ask endpoint answers this caller: every address the request passed
    through (the socket peer and each X-Forwarded-For hop) is loopback or a trusted proxy.

    Caddy asks from the box itself, with no X-Forwarded-For; a visitor whose request a proxy
    on the box forwarded has their own address in that header and is refused. A request that
    carries `Forwarded` or `X-Real-IP` (`other_proxy_headers`) came through a proxy that names
    its client another way: refused too, or a local proxy sending only those would make every
    visitor look like the box itself."""
    if other_proxy_headers:
        return False
    addresses = [peer or ""]
    addresses += [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for text in addresses:
        address = parse_address(text)
        if address is None:
            return False
        if not (address.is_loopback or is_trusted(address, trusted)):
            return False
    return True
