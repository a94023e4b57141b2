"""The webhooks domain's SQL, and only here. Writes take a Tx, reads a sqlite3.Connection."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..db import Tx
from .policy import PlanFilter, failing_budget, free_slots

WEBHOOK_COLUMNS = (
    "id, owner_id, url, description, events, secret_sealed, status, consecutive_failures, "
    "failing_since_ms, last_success_at, last_failure_at, disabled_at, created_at, updated_at"
)

# -- subscriptions ---------------------------------------------------------------------------


def insert_webhook(
    tx: Tx,
    owner_id: int,
    url: str,
    description: str,
    events_json: str,
    secret_sealed: str,
    now: str,
) -> int:
    cursor = tx.execute(
        "INSERT INTO webhooks (owner_id, url, description, events, secret_sealed, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (owner_id, url, description, events_json, secret_sealed, now, now),
    )
    return cursor.lastrowid


def get_webhook(conn: sqlite3.Connection, owner_id: int, webhook_id: int) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ? AND owner_id = ?",
        (webhook_id, owner_id),
    ).fetchone()


def list_webhooks(conn: sqlite3.Connection, owner_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE owner_id = ? ORDER BY id DESC", (owner_id,)
    ).fetchall()


def count_webhooks(conn: sqlite3.Connection, owner_id: int) -> int:
    return conn.execute("SELECT count(*) FROM webhooks WHERE owner_id = ?", (owner_id,)).fetchone()[
        0
    ]


_UPDATABLE = {
    "url",
    "description",
    "events",
    "secret_sealed",
    "status",
    "consecutive_failures",
    "failing_since_ms",
    "last_success_at",
    "last_failure_at",
    "disabled_at",
}


def update_webhook(tx: Tx, webhook_id: int, changes: dict[str, Any], now: str) -> None:
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not changes:
        return
    assignments = ", ".join(f"{column} = ?" for column in changes)
    tx.execute(
        f"UPDATE webhooks SET {assignments}, updated_at = ? WHERE id = ?",
        (*changes.values(), now, webhook_id),
    )


def delete_webhook(tx: Tx, owner_id: int, webhook_id: int) -> bool:
    cursor = tx.execute(
        "DELETE FROM webhooks WHERE id = ? AND owner_id = ?", (webhook_id, owner_id)
    )
    return cursor.rowcount == 1


def failing_webhooks_since(tx: Tx, cutoff_ms: int) -> list[sqlite3.Row]:
    """Endpoints not yet disabled whose failure streak started at or before the cutoff."""
    return tx.fetchall(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks"
        " WHERE failing_since_ms IS NOT NULL AND failing_since_ms <= ? AND status != 'disabled'",
        (cutoff_ms,),
    )


def fail_pending_deliveries(tx: Tx, webhook_id: int, error: str, now: str) -> int:
    """End every pending delivery of an endpoint (it was disabled): it stops trying."""
    cursor = tx.execute(
        "UPDATE deliveries SET status = 'failed', last_error = ?, finished_at = ?,"
        " next_attempt_ms = NULL, lease_until_ms = NULL, lease_token = NULL"
        " WHERE webhook_id = ? AND status = 'pending'",
        (error, now, webhook_id),
    )
    return cursor.rowcount


# -- the outbox fan-out (called by events.emit inside the caller's transaction) --------------


def insert_deliveries_for_event(
    tx: Tx,
    owner_id: int,
    event_seq: int,
    event_id: str,
    event_type: str,
    now_ms: int,
    now: str,
    *,
    plans: PlanFilter | None = None,
) -> int:
    """One statement, so the plan check costs the scan path no extra round trip.

    `plans` (None: no check) is policy.webhook_plan_filter: an owner's plan has webhooks when it
    is among its exceptions XOR its `unlisted` holds.
    """
    cursor = tx.execute(
        "INSERT INTO deliveries (webhook_id, event_seq, event_id, event_type, next_attempt_ms,"
        " created_at, created_ms)"
        " SELECT w.id, :seq, :event_id, :type, :now_ms, :now, :now_ms FROM webhooks w"
        " WHERE w.owner_id = :owner AND w.status != 'disabled'"
        " AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE json_each.value = :type)"
        " AND (:unlisted IS NULL OR EXISTS ("
        "   SELECT 1 FROM workspaces o WHERE o.id = w.owner_id"
        "   AND (o.plan IN (SELECT value FROM json_each(:exceptions))) != :unlisted))",
        {
            "seq": event_seq,
            "event_id": event_id,
            "type": event_type,
            "now_ms": now_ms,
            "now": now,
            "owner": owner_id,
            "unlisted": None if plans is None else int(plans.unlisted),
            "exceptions": json.dumps(plans.exceptions if plans else []),
        },
    )
    return cursor.rowcount


def insert_delivery(
    tx: Tx,
    webhook_id: int,
    *,
    event_seq: int | None,
    event_id: str,
    event_type: str,
    test_body: bytes | None,
    kind: str,
    now_ms: int,
    now: str,
    lease_until_ms: int | None = None,
    lease_token: str | None = None,
) -> int:
    cursor = tx.execute(
        "INSERT INTO deliveries (webhook_id, event_seq, event_id, event_type, test_body, kind,"
        " next_attempt_ms, lease_until_ms, lease_token, created_at, created_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            webhook_id,
            event_seq,
            event_id,
            event_type,
            test_body,
            kind,
            now_ms,
            lease_until_ms,
            lease_token,
            now,
            now_ms,
        ),
    )
    return cursor.lastrowid


def requeue_failed_since(tx: Tx, webhook_id: int, since_ms: int, now_ms: int) -> int:
    """Failed deliveries created since then get a fresh schedule, due now."""
    cursor = tx.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?,"
        " lease_until_ms = NULL, lease_token = NULL, finished_at = NULL"
        " WHERE webhook_id = ? AND status = 'failed' AND created_ms >= ? AND kind != 'test'",
        (now_ms, webhook_id, since_ms),
    )
    return cursor.rowcount


# -- dispatch --------------------------------------------------------------------------------

# Claiming walks endpoint by endpoint (there are few) through an index of each one's pending
# deliveries in due order, so its cost follows what is claimed, not the size of a backlog.
_ENDPOINTS_WITH_DUE_WORK = """
SELECT w.id, w.consecutive_failures > 0 FROM webhooks w
WHERE w.status != 'disabled'
  AND EXISTS (SELECT 1 FROM deliveries d
              WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_ms <= :now)
