"""The SQL of branded domains (and only here). Migration 0011.

Writes take a `Tx` (inside the caller's transaction); reads take a `sqlite3.Connection`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..db import Tx

DOMAIN_COLUMNS = (
    "id, workspace_id, hostname, fallback_url, status, created_at, approved_at, deleted_at"
)
# A domain's QRs that still count: those not deleted.
_LIVE_QRS = "SELECT count(*) FROM dynamic_qrs WHERE domain_id = ? AND deleted_at IS NULL"


def all_domains(conn: sqlite3.Connection) -> list[Any]:
    """Every row, deleted ones too (their hosts answer the neutral 404), oldest first."""
    return conn.execute(f"SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY id").fetchall()


def get_domain(conn: sqlite3.Connection, domain_id: int) -> Any:
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE id = ?", (domain_id,)
    ).fetchone()


def get_workspace_domain(conn: sqlite3.Connection, workspace_id: int, domain_id: int) -> Any:
    """The workspace's domain of that id, unless deleted (None: a 404 for the caller)."""
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE id = ? AND workspace_id = ?"
        " AND status != 'deleted'",
        (domain_id, workspace_id),
    ).fetchone()


def list_workspace_domains(conn: sqlite3.Connection, workspace_id: int) -> list[Any]:
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE workspace_id = ? AND status != 'deleted'"
        " ORDER BY id",
        (workspace_id,),
    ).fetchall()


def list_all_domains(conn: sqlite3.Connection, status: str | None = None) -> list[Any]:
    """Every domain of the box that is not deleted (or only those in `status`): the admin's
    list and the CLI's."""
    if status is None:
        return conn.execute(
            f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE status != 'deleted' ORDER BY id"
        ).fetchall()
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE status = ? ORDER BY id", (status,)
    ).fetchall()


def find_live_by_hostname(conn: sqlite3.Connection, hostname: str) -> Any:
    """The domain that holds this host name now (pending or active), or None."""
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE hostname = ? AND status != 'deleted'",
        (hostname,),
    ).fetchone()


def count_live_domains(conn: sqlite3.Connection, workspace_id: int) -> int:
    """Pending and active domains of the workspace: what the plan's custom_domains counts."""
    return conn.execute(
        "SELECT count(*) FROM domains WHERE workspace_id = ? AND status != 'deleted'",
        (workspace_id,),
    ).fetchone()[0]


def live_qr_count(conn: sqlite3.Connection, domain_id: int) -> int:
    return conn.execute(_LIVE_QRS, (domain_id,)).fetchone()[0]


def live_qr_counts(conn: sqlite3.Connection, domain_ids: list[int]) -> dict[int, int]:
    """domain id -> its QRs that are not deleted (0 for those without any)."""
    counts = dict.fromkeys(domain_ids, 0)
    if domain_ids:
        marks = ",".join("?" * len(domain_ids))
        for domain_id, count in conn.execute(
            "SELECT domain_id, count(*) FROM dynamic_qrs"
            f" WHERE domain_id IN ({marks}) AND deleted_at IS NULL GROUP BY domain_id",
            domain_ids,
        ):
            counts[domain_id] = count
    return counts


def insert_domain(
    tx: Tx, workspace_id: int, hostname: str, fallback_url: str, status: str, now: str
) -> int:
    """Raises sqlite3.IntegrityError when the host name is live already (the unique index)."""
    cursor = tx.execute(
        "INSERT INTO domains (workspace_id, hostname, fallback_url, status, created_at,"
        " approved_at) VALUES (?, ?, ?, ?, ?, ?)",
        (workspace_id, hostname, fallback_url, status, now, now if status == "active" else None),
    )
    return int(cursor.lastrowid)


def set_fallback_url(tx: Tx, domain_id: int, fallback_url: str) -> None:
    tx.execute("UPDATE domains SET fallback_url = ? WHERE id = ?", (fallback_url, domain_id))


def approve(tx: Tx, domain_id: int, now: str) -> bool:
    """pending -> active; False when it was not pending (already active, or deleted)."""
    cursor = tx.execute(
        "UPDATE domains SET status = 'active', approved_at = ? WHERE id = ? AND status = 'pending'",
        (now, domain_id),
    )
    return cursor.rowcount == 1


def mark_deleted(tx: Tx, domain_id: int, now: str) -> None:
    tx.execute(
        "UPDATE domains SET status = 'deleted', deleted_at = ?"
        " WHERE id = ? AND status != 'deleted'",
        (now, domain_id),
    )
