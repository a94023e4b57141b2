"""An endpoint's health in the database: read it, write it, apply the time rules, disable.

The rules themselves are pure (`policy.after_failure`, `after_success`, `with_time_passed`,
`reenabled`); this module is where their outcome meets the `webhooks` row, for the dispatcher
(after each attempt), the periodic job (24 h without a new attempt) and the owner (pause,
re-enable). An endpoint is disabled in one way only: `disable`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import from_unix_ms, iso_s, unix_ms
from . import policy, store
from .policy import Health

if TYPE_CHECKING:
    from ..db import Tx

log = logging.getLogger("qrstudio_box.webhooks")

DISABLED_AFTER_FAILURES = "Webhook disabled after 24 hours of failures; re-enable it to send again"
DISABLED_BY_OWNER = "Webhook disabled by its owner"


def health_of(row: Any) -> Health:
    since = row["failing_since_ms"]
    return Health(
        row["status"],
        row["consecutive_failures"],
        from_unix_ms(since) if since is not None else None,
    )


def disable(
    tx: Tx, webhook_id: int, now: datetime, reason: str, changes: dict[str, Any] | None = None
) -> None:
    """Disable the endpoint (with any other `changes` to its row): nothing more is sent, and
    each of its pending deliveries ends as failed with `reason`."""
    stamp = iso_s(now)
    columns = {**(changes or {}), "status": policy.DISABLED, "disabled_at": stamp}
    store.update_webhook(tx, webhook_id, columns, stamp)
    store.fail_pending_deliveries(tx, webhook_id, reason, stamp)


def reenabled_columns() -> dict[str, Any]:
    """The row's health columns of a re-enabled endpoint (policy.reenabled: a clean slate)."""
    fresh = policy.reenabled()
    return {
        "status": fresh.status,
        "consecutive_failures": fresh.consecutive_failures,
        "failing_since_ms": None,
        "disabled_at": None,
    }


def write_health(
    tx: Tx, webhook_id: int, before: Health, after: Health, now: datetime, ok: bool
) -> None:
    """Store the health after an attempt; a streak that reached 24 h disables the endpoint."""
    changes: dict[str, Any] = {
        "status": after.status,
        "consecutive_failures": after.consecutive_failures,
        "failing_since_ms": unix_ms(after.failing_since) if after.failing_since else None,
        ("last_success_at" if ok else "last_failure_at"): iso_s(now),
    }
    if after.status == policy.DISABLED and before.status != policy.DISABLED:
        disable(tx, webhook_id, now, DISABLED_AFTER_FAILURES, changes)
        log.warning("webhook %s disabled after 24 h of failures", webhook_id)
        return
    store.update_webhook(tx, webhook_id, changes, iso_s(now))


def apply_time_rules(tx: Tx, now: datetime) -> list[int]:
    """The 24 h rule without a new attempt: disable endpoints failing since a day. Returns ids."""
    disabled = []
    for row in store.failing_webhooks_since(tx, unix_ms(policy.disable_cutoff(now))):
        before = health_of(row)
        if policy.with_time_passed(before, now) != before:
            disable(tx, row["id"], now, DISABLED_AFTER_FAILURES)
            disabled.append(row["id"])
    return disabled
