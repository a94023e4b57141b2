"""Webhook secrets and the signatures of a delivery.

Two signature schemes ride on every delivery, computed over the same raw body bytes:

* ``X-QRStudio-Signature: t=<unix seconds>,v1=<hex>``: the scheme of docs/webhooks.md
  ("Verifying a delivery"). The HMAC-SHA256 key is the WHOLE secret string (``whsec_...``) as
  UTF-8, exactly as the Flask receiver it cites (``_verify``) does ``WEBHOOK_SECRET.encode()``;
  the message is ``f"{t}.{body}"``.
* Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>``):
  the key is the base64-decoded part after ``whsec_``; the message is ``f"{id}.{t}.{body}"``.
  This is what the ``standardwebhooks`` libraries verify.

Signatures are made when a delivery is claimed for sending (not at emit time), so a rotated
secret signs queued deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_RANDOM_BYTES = 24

# What the deliveries log keeps instead of a signature: a leaked log must not help forge one.
REDACTED = "[redacted]"


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (32 base64 characters, no padding)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_RANDOM_BYTES)).decode(
        "ascii"
    )


def qrstudio_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-QRStudio-Signature header value."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256
    )
    return f"t={timestamp},v1={digest.hexdigest()}"


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value (`v1,<base64>`)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def delivery_headers(
    *,
    secret: str,
    body: bytes,
    event_id: str,
    event_type: str,
    delivery_id: int,
    timestamp: int,
    user_agent: str,
) -> dict[str, str]:
    """Every header of one delivery attempt, signed with `secret` at `timestamp` (unix s)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-QRStudio-Event": event_type,
        "X-QRStudio-Delivery-Id": str(delivery_id),
        "X-QRStudio-Signature": qrstudio_signature(secret, timestamp, body),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secret, event_id, timestamp, body),
    }


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as the deliveries log shows them: signatures replaced, timestamps kept."""
    shown = dict(headers)
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "x-qrstudio-signature":
            t = value.split(",", 1)[0]
            shown[name] = f"{t},v1={REDACTED}"
        elif lowered == "webhook-signature":
            shown[name] = f"v1,{REDACTED}"
    return shown
