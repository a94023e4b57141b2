"""Short ids of dynamic QRs: 8 base62 characters from `secrets` (62**8, about 2.2e14), or one
an owner chose on a branded domain (3-64 of A-Z a-z 0-9 _ -, `rules.check_chosen_short_id`)."""

from __future__ import annotations

import re
import secrets
import string

ALPHABET = string.digits + string.ascii_letters
LENGTH = 8
_SHAPE = re.compile(rf"^[0-9A-Za-z]{{{LENGTH}}}$")
# Every short id a QR may have: the generated shape and the chosen one (which includes it).
ANY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


def new_short_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_short_id(text: str) -> bool:
    """Cheap shape check, so the redirect answers junk paths without touching any cache."""
    return bool(_SHAPE.match(text))


def could_be_short_id(text: str) -> bool:
    """Generated or chosen: what the API accepts as a `{short_id}` before asking the store."""
    return bool(ANY_SHAPE.match(text))
