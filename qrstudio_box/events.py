"""The event outbox: an event is stored in the same transaction as the change it reports.

So nothing is lost between "it happened" and "it will be delivered". This module knows no
domain: whoever wants the events subscribes to the app's `Outbox` (the webhooks domain does at
start, to fan each event out to delivery rows in that same transaction and to wake its
dispatcher after the commit). The Outbox belongs to the app's Database (`tx.outbox`), so two
apps in one process (the tests build many) never see each other's events.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from .clock import iso_s
from .db import Tx

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
    """The exact bytes we sign and send: keys in docs/webhooks.md's order (type, id,
    created_at, data)."""
    return msgspec.json.encode(
        {"type": type, "id": event_id, "created_at": created_at, "data": data}
    )


Subscriber = Callable[[Tx, Event], None]


class Outbox:
    """The subscribers to one app's events. Each is called by `emit` with the emitting `tx`, so
    its own writes commit or roll back with the event; it may register `tx.on_commit` steps."""

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            self.subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)


def emit(
    tx: Tx, owner_id: int, type: str, data: dict[str, Any], *, created_at: datetime | None = None
) -> Event:
    """Store one event in the caller's transaction, hand it to the subscribers of `tx.outbox`
    (none in a bare tool without one: then the event is only stored) and return it."""
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
    outbox: Outbox | None = tx.outbox
    if outbox is not None:
        for subscriber in outbox.subscribers:
            subscriber(tx, event)
    return event
