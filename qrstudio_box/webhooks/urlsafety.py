"""Webhook URL rules: https only, and every address the host resolves to must be public.

Checked twice: when a subscription is created or changed (a clear 400 naming ``url``), and again
at connect time by the transport (``transport.VettingBackend``), which dials only an address
vetted here, so a name that answers a public address first and a private one later (DNS
rebinding) is refused too.

IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64) are
judged by the embedded address: ``ipaddress`` calls some of them global even when they carry
127.0.0.1. Numeric host tricks (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are refused outright
rather than resolved, and so is a trailing dot: they only ever serve to dodge a filter.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (strings); raises UnresolvableHost
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
CGNAT = ipaddress.ip_network("100.64.0.0/10")
METADATA = ipaddress.ip_address("169.254.169.254")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


class UnsafeUrl(ValueError):
    """A refused webhook URL; str() is the whole message, starting with ``url:``.

    `switch` names the `[webhooks]` setting that would have let it through (`allow_http`,
    `allow_private_targets`), for the operator's hint; None when no setting would."""

    def __init__(self, message: str, switch: str | None = None) -> None:
        super().__init__(message)
        self.switch = switch


class UnresolvableHost(OSError):
    pass


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool = False
    allow_private_targets: bool = False


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) form, as it is resolved
    port: int


# What each testing switch lets through, for the hint at the end of a refusal.
TEST_SWITCHES = {
    "allow_http": "plain http:// URLs",
    "allow_private_targets": "loopback and private addresses",
}


def operator_hint(switch: str) -> str:
    """The sentence that ends a refusal a testing switch would allow."""
    return (
        f" (For local testing an operator can set [webhooks] {switch} = true to accept "
        f"{TEST_SWITCHES[switch]}; never in production.)"
    )


def switches_on(policy: UrlPolicy) -> list[str]:
    """The testing switches that are on, in TEST_SWITCHES order."""
    return [name for name in TEST_SWITCHES if getattr(policy, name)]


def switches_on_warning(policy: UrlPolicy) -> str | None:
    """The start-up log line while a testing switch is on (None when none is)."""
    names = switches_on(policy)
    if not names:
        return None
    what = " and ".join(TEST_SWITCHES[name] for name in names)
    keys = " and ".join(f"[webhooks] {name}" for name in names)
    are, them = ("are", "them") if len(names) > 1 else ("is", "it")
    return (
        f"{keys} {are} on: webhooks accept {what}; for testing only, turn {them} off in production"
    )


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(str(exc)) from exc
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen[sockaddr[0].split("%", 1)[0]] = None
    return list(seen)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 translation form carries, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (obfuscated-decoded) address
    if ip in NAT64 or ip in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(
    ip: IPAddress, *, allow_private: bool = False, name_inner: bool = True
) -> str | None:
    """Why `ip` may not be a webhook target, or None when it may.

    `name_inner=False` leaves out the IPv4 address an IPv6 form embeds (for an address the
    owner did not type but a name resolved to).
    """
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if allow_private:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            if problem is None:
                return None
            return (
                f"an IPv6 form of {inner}, {problem}"
                if name_inner
                else f"an IPv6 form of {problem}"
            )
    if ip.is_loopback:
        return "a loopback address"
    if ip == METADATA:
        return "the link-local cloud metadata address"
    if ip.is_link_local:
        return "a link-local address"
    if ip in CGNAT:
        return "a carrier-grade NAT (shared, 100.64.0.0/10) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _looks_numeric(host: str) -> bool:
    """True when the last label is a number: the host is an IPv4 literal in some form."""
    last = host.rsplit(".", 1)[-1]
    return bool(_NUMERIC_LABEL.match(last))


def parse_target(url: str, policy: UrlPolicy) -> Target:
    """Syntax rules (no network): scheme, credentials, host form."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("url: must not be empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"url: must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url) or "\\" in url:
        raise UnsafeUrl("url: must not contain spaces, control characters or backslashes")
    try:
        raw = urlsplit(url)
        parsed = httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise UnsafeUrl(f"url: not a valid URL ({exc})") from None
    scheme = parsed.scheme
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeUrl(
            "url: must be an https:// URL"
            if not policy.allow_http
            else "url: must be an http:// or https:// URL",
            switch="allow_http" if scheme == "http" else None,
        )
    if raw.username is not None or raw.password is not None or parsed.userinfo:
        raise UnsafeUrl("url: must not contain credentials (user:password@)")
    raw_host = (raw.hostname or "").lower()
    if not parsed.host or not raw_host:
        raise UnsafeUrl("url: must include a host name")
    if raw_host.endswith("."):
        raise UnsafeUrl("url: host must not end with a dot")
    is_literal = True
    try:
        ipaddress.ip_address(raw_host.split("%", 1)[0])
    except ValueError:
        is_literal = False
    if not is_literal and _looks_numeric(raw_host):
        raise UnsafeUrl(
            "url: host is an IP address in a non-standard numeric form (decimal, octal or hex); "
            "use a host name"
        )
    try:
        port = parsed.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("url: port must be a number from 1 to 65535") from None
    if not 0 < port < 65536:
        raise UnsafeUrl("url: port must be a number from 1 to 65535")
    host = parsed.raw_host.decode("ascii")
    return Target(url=url, scheme=scheme, host=host, port=port)


async def vet_host(host: str, port: int, policy: UrlPolicy, resolver: Resolver) -> list[str]:
    """The addresses to dial for `host`, all of them allowed; raises UnsafeUrl otherwise.

    Every address must pass, not just one: with a mixed answer a later lookup (or the OS's
    choice) could land on the private one.
    """
    literal = host.strip("[]").split("%", 1)[0]
    try:
        addresses = [str(ipaddress.ip_address(literal))]
        typed = True  # the owner wrote the address: naming it tells them nothing new
    except ValueError:
        typed = False
        try:
            addresses = await resolver(host, port)
        except (UnresolvableHost, OSError):
            raise UnsafeUrl(f"url: host {host} does not resolve") from None
        if not addresses:
            raise UnsafeUrl(f"url: host {host} does not resolve") from None
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise UnsafeUrl(f"url: host {host} resolves to an invalid address") from None
        problem = address_problem(ip, allow_private=policy.allow_private_targets, name_inner=typed)
        # The operator's testing switch would let it through: the refusal says which.
        switch = (
            "allow_private_targets"
            if problem and address_problem(ip, allow_private=True) is None
            else None
        )
        if problem and typed:
            raise UnsafeUrl(
                f"url: {ip} is {problem}; webhook targets must be public", switch=switch
            )
        if problem:
            # Never the address itself: the answer would map the internal DNS for whoever can
            # create a webhook. The rule that refused it is enough to act on.
            raise UnsafeUrl(
                f"url: {host} resolves to a non-public address ({problem}); "
                "webhook targets must be public",
                switch=switch,
            )
    return addresses


async def vet_url(url: str, policy: UrlPolicy, resolver: Resolver = system_resolver) -> Target:
    """All the rules, for create and update: returns the parsed target or raises UnsafeUrl."""
    target = parse_target(url, policy)
    await vet_host(target.host, target.port, policy, resolver)
    return target
