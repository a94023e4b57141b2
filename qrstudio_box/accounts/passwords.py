"""Passwords: argon2id hashes, and generated passwords people can type."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps both failures equally slow.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class PasswordHash(str):
    """An argon2 hash that does not show itself in a repr.

    Log lines that print a call's arguments (aiosqlite's DEBUG lines print every function it
    runs, arguments included) or a container holding one get `<password hash>` instead.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<password hash>"


def hash_password(password: str) -> PasswordHash:
    return PasswordHash(_hasher.hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def password_problem(password: str) -> str | None:
    """Why a password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    return None
