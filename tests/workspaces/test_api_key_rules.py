"""API key rules (issue 16.6): the key's shape and hash, input checks, when a key counts and
when its last use is written. Pure functions, table-tested."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.errors import FieldError
from qrstudio_box.workspaces import rules
from qrstudio_box.workspaces.rules import (
    api_key_refusal,
    api_key_shown_prefix,
    base62,
    check_api_key_expiry,
    check_api_key_name,
    check_api_key_scopes,
    hash_api_key,
    last_used_due,
    looks_like_api_key,
    new_api_key,
)

NOW = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)


def verdict(rule, *args):
    """(what the rule answers, None), or (None, (field, detail)) of the FieldError it raises."""
    try:
        return rule(*args), None
    except FieldError as error:
        return None, (error.field, error.detail)


@pytest.mark.parametrize(
    ("data", "width", "expected"),
    [
        (b"", 3, "000"),
        (b"\x00", 2, "00"),
        (b"\x3d", 2, "0Z"),  # 61: digits, then a-z, then A-Z
        (b"\x3e", 2, "10"),  # 62
        (b"\xff", 2, "47"),  # 255 = 4*62 + 7
        (b"\x00\x00\x01", 4, "0001"),  # leading zero bytes keep the width
        (b"\xff" * 32, 43, None),  # the largest key body fits in 43 characters
    ],
)
def test_base62(data, width, expected):
    text = base62(data, width)
    assert len(text) == width
    if expected is not None:
        assert text == expected
    assert int.from_bytes(data) == sum(
        rules._BASE62.index(char) * 62**power for power, char in enumerate(reversed(text))
    )


def test_base62_refuses_what_does_not_fit():
    with pytest.raises(ValueError):
        base62(b"\xff" * 33, 43)


def test_a_new_key_is_qsb_and_43_base62_characters_of_fresh_randomness():
    keys = {new_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith("qsb_") and len(key) == 4 + 43
        assert looks_like_api_key(key)
    # 43 base62 characters hold 256 bits: at least the 32 random bytes issue 16 asks for.
    assert 62**43 >= 2**256


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("qsb_" + "A" * 43, True),
        ("qsb_" + "A" * 42, False),
        ("qsb_" + "A" * 44, False),
        ("qsb_" + "A" * 42 + "-", False),
        ("QSB_" + "A" * 43, False),
        ("eyJhbGciOi.x.y", False),
        ("", False),
    ],
)
def test_looks_like_api_key(text, looks):
    assert looks_like_api_key(text) is looks


def test_the_hash_is_sha256_hex_of_the_whole_key_and_the_prefix_ten_characters():
    key = "qsb_Ab12cD" + "x" * 37
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert len(hash_api_key(key)) == 64
    assert hash_api_key(key) != hash_api_key(key[:-1] + "y")
    assert api_key_shown_prefix(key) == "qsb_Ab12cD"


@pytest.mark.parametrize(
    ("name", "expected", "problem"),
    [
        ("CRM sync", "CRM sync", None),
        ("  CI  ", "CI", None),
        ("x" * 100, "x" * 100, None),
        ("x" * 101, None, "name: must be at most 100 characters"),
        ("", None, "name: is required"),
        ("   ", None, "name: is required"),
        ("a\nb", None, "name: must not contain control characters"),
    ],
)
def test_check_api_key_name(name, expected, problem):
    assert verdict(check_api_key_name, name) == (expected, problem and ("name", problem))


@pytest.mark.parametrize(
    ("scopes", "expected", "problem"),
    [
        (["read"], ["read"], None),
        (["webhooks", "read", "write"], ["read", "write", "webhooks"], None),
        (["write", "write"], ["write"], None),
        ([], None, "scopes: choose at least one of read, write, webhooks"),
        (["admin"], None, "scopes: 'admin' is not a scope (use read, write, webhooks)"),
        (["read", "READ"], None, "scopes: 'READ' is not a scope (use read, write, webhooks)"),
    ],
)
def test_check_api_key_scopes(scopes, expected, problem):
    assert verdict(check_api_key_scopes, scopes) == (expected, problem and ("scopes", problem))


@pytest.mark.parametrize(
    ("text", "expected", "problem"),
    [
        (None, None, None),
        ("", None, None),
        ("2026-05-10T00:00:00Z", datetime(2026, 5, 10, tzinfo=UTC), None),
        ("2026-05-09T16:00:00+02:00", None, "expires_at: must be in the future"),  # = NOW
        ("2026-05-09T16:00:01+02:00", NOW + timedelta(seconds=1), None),
        ("2026-05-10", datetime(2026, 5, 10, tzinfo=UTC), None),  # no zone: UTC
        ("2026-05-09T13:59:59Z", None, "expires_at: must be in the future"),
        (
            "next week",
            None,
            "expires_at: must be an ISO 8601 time, like 2027-01-31T00:00:00Z",
        ),
        ("9999-12-31T23:59:59-05:00", None, "expires_at: must be before the year 9999"),
    ],
)
def test_check_api_key_expiry(text, expected, problem):
    assert verdict(check_api_key_expiry, text, NOW) == (
        expected,
        problem and ("expires_at", problem),
    )


@pytest.mark.parametrize(
    ("revoked_at", "expires_at", "refusal"),
    [
        (None, None, None),
        (None, "2026-05-09T14:00:00.001Z", None),
        (None, "2026-05-09T14:00:00.000Z", "This API key has expired"),
        (None, "2026-05-01T00:00:00.000Z", "This API key has expired"),
        ("2026-05-09T13:00:00.000Z", None, "This API key was revoked"),
        ("2026-05-09T13:00:00.000Z", "2026-05-01T00:00:00.000Z", "This API key was revoked"),
    ],
)
def test_api_key_refusal(revoked_at, expires_at, refusal):
    assert api_key_refusal(revoked_at, expires_at, NOW) == refusal


@pytest.mark.parametrize(
    ("last_written", "due"),
    [
        (None, True),
        (NOW, False),
        (NOW - timedelta(seconds=59.999), False),
        (NOW - timedelta(minutes=1), True),
        (NOW - timedelta(days=3), True),
        (NOW + timedelta(minutes=5), False),  # the wall clock stepped back: wait it out
    ],
)
def test_last_used_due(last_written, due):
    assert last_used_due(last_written, NOW) is due
