"""One-time link tokens (invitations, password resets): made here, stored only as a hash.

A token is `secrets.token_urlsafe(32)` (256 random bits, URL-safe: it travels in a link's
path). The database keeps its SHA-256 (hex): a plain hash is enough for 256 random bits (no
dictionary to try), and looking a token up by its hash is one indexed equality, so no
timing of a comparison tells anything either.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """(token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
