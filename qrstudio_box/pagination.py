"""Opaque cursors for keyset pagination (newest first), shared by every list endpoint."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from .errors import bad_request
from .params import MAX_ROW_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int = 1) -> list[Any] | None:
    """The key a previous page ended at; a cursor we did not make is a 400 naming `cursor`."""
    if not cursor:
        return None
    try:
        key = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, msgspec.DecodeError, ValueError):
        raise bad_request("cursor", "is not a cursor this server returned") from None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or any(isinstance(part, int) and not -MAX_ROW_ID - 1 <= part <= MAX_ROW_ID for part in key)
    ):
        raise bad_request("cursor", "is not a cursor this server returned")
    return key


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit
