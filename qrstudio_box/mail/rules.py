"""Mail rules without I/O: what an email address is (accounts and workspaces both ask)."""

from __future__ import annotations

import re

from ..errors import bad_request

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


def normalize_email(email: str) -> str:
    """The address as stored (trimmed, lower case), or 400 naming `email`."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise bad_request("email", "must be an email address like name@example.com")
    return email
