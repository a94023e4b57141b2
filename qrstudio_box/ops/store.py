"""The SQL of operations: retention pruning and the numbers behind GET /metrics.

Other domains own these tables (0002 links: scans, dynamic_qrs; 0003 webhooks: webhooks,
deliveries, delivery_attempts; 0001: events); every migration runs at start, so they all exist.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..db import Tx
from ..links import store as links_store

# -- retention ------------------------------------------------------------------------------
# Each prune_* deletes at most `limit` rows in the caller's transaction and returns how many,
# so the job can run many short transactions and never hold the writer long: scans keep
# committing between batches.


def prune_scans(tx: Tx, cutoff_ms: int, limit: int) -> int:
    """Raw scans older than the cutoff. The daily rollups and sketches stay: stats keep their
    history, only the per-scan rows go."""
    return links_store.delete_scans_before(tx, cutoff_ms, limit)  # keeps the roll-up mark right


def prune_delivery_attempts(tx: Tx, cutoff_ms: int, limit: int) -> int:
    """Rows of the delivery log older than the cutoff (an attempt still sending stays).
    No index on started_ms, but ids grow with time: walking by id finds the old rows first."""
    return tx.execute(
        "DELETE FROM delivery_attempts WHERE id IN "
        "(SELECT id FROM delivery_attempts WHERE started_ms < ? AND outcome != 'sending' "
        " ORDER BY id LIMIT ?)",
        (cutoff_ms, limit),
    ).rowcount


def prune_finished_deliveries(tx: Tx, cutoff_ms: int, limit: int) -> int:
    """Succeeded or failed deliveries created before the cutoff (their attempts cascade).
    A pending delivery is never touched: it still has to reach its endpoint."""
    return tx.execute(
        "DELETE FROM deliveries WHERE id IN "
        "(SELECT id FROM deliveries WHERE status != 'pending' AND created_ms < ? "
        "ORDER BY id LIMIT ?)",
        (cutoff_ms, limit),
    ).rowcount


def prune_events(tx: Tx, cutoff_iso: str, limit: int) -> int:
    """Events created before the cutoff that no delivery refers to any more. A delivery
    (pending, or kept in the log) keeps its event, so the log never loses its payloads and a
    queued delivery never loses what it must send. `created_at` is ISO text (iso_s): equal
    width, so text order is time order."""
    return tx.execute(
        "DELETE FROM events WHERE seq IN "
        "(SELECT seq FROM events e WHERE created_at < ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)"
        " ORDER BY created_at LIMIT ?)",
        (cutoff_iso, limit),
    ).rowcount


# -- metrics --------------------------------------------------------------------------------

DELIVERY_STATUSES = ("pending", "succeeded", "failed")
ATTEMPT_OUTCOMES = ("sending", "succeeded", "failed", "interrupted")
WEBHOOK_STATUSES = ("active", "degraded", "disabled")


@dataclass
class MetricsSnapshot:
    """What /metrics reports, read in one go from one reader connection."""

    scans_total: int = 0
    dynamic_qrs: int = 0
    events: int = 0
    deliveries_by_status: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(DELIVERY_STATUSES, 0)
    )
    attempts_by_outcome: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(ATTEMPT_OUTCOMES, 0)
    )
    queue_due: int = 0
    oldest_pending_age_seconds: float = 0.0
    webhooks_by_status: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(WEBHOOK_STATUSES, 0)
    )
    users: int = 0
    database_bytes: int = 0


def _grouped(conn: sqlite3.Connection, sql: str, into: dict[str, int]) -> None:
    for key, count in conn.execute(sql):
        into[key] = count


def metrics_snapshot(conn: sqlite3.Connection, now_ms: int) -> MetricsSnapshot:
    snap = MetricsSnapshot()
    # One read transaction: the numbers agree with each other.
    conn.execute("BEGIN")
    try:
        # scan_count is kept by the scan rollups and survives retention pruning, so this
        # is a true counter, where count(*) over scans would drop after each prune.
        total, live = conn.execute(
            "SELECT coalesce(sum(scan_count), 0), count(*) FILTER (WHERE deleted_at IS NULL) "
            "FROM dynamic_qrs"
        ).fetchone()
        snap.scans_total, snap.dynamic_qrs = total, live
        snap.events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        snap.users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        _grouped(
            conn,
            "SELECT status, count(*) FROM deliveries GROUP BY status",
            snap.deliveries_by_status,
        )
        due, oldest = conn.execute(
            "SELECT count(*) FILTER (WHERE next_attempt_ms <= ?), min(created_ms) "
            "FROM deliveries WHERE status = 'pending'",
            (now_ms,),
        ).fetchone()
        snap.queue_due = due
        snap.oldest_pending_age_seconds = (
            max(0.0, (now_ms - oldest) / 1000) if oldest is not None else 0.0
        )
        _grouped(
            conn,
            "SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome",
            snap.attempts_by_outcome,
        )
        _grouped(
            conn,
            "SELECT status, count(*) FROM webhooks GROUP BY status",
            snap.webhooks_by_status,
        )
        page_count = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        snap.database_bytes = page_count * page_size
    finally:
        conn.execute("COMMIT")
    return snap