"""
# The same for one endpoint, by its primary key (an `:only IS NULL OR w.id = :only` would scan).
_ENDPOINT_WITH_DUE_WORK = _ENDPOINTS_WITH_DUE_WORK.replace(
    "WHERE w.status", "WHERE w.id = :only AND w.status"
)
_IN_FLIGHT_BY_ENDPOINT = """
SELECT d.webhook_id, count(*), max(w.consecutive_failures > 0)
FROM deliveries AS d INDEXED BY deliveries_leased JOIN webhooks w ON w.id = d.webhook_id
WHERE d.lease_until_ms > :now AND d.status = 'pending'
GROUP BY d.webhook_id
"""
_DUE_OF_ENDPOINT = """
SELECT id, next_attempt_ms FROM deliveries
WHERE webhook_id = :webhook_id AND status = 'pending' AND next_attempt_ms <= :now
  AND (lease_until_ms IS NULL OR lease_until_ms <= :now)
ORDER BY next_attempt_ms, id
LIMIT :free
"""

_SENDABLE = """
SELECT d.id AS delivery_id, d.webhook_id, d.event_id, d.event_type, d.kind, d.attempts,
       d.next_attempt_ms, coalesce(d.test_body, e.body) AS body,
       w.url, w.secret_sealed
FROM deliveries d
JOIN webhooks w ON w.id = d.webhook_id
LEFT JOIN events e ON e.seq = d.event_seq
WHERE d.id = ?
"""


def claim_due(
    tx: Tx,
    now_ms: int,
    lease_until_ms: int,
    token: str,
    per_endpoint: int,
    limit: int,
    failing_total: int | None = None,
    *,
    suspects: frozenset[int] = frozenset(),
    only_webhook: int | None = None,
    capped: set[int] | None = None,
) -> list[sqlite3.Row]:
    """Lease what is due, atomically (we hold the write lock); returns what to send.

    Due and unclaimed (or claim expired), endpoint not disabled, at most `per_endpoint` in
    flight per endpoint counting live claims, at most `limit` in all, oldest due first.
    `suspects` are endpoints counted as failing though not on a streak (a send of theirs is
    taking long). `only_webhook` restricts the claim to one endpoint. `capped`, when given,
    receives the ids of the endpoints that may have due work left behind by their own cap.
    """
    in_flight: dict[int, int] = {}
    failing_in_flight = 0
    for webhook_id, count, failing in tx.fetchall(_IN_FLIGHT_BY_ENDPOINT, {"now": now_ms}):
        in_flight[webhook_id] = count
        failing_in_flight += count if failing or webhook_id in suspects else 0
    # An endpoint on a failure streak may be one that hangs until the deadline: it gets one send
    # at a time, and all such endpoints together `failing_total` slots, so healthy endpoints keep
    # the rest instead of queueing behind sends that will time out.
    budget = failing_budget(failing_total, failing_in_flight)
    due: list[tuple[int, int]] = []
    endpoints = (
        tx.fetchall(_ENDPOINTS_WITH_DUE_WORK, {"now": now_ms})
        if only_webhook is None
        else tx.fetchall(_ENDPOINT_WITH_DUE_WORK, {"now": now_ms, "only": only_webhook})
    )
    for webhook_id, failing in endpoints:
        failing = failing or webhook_id in suspects
        free = free_slots(per_endpoint, in_flight.get(webhook_id, 0), failing, budget)
        rows = []
        if free > 0:
            rows = tx.fetchall(
                _DUE_OF_ENDPOINT, {"webhook_id": webhook_id, "now": now_ms, "free": free}
            )
            due += [(row[1], row[0]) for row in rows]
            if failing and budget is not None:
                budget -= len(rows)
        if capped is not None and len(rows) >= free:
            capped.add(webhook_id)
    ids = [delivery_id for _, delivery_id in sorted(due)[:limit]]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    tx.execute(
        f"UPDATE deliveries SET lease_until_ms = ?, lease_token = ? WHERE id IN ({marks})",
        (lease_until_ms, token, *ids),
    )
    # One query for all the leased rows, in claim order (oldest due first).
    sendable = {
        row["delivery_id"]: row
        for row in tx.fetchall(_SENDABLE.replace("WHERE d.id = ?", f"WHERE d.id IN ({marks})"), ids)
    }
    return [sendable[delivery_id] for delivery_id in ids]


def release_all_leases(tx: Tx, error: str, now: str) -> int:
    """At start: no claim of an earlier run is alive (one process owns the queue)."""
    ids = [
        row[0]
        for row in tx.fetchall(
            "SELECT id FROM deliveries WHERE status = 'pending' AND lease_until_ms IS NOT NULL"
        )
    ]
    interrupt_open_attempts(tx, ids, error, now)
    tx.execute(
        "UPDATE deliveries SET lease_until_ms = NULL, lease_token = NULL"
        " WHERE status = 'pending' AND lease_until_ms IS NOT NULL"
    )
    return len(ids)


def sendable(tx: Tx, delivery_id: int) -> sqlite3.Row | None:
    return tx.fetchone(_SENDABLE, (delivery_id,))


def interrupt_open_attempts(
    tx: Tx,
    delivery_ids: Iterable[int],
    error: str,
    now: str,
    labels: Mapping[int, str] | None = None,
) -> None:
    """Attempts left 'sending' by a dispatcher that died, or whose answer could not be recorded:
    they end as interrupted, with `error` or the delivery's own label in `labels`."""
    labels = labels or {}
    tx.executemany(
        "UPDATE delivery_attempts SET outcome = 'interrupted', error = ?, finished_at = ?"
        " WHERE delivery_id = ? AND outcome = 'sending'",
        [(labels.get(delivery_id, error), now, delivery_id) for delivery_id in delivery_ids],
    )


