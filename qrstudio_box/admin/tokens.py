"""Small signed values for the UI: CSRF tokens and flash messages. Pure functions of a key.

CSRF is a *signed double-submit*: the same token travels in a cookie and in each form's hidden
field; a POST is accepted only when both are present, equal, and carry our HMAC. The signature
stops an attacker who can plant a cookie (a sibling subdomain) from choosing a token, and the
token is bound to the session subject so one user's token is useless in another's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_csrf_token(key: bytes, subject: str = "") -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(key, 'csrf', f'{subject}|{nonce}')}"


def csrf_token_valid(key: bytes, token: str | None, subject: str = "") -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, sig = token.split(".")
    return hmac.compare_digest(sig, _mac(key, "csrf", f"{subject}|{nonce}"))


def csrf_pair_valid(
    key: bytes, cookie_token: str | None, form_token: str | None, subject: str = ""
) -> bool:
    """The check every UI POST passes: cookie and form token equal, signed, for this subject."""
    if not cookie_token or not form_token:
        return False
    if not hmac.compare_digest(cookie_token, form_token):
        return False
    return csrf_token_valid(key, form_token, subject)


def pack_flash(key: bytes, messages: list[tuple[str, str]]) -> str:
    """[(kind, text)] -> a signed cookie value (kinds: success, error, warning, info)."""
    body = base64.urlsafe_b64encode(json.dumps(messages).encode()).decode().rstrip("=")
    return f"{body}.{_mac(key, 'flash', body)}"


def unpack_flash(key: bytes, value: str | None) -> list[tuple[str, str]]:
    """The messages of a flash cookie, or [] when it is missing, tampered or malformed."""
    if not value or value.count(".") != 1:
        return []
    body, sig = value.split(".")
    if not hmac.compare_digest(sig, _mac(key, "flash", body)):
        return []
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return [(str(kind), str(text)) for kind, text in raw]
    except (ValueError, TypeError):
        return []
