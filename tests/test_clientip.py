from __future__ import annotations

import pytest

from qrstudio_box.clientip import client_ip, parse_networks

TRUSTED = parse_networks(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        # Untrusted peer: its X-Forwarded-For is a lie we ignore.
        ("203.0.113.9", ["198.51.100.1"], TRUSTED, "203.0.113.9"),
        ("203.0.113.9", [], TRUSTED, "203.0.113.9"),
        # No trusted proxies configured: never believe the header.
        ("10.0.0.2", ["198.51.100.1"], (), "10.0.0.2"),
        # Trusted peer: the right-most hop that is not a trusted proxy.
        ("10.0.0.2", ["198.51.100.1"], TRUSTED, "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], TRUSTED, "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], TRUSTED, "198.51.100.1"),
        # Several headers are one list, in order.
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.9.9.9"], TRUSTED, "198.51.100.1"),
        # Every hop trusted: the left-most one we reached.
        ("10.0.0.2", ["10.0.0.5, 10.0.0.4"], TRUSTED, "10.0.0.5"),
        # Trusted peer without the header: the peer.
        ("10.0.0.2", [], TRUSTED, "10.0.0.2"),
        # Junk hop: stop there, believe nothing to its left.
        ("10.0.0.2", ["198.51.100.1, garbage, 10.0.0.7"], TRUSTED, "10.0.0.7"),
        ("10.0.0.2", ["garbage"], TRUSTED, "10.0.0.2"),
        # IPv6, IPv4-mapped peers, ports and brackets.
        ("fd00::1", ["2001:db8:1::42"], TRUSTED, "2001:db8:1::42"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], TRUSTED, "198.51.100.1"),
        ("::ffff:203.0.113.9", ["198.51.100.1"], TRUSTED, "203.0.113.9"),
        ("10.0.0.2", ["[2001:db8::7]:443"], TRUSTED, "2001:db8::7"),
        ("10.0.0.2", ["198.51.100.1:5678"], TRUSTED, "198.51.100.1"),
        (None, ["198.51.100.1"], TRUSTED, ""),
    ],
)
def test_client_ip(peer, forwarded_for, trusted, expected):
    assert client_ip(peer, forwarded_for, trusted) == expected


def test_parse_networks_refuses_junk():
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])
