"""The pure rules of branded hosts (issue 17.3, 17.5): chosen short ids, what a path on a
branded host asks for, and the host a Host header names."""

from __future__ import annotations

import pytest

from qrstudio_box.links.rules import (
    CODE,
    REFUSED,
    RESERVED_PATHS,
    ROOT,
    InputError,
    branded_target,
    check_chosen_short_id,
    host_name,
)
from qrstudio_box.links.shortid import could_be_short_id, new_short_id

# The brief's list: every one refused as a short id and as a branded host's first segment.
REQUIRED_RESERVED = [
    "r",
    "admin",
    "api",
    "static",
    "healthz",
    "metrics",
    "internal",
    "schema",
    "favicon.ico",
    "robots.txt",
]


@pytest.mark.parametrize(
    ("short_id", "on_domain", "problem"),
    [
        ("menu", True, None),
        ("Menu", True, None),  # case is kept: another code than menu
        ("abc", True, None),
        ("a" * 64, True, None),
        ("spring_2026-menu", True, None),
        ("0123456789", True, None),
        ("ab", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("a" * 65, True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("me nu", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("menu/x", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("menü", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("me.nu", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("", True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        (12345, True, "short_id: must be 3 to 64 letters, digits, '_' or '-'"),
        ("admin", True, "short_id: 'admin' is reserved; choose another"),
        ("ADMIN", True, "short_id: 'ADMIN' is reserved; choose another"),
        ("api", True, "short_id: 'api' is reserved; choose another"),
        ("static", True, "short_id: 'static' is reserved; choose another"),
        ("healthz", True, "short_id: 'healthz' is reserved; choose another"),
        ("metrics", True, "short_id: 'metrics' is reserved; choose another"),
        ("internal", True, "short_id: 'internal' is reserved; choose another"),
        ("Schema", True, "short_id: 'Schema' is reserved; choose another"),
        (
            "menu",
            False,
            "short_id: choose a short id only on a branded domain (give domain too)",
        ),
    ],
)
def test_chosen_short_id(short_id, on_domain, problem):
    if problem is None:
        assert check_chosen_short_id("short_id", short_id, on_domain) == short_id
        return
    with pytest.raises(InputError) as raised:
        check_chosen_short_id("short_id", short_id, on_domain)
    assert raised.value.field == "short_id"
    assert raised.value.detail == problem


def test_every_required_word_is_reserved():
    assert set(REQUIRED_RESERVED) <= RESERVED_PATHS
    for word in REQUIRED_RESERVED:
        assert branded_target(f"/{word}") == (REFUSED, "")


def test_generated_ids_are_valid_chosen_shapes():
    # The API's {short_id} gate lets both kinds through.
    assert all(could_be_short_id(new_short_id()) for _ in range(200))
    assert could_be_short_id("spring_2026-menu")
    assert not could_be_short_id("ab")
    assert not could_be_short_id("../etc")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", (ROOT, "")),
        ("/menu", (CODE, "menu")),
        ("/r/menu", (CODE, "menu")),
        ("/AbCd1234", (CODE, "AbCd1234")),
        ("/r/AbCd1234", (CODE, "AbCd1234")),
        ("/unknown-code", (CODE, "unknown-code")),
        ("/menu/", (CODE, "menu/")),  # no code has a slash: unknown, falls back
        ("/a/b", (CODE, "a/b")),
        ("/r", (REFUSED, "")),
        ("/r/", (REFUSED, "")),
        ("/r/a/b", (REFUSED, "")),
        ("/api/v1/dynamic-qrs/", (REFUSED, "")),
        ("/api", (REFUSED, "")),
        ("/admin/", (REFUSED, "")),
        ("/admin/login", (REFUSED, "")),
        ("/ADMIN/login", (REFUSED, "")),
        ("/static/app.css", (REFUSED, "")),
        ("/schema", (REFUSED, "")),
        ("/schema/openapi.json", (REFUSED, "")),
        ("/metrics", (REFUSED, "")),
        ("/healthz", (REFUSED, "")),
        ("/internal/tls-ask", (REFUSED, "")),
        ("/favicon.ico", (REFUSED, "")),
        ("/robots.txt", (REFUSED, "")),
        ("/.well-known/security.txt", (REFUSED, "")),
    ],
)
def test_branded_target(path, target):
    assert branded_target(path) == target


@pytest.mark.parametrize(
    ("header", "host"),
    [
        (b"go.example.com", "go.example.com"),
        (b"Go.Example.COM", "go.example.com"),
        (b"go.example.com:8443", "go.example.com"),
        (b"go.example.com.", "go.example.com"),
        (b"go.example.com.:80", "go.example.com"),
        (b"127.0.0.1:8080", "127.0.0.1"),
        (b"[::1]:8080", "[::1]:8080"),
        (b"", ""),
    ],
)
def test_host_name(header, host):
    assert host_name(header) == host