def insert_attempt(
    tx: Tx,
    delivery_id: int,
    webhook_id: int,
    event_id: str,
    event_type: str,
    attempt_number: int,
    request_headers_json: str,
    started_at: str,
    started_ms: int,
) -> int:
    cursor = tx.execute(
        "INSERT INTO delivery_attempts (delivery_id, webhook_id, event_id, event_type,"
        " attempt_number, request_headers, started_at, started_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            delivery_id,
            webhook_id,
            event_id,
            event_type,
            attempt_number,
            request_headers_json,
            started_at,
            started_ms,
        ),
    )
    return cursor.lastrowid


def finish_attempt(
    tx: Tx,
    attempt_id: int,
    outcome: str,
    response_status: int | None,
    duration_ms: int,
    error: str,
    response_headers_json: str,
    response_body: bytes,
    finished_at: str,
) -> None:
    tx.execute(
        "UPDATE delivery_attempts SET outcome = ?, response_status = ?, duration_ms = ?, error = ?,"
        " response_headers = ?, response_body = ?, finished_at = ? WHERE id = ?",
        (
            outcome,
            response_status,
            duration_ms,
            error,
            response_headers_json,
            response_body,
            finished_at,
            attempt_id,
        ),
    )


def leased_delivery(tx: Tx, delivery_id: int, token: str) -> sqlite3.Row | None:
    """The delivery, if this claim still holds it (a stale worker must not overwrite)."""
    return tx.fetchone(
        "SELECT id, webhook_id, kind, attempts, status FROM deliveries"
        " WHERE id = ? AND lease_token = ? AND status = 'pending'",
        (delivery_id, token),
    )


