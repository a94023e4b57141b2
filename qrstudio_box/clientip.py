"""Which address a request came from: the socket peer, or what a trusted reverse proxy saw.

Shared by the redirect (the scanner) and the login throttle; `AppContext.trusted_proxies` holds
the parsed `[server] trusted_proxies` once for both.

X-Forwarded-For is believed only when the peer itself is a trusted proxy (`[server]
trusted_proxies`). Then we walk the hops from the right (each proxy appends the address it
received from) and take the first one that is not a trusted proxy: everything left of it
could have been written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """`trusted_proxies` as networks; a bare address is a /32 or /128. Raises ValueError."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def parse_address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5678"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_ip(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The scanner's address as text ("" when the peer is unknown).

    `forwarded_for` is every X-Forwarded-For header value, in order (several headers are
    one comma-separated list). A hop that is not an address stops the walk: we then keep
    the last trusted hop we reached rather than believe anything written left of junk.
    """
    peer_address = parse_address(peer or "")
    if peer_address is None:
        return ""
    if not trusted or not is_trusted(peer_address, trusted):
        return str(peer_address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    current = peer_address
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(address, trusted):
            break
    return str(current)
