"""The event outbox: an event is stored in the same transaction as the change it reports.

So nothing is lost between "it happened" and "it will be delivered": the webhooks domain
fans each event out to delivery rows in that same transaction.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any

import msgspec

from .clock import iso_s
from .db import Tx
from .webhooks import outbox

EVENT_TYPES = (
    "scan.created",
    "dynamic_qr.created",
    "dynamic_qr.updated",
    "quota.threshold_75",
    "quota.threshold_100",
)

_BASE62 = string.digits + string.ascii_letters


_ID_SPACE = 62**16


def new_event_id() -> str:
    """`evt_` + 16 base62 characters from ONE urandom call (this runs once per scan)."""
    number = int.from_bytes(secrets.token_bytes(12)) % _ID_SPACE
    digits = []
    for _ in range(16):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "evt_" + "".join(digits)


class Event(msgspec.Struct, frozen=True):
    seq: int
    id: str
    owner_id: int
    type: str
    created_at: str
    body: bytes


def encode_event(event_id: str, type: str, created_at: str, data: dict[str, Any]) -> bytes:
    """The exact bytes we sign and send: keys in the guide's order (type, id, created_at, data)."""
    return msgspec.json.encode(
        {"type": type, "id": event_id, "created_at": created_at, "data": data}
    )


def emit(
    tx: Tx, owner_id: int, type: str, data: dict[str, Any], *, created_at: datetime | None = None
) -> Event:
    """Store one event in the caller's transaction and return it."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event_id = new_event_id()
    created = iso_s(created_at or tx.clock.now())
    body = encode_event(event_id, type, created, data)
    cursor = tx.execute(
        "INSERT INTO events (id, owner_id, type, created_at, body) VALUES (?, ?, ?, ?, ?)",
        (event_id, owner_id, type, created, body),
    )
    event = Event(
        seq=cursor.lastrowid,
        id=event_id,
        owner_id=owner_id,
        type=type,
        created_at=created,
        body=body,
    )
    # Same transaction: one delivery per subscription that listens; the dispatcher wakes on commit.
    outbox.fan_out(tx, event)
    return event
