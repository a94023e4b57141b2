"""Who may do what in a workspace: pure rules, table-tested in tests/workspaces/test_rules.py."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..clock import parse_iso
from ..errors import FieldError
from .schemas import Caller

ROLES = ("viewer", "editor", "owner")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
SCOPES = ("read", "write", "webhooks")
# A key's scope and the ones it brings along: whoever may change may also read.
SCOPE_IMPLIES = {"read": {"read"}, "write": {"write", "read"}, "webhooks": {"webhooks", "read"}}
WORKSPACE_HEADER = "X-QRStudio-Workspace"


@dataclass(frozen=True)
class Access:
    """What a /api/v1 route needs (its handler's `opt["access"]`).

    kind "workspace": a role in the workspace the call acts on, and for an API key `scope`
    (None: no API key may call it, e.g. managing members or keys). "admin": an instance
    admin, signed in. "signed_in": any signed-in person (their own account, or a route that
    names its workspace in the path and checks the role there). "caller": any signed-in
    person or API key. "public": none.
    """

    kind: str
    role: str = "viewer"
    scope: str | None = None


def needs(role: str, scope: str | None) -> dict[str, Access]:
    """The `opt` of a workspace route: `@get(..., opt=needs("viewer", "read"))`."""
    return {"access": Access("workspace", role, scope)}


ADMIN = {"access": Access("admin")}
SIGNED_IN = {"access": Access("signed_in")}
ANY_CALLER = {"access": Access("caller")}
PUBLIC = {"access": Access("public")}


def key_has_scope(scopes: frozenset[str], needed: str) -> bool:
    return any(needed in SCOPE_IMPLIES.get(scope, ()) for scope in scopes)


def access_problem(access: Access | None, caller: Caller | None) -> tuple[int, str] | None:
    """(status, why) when `caller` may not call a route that needs `access`; None when it may.
    A route that declares nothing is refused: access is opt-in, never by omission."""
    if access is None:
        return 403, "This route declares no access rule"
    if access.kind == "public":
        return None
    if caller is None:
        return 401, "A bearer token is required"
    if access.kind == "caller":
        return None
    if access.kind == "admin":
        if caller.is_admin:
            return None
        return 403, "This needs an admin account"
    if access.kind == "signed_in":
        if caller.user_id is None:
            return 403, "API keys cannot do this; sign in with a user account"
        return None
    if caller.workspace_id is None:
        return 403, "You belong to no workspace; ask an owner of one to add you"
    if caller.api_key_id is not None:
        if access.scope is None:
            return 403, "API keys cannot do this; sign in with a user account"
        if not key_has_scope(caller.scopes or frozenset(), access.scope):
            return 403, f"This API key lacks the {access.scope} scope"
        return None
    if caller.role is None or ROLE_RANK[caller.role] < ROLE_RANK[access.role]:
        return 403, f"This needs the {access.role} role in this workspace"
    return None


def effective_role(member_role: str | None, is_admin: bool) -> str | None:
    """An instance admin acts as an owner in every workspace; others by their membership."""
    return "owner" if is_admin else member_role


def member_change_problem(owners_left: int) -> str | None:
    """A workspace always keeps one owner: `owners_left` is how many it would have after the
    change (counted in the write transaction)."""
    if owners_left < 1:
        return "a workspace must keep at least one owner"
    return None


def workspace_name_problem(name: str) -> str | None:
    if not name.strip():
        return "must not be empty"
    if len(name) > 100:
        return "must be at most 100 characters"
    return None


# -- API keys (issue 16.6): their shape, their hash and their input rules ------------------

API_KEY_PREFIX = "qsb_"
# 32 random bytes (256 bits) in base62 take 43 characters (62**43 > 2**256); fixed width, so
# every key has the same length and a leading zero byte is not dropped.
API_KEY_RANDOM_BYTES = 32
API_KEY_BODY_CHARS = 43
# What lists show of a key, so an owner can tell keys apart: "qsb_" and 6 characters
# (36 bits: too few to guess anything from, enough to recognise one's own key).
API_KEY_SHOWN_CHARS = len(API_KEY_PREFIX) + 6
MAX_API_KEY_NAME_CHARS = 100
# last_used_at is written at most this often per key (not once per request).
LAST_USED_EVERY = timedelta(minutes=1)
_BASE62 = string.digits + string.ascii_letters
_API_KEY_SHAPE = re.compile(rf"^{API_KEY_PREFIX}[0-9A-Za-z]{{{API_KEY_BODY_CHARS}}}$")


def base62(data: bytes, width: int) -> str:
    """`data` as a big-endian number in base62, left-padded with "0" to `width` characters."""
    number = int.from_bytes(data)
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    if len(digits) > width:
        raise ValueError(f"{len(data)} bytes do not fit in {width} base62 characters")
    return "".join(reversed(digits)).rjust(width, "0")


def new_api_key() -> str:
    """`qsb_` + 43 base62 characters of 32 bytes from `secrets`: shown once, never stored."""
    return API_KEY_PREFIX + base62(secrets.token_bytes(API_KEY_RANDOM_BYTES), API_KEY_BODY_CHARS)


def looks_like_api_key(text: str) -> bool:
    """The shape of a key we issue; anything else is refused before it is hashed."""
    return bool(_API_KEY_SHAPE.match(text))


def hash_api_key(key: str) -> str:
    """sha256 hex of the whole key: 256 random bits leave nothing to brute-force, so a fast
    hash is right (a slow one, argon2, would cost every request)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_shown_prefix(key: str) -> str:
    return key[:API_KEY_SHOWN_CHARS]


def check_api_key_name(name: str) -> str:
    """1-100 characters after trimming, no control characters."""
    name = name.strip()
    if not name:
        raise FieldError("name", "name: is required")
    if len(name) > MAX_API_KEY_NAME_CHARS:
        raise FieldError("name", f"name: must be at most {MAX_API_KEY_NAME_CHARS} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise FieldError("name", "name: must not contain control characters")
    return name


def check_api_key_scopes(scopes: list[str]) -> list[str]:
    """A non-empty list of known scopes; answered in the canonical order, each once."""
    if not scopes:
        raise FieldError("scopes", f"scopes: choose at least one of {', '.join(SCOPES)}")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise FieldError(
            "scopes",
            f"scopes: {unknown[0]!r} is not a scope (use {', '.join(SCOPES)})",
        )
    return [scope for scope in SCOPES if scope in scopes]


def check_api_key_expiry(expires_at: str | None, now: datetime) -> datetime | None:
    """None (never expires), or an ISO 8601 time after `now` (a time without a zone is UTC)."""
    if expires_at is None or not expires_at.strip():
        return None
    try:
        moment = parse_iso(expires_at.strip())
    except ValueError:
        raise FieldError(
            "expires_at", "expires_at: must be an ISO 8601 time, like 2027-01-31T00:00:00Z"
        ) from None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the last UTC datetime
        raise FieldError("expires_at", "expires_at: must be before the year 9999") from None
    if moment <= now:
        raise FieldError("expires_at", "expires_at: must be in the future")
    return moment


def api_key_refusal(revoked_at: str | None, expires_at: str | None, now: datetime) -> str | None:
    """Why a stored key no longer signs in (the plain 401 message), or None while it counts."""
    if revoked_at is not None:
        return "This API key was revoked"
    if expires_at is not None and parse_iso(expires_at) <= now:
        return "This API key has expired"
    return None


def last_used_due(last_written: datetime | None, now: datetime) -> bool:
    """Whether a call now should write the key's last_used_at: the first use, then at most
    once per LAST_USED_EVERY (a clock stepped back writes nothing until it is passed again)."""
    return last_written is None or now - last_written >= LAST_USED_EVERY