def finish_delivery(
    tx: Tx, delivery_id: int, status: str, attempts: int, error: str, now: str
) -> None:
    tx.execute(
        "UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, finished_at = ?,"
        " next_attempt_ms = NULL, lease_until_ms = NULL, lease_token = NULL WHERE id = ?",
        (status, attempts, error, now, delivery_id),
    )


def reschedule_delivery(tx: Tx, delivery_id: int, attempts: int, error: str, next_ms: int) -> None:
    tx.execute(
        "UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_ms = ?,"
        " lease_until_ms = NULL, lease_token = NULL WHERE id = ?",
        (attempts, error, next_ms, delivery_id),
    )


def webhook_health(tx: Tx, webhook_id: int) -> sqlite3.Row | None:
    return tx.fetchone(
        "SELECT id, status, consecutive_failures, failing_since_ms, last_success_at FROM webhooks"
        " WHERE id = ?",
        (webhook_id,),
    )


# -- the deliveries log ----------------------------------------------------------------------

ATTEMPT_COLUMNS = (
    "a.id, a.delivery_id, a.webhook_id, a.event_id, a.event_type, a.attempt_number, a.outcome,"
    " a.response_status, a.duration_ms, a.error, a.started_at, a.finished_at, d.kind"
)


def list_attempts(
    conn: sqlite3.Connection,
    webhook_id: int,
    limit: int,
    before_id: int | None = None,
    event_type: str | None = None,
    outcome: str | None = None,
) -> list[sqlite3.Row]:
    where = ["a.webhook_id = ?"]
    params: list[Any] = [webhook_id]
    if before_id is not None:
        where.append("a.id < ?")
        params.append(before_id)
    if event_type is not None:
        where.append("a.event_type = ?")
        params.append(event_type)
    if outcome is not None:
        where.append("a.outcome = ?")
        params.append(outcome)
    return conn.execute(
        f"SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts a"
        " JOIN deliveries d ON d.id = a.delivery_id"
        f" WHERE {' AND '.join(where)} ORDER BY a.id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()


def get_attempts(
    conn: sqlite3.Connection, webhook_id: int, attempt_ids: Sequence[int]
) -> list[sqlite3.Row]:
    """Those attempts of that webhook, whole (request and response), newest first."""
    if not attempt_ids:
        return []
    marks = ",".join("?" * len(attempt_ids))
    return conn.execute(
        f"SELECT {ATTEMPT_COLUMNS}, a.request_headers, a.response_headers, a.response_body,"
        " coalesce(d.test_body, e.body) AS request_body, d.event_seq"
        " FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
        " LEFT JOIN events e ON e.seq = d.event_seq"
        f" WHERE a.webhook_id = ? AND a.id IN ({marks}) ORDER BY a.id DESC",
        (webhook_id, *attempt_ids),
    ).fetchall()


def get_attempt(conn: sqlite3.Connection, webhook_id: int, attempt_id: int) -> sqlite3.Row | None:
    found = get_attempts(conn, webhook_id, [attempt_id])
    return found[0] if found else None
