"""Short ids of dynamic QRs: 8 base62 characters from `secrets` (62**8, about 2.2e14)."""

from __future__ import annotations

import re
import secrets
import string

ALPHABET = string.digits + string.ascii_letters
LENGTH = 8
_SHAPE = re.compile(rf"^[0-9A-Za-z]{{{LENGTH}}}$")


def new_short_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_short_id(text: str) -> bool:
    """Cheap shape check, so the redirect answers junk paths without touching any cache."""
    return bool(_SHAPE.match(text))
