"""SQL of the quota domain (migration 0004). Writes take a Tx, reads a sqlite3.Connection."""

from __future__ import annotations

import sqlite3
from typing import Any


def usage_row(conn: sqlite3.Connection, owner_id: int, period: str) -> tuple[int, int]:
    """(used, credits) of an owner's month; (0, 0) before its first generation or grant."""
    row = conn.execute(
        "SELECT used, credits FROM quota_usage WHERE owner_id = ? AND period = ?",
        (owner_id, period),
    ).fetchone()
    return (row[0], row[1]) if row is not None else (0, 0)


def add_generation(tx: Any, owner_id: int, period: str) -> int:
    """Count one generation; returns the month's new `used`."""
    row = tx.fetchone(
        "INSERT INTO quota_usage (owner_id, period, used) VALUES (?, ?, 1) "
        "ON CONFLICT (owner_id, period) DO UPDATE SET used = used + 1 "
        "RETURNING used",
        (owner_id, period),
    )
    return row[0]


def add_credits(
    tx: Any,
    owner_id: int,
    period: str,
    amount: int,
    note: str,
    granted_by: int | None,
    created_at: str,
) -> tuple[int, int]:
    """Record a credit pack and lift the month's allowance; returns (grant id, month credits)."""
    grant = tx.fetchone(
        "INSERT INTO credit_grants (owner_id, period, amount, note, granted_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (owner_id, period, amount, note, granted_by, created_at),
    )
    usage = tx.fetchone(
        "INSERT INTO quota_usage (owner_id, period, credits) VALUES (?, ?, ?) "
        "ON CONFLICT (owner_id, period) DO UPDATE SET credits = credits + excluded.credits "
        "RETURNING credits",
        (owner_id, period, amount),
    )
    return grant[0], usage[0]


def fired_thresholds(conn: sqlite3.Connection, owner_id: int, period: str) -> list[int]:
    rows = conn.execute(
        "SELECT threshold FROM quota_thresholds_fired WHERE owner_id = ? AND period = ? "
        "ORDER BY threshold",
        (owner_id, period),
    ).fetchall()
    return [row[0] for row in rows]


def record_fired_threshold(
    tx: Any,
    owner_id: int,
    period: str,
    threshold: int,
    event_id: str,
    used: int,
    limit: int,
    fired_at: str,
) -> None:
    # A plain INSERT: a duplicate would be a bug, and its constraint error rolls the whole
    # generation back rather than let a second event out.
    tx.execute(
        'INSERT INTO quota_thresholds_fired (owner_id, period, threshold, event_id, used, "limit", '
        "fired_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (owner_id, period, threshold, event_id, used, limit, fired_at),
    )


def credit_grants(conn: sqlite3.Connection, owner_id: int, period: str) -> list[dict]:
    rows = conn.execute(
        "SELECT id, amount, note, granted_by, created_at FROM credit_grants "
        "WHERE owner_id = ? AND period = ? ORDER BY id",
        (owner_id, period),
    ).fetchall()
    return [
        {"id": r[0], "amount": r[1], "note": r[2], "granted_by": r[3], "created_at": r[4]}
        for r in rows
    ]
