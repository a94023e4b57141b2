"""Fan an event out to its subscriptions, inside the transaction that stored the event.

`subscribe` registers `fan_out` with the app's events.Outbox (webhooks/domain.py at start), so
`events.emit` calls it: the delivery rows commit (or roll back) together with the event and the
change it reports. After that commit the app's dispatcher is woken, so a delivery starts at once
instead of on the next 1-second tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..clock import iso_s, unix_ms
from . import store
from .policy import webhook_plan_filter

if TYPE_CHECKING:
    from ..db import Tx
    from ..events import Event, Outbox, Subscriber


def subscribe(events: Outbox, wake: Callable[[], None] | None = None) -> Subscriber:
    """Deliveries for every event emitted through `events`; `wake` (the dispatcher's) runs after
    each commit that created some. Returns the subscriber, for `events.unsubscribe` at stop.
    A bare tool that emits (no dispatcher in its process) subscribes without `wake`."""

    def on_event(tx: Tx, event: Event) -> None:
        if fan_out(tx, event) and wake is not None:
            tx.on_commit(wake)

    events.subscribe(on_event)
    return on_event


def fan_out(tx: Tx, event: Event) -> int:
    """One pending delivery per subscription of the owner that listens and is not disabled,
    while the owner's plan includes webhooks (a downgraded user's subscriptions go quiet)."""
    now = tx.clock.now()
    plans = webhook_plan_filter(tx.settings) if tx.settings is not None else None
    created = store.insert_deliveries_for_event(
        tx,
        event.owner_id,
        event.seq,
        event.id,
        event.type,
        unix_ms(now),
        iso_s(now),
        plans=plans,
    )
    return created
