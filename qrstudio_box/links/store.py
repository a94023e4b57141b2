"""The SQL of dynamic QRs, variants, scans and their rollups (and only here).

Writes take a `Tx` (inside the caller's transaction); reads take a `sqlite3.Connection`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ..db import Tx
from .rules import BOT_FILTER, bot_flag
from .variants import EXPIRED_LABEL

# The routing columns (migration 0007): rules, lifecycle, UTM, query forwarding.
ROUTING_COLUMNS = (
    "rules, active_from_ms, active_until_ms, max_scans, expired_url, utm, forward_query, "
    "ended_at, ended_by"
)
QR_COLUMNS = (
    "id, short_id, owner_id, name, destination_url, is_active, scan_count, created_at, "
    f"updated_at, deleted_at, {ROUTING_COLUMNS}, domain_id"
)
SCAN_COLUMNS = (
    "id, scanned_at, destination_url, variant_label, country, city, device_family, os_family, "
    "browser_family, referer, user_agent, is_bot"
)


# -- dynamic QRs ---------------------------------------------------------------------------


def short_id_exists(conn: sqlite3.Connection, short_id: str) -> bool:
    """On any host, deleted QRs too: a generated short id is never handed out twice."""
    return (
        conn.execute("SELECT 1 FROM dynamic_qrs WHERE short_id = ?", (short_id,)).fetchone()
        is not None
    )


def short_id_taken_on(conn: sqlite3.Connection, domain_id: int, short_id: str) -> bool:
    """A chosen short id on one branded domain: deleted QRs count too (their link stays 410)."""
    return (
        conn.execute(
            "SELECT 1 FROM dynamic_qrs WHERE domain_id = ? AND short_id = ?", (domain_id, short_id)
        ).fetchone()
        is not None
    )


def insert_qr(
    tx: Tx,
    owner_id: int,
    short_id: str,
    name: str,
    destination_url: str,
    now: str,
    domain_id: int | None = None,
) -> int:
    """Raises sqlite3.IntegrityError when the short id is taken (the caller draws another)."""
    cursor = tx.execute(
        "INSERT INTO dynamic_qrs (short_id, owner_id, name, destination_url, is_active, created_at,"
        " updated_at, domain_id) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
        (short_id, owner_id, name, destination_url, now, now, domain_id),
    )
    return int(cursor.lastrowid)


def replace_variants(tx: Tx, qr_id: int, variants: Sequence[tuple[str, str, int]]) -> None:
    tx.execute("DELETE FROM variants WHERE qr_id = ?", (qr_id,))
    tx.executemany(
        "INSERT INTO variants (qr_id, position, label, destination_url, weight) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (qr_id, position, label, url, weight)
            for position, (label, url, weight) in enumerate(variants)
        ],
    )


def update_qr(tx: Tx, qr_id: int, changes: dict[str, Any], now: str) -> None:
    allowed = {"name", "destination_url", "is_active", *ROUTING_COLUMNS.split(", ")}
    assert set(changes) <= allowed, changes
    assignments = ", ".join(f"{column} = ?" for column in changes)
    tx.execute(
        f"UPDATE dynamic_qrs SET {assignments}{', ' if changes else ''}updated_at = ? WHERE id = ?",
        (*changes.values(), now, qr_id),
    )


def soft_delete_qr(tx: Tx, qr_id: int, now: str) -> None:
    tx.execute(
        "UPDATE dynamic_qrs SET deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, qr_id)
    )


def get_owned_qr(conn: sqlite3.Connection, owner_id: int, short_id: str) -> sqlite3.Row | None:
    """The owner's live QR, or None (another owner's QR is None too: the API says 404)."""
    return conn.execute(
        f"SELECT {QR_COLUMNS} FROM dynamic_qrs"
        " WHERE short_id = ? AND owner_id = ? AND deleted_at IS NULL",
        (short_id, owner_id),
    ).fetchone()


def get_qr_by_id(conn: sqlite3.Connection, qr_id: int) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {QR_COLUMNS} FROM dynamic_qrs WHERE id = ?", (qr_id,)).fetchone()


def list_owned_qrs(
    conn: sqlite3.Connection,
    owner_id: int,
    limit: int,
    before_id: int | None = None,
    name: str | None = None,
    is_active: bool | None = None,
) -> list[sqlite3.Row]:
    """Newest first; `name` matches anywhere in the name, case-insensitively (ASCII)."""
    sql = [f"SELECT {QR_COLUMNS} FROM dynamic_qrs WHERE owner_id = ? AND deleted_at IS NULL"]
    params: list[Any] = [owner_id]
    if before_id is not None:
        sql.append("AND id < ?")
        params.append(before_id)
    if name:
        sql.append("AND name LIKE ? ESCAPE '\\'")
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    if is_active is not None:
        sql.append("AND is_active = ?")
        params.append(int(is_active))
    sql.append("ORDER BY id DESC LIMIT ?")
    params.append(limit)
    return conn.execute(" ".join(sql), params).fetchall()


def variants_of(conn: sqlite3.Connection, qr_ids: Iterable[int]) -> dict[int, list[sqlite3.Row]]:
    ids = list(qr_ids)
    found: dict[int, list[sqlite3.Row]] = {qr_id: [] for qr_id in ids}
    if not ids:
        return found
    # json_each keeps one statement for any number of ids (no "too many variables").
    rows = conn.execute(
        "SELECT qr_id, label, destination_url, weight FROM variants"
        " WHERE qr_id IN (SELECT value FROM json_each(?)) ORDER BY qr_id, position",
        (str(ids).replace(" ", ""),),
    ).fetchall()
    for row in rows:
        found[row["qr_id"]].append(row)
    return found


def all_qrs_for_redirect(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every QR, deleted ones too (they answer 410), to fill the redirect cache at start."""
    return conn.execute(
        "SELECT id, short_id, owner_id, name, destination_url, is_active, deleted_at, domain_id, "
        f"{ROUTING_COLUMNS} FROM dynamic_qrs"
    ).fetchall()


# -- lifecycle and UTM defaults (migration 0007) ------------------------------------------------


def served_counts(conn: sqlite3.Connection, qr_id: int | None = None) -> dict[int, int]:
    """Non-bot scans redirected (not expired) per QR, from the rollups (they outlive
    retention): what max_scans is compared with."""
    sql = (
        "SELECT qr_id, sum(scans) FROM scan_rollups WHERE dimension = 'variant' AND is_bot = 0"
        " AND value != ?"
    )
    params: list[Any] = [EXPIRED_LABEL]
    if qr_id is not None:
        sql += " AND qr_id = ?"
        params.append(qr_id)
    return dict(conn.execute(sql + " GROUP BY qr_id", params).fetchall())


def mark_ended(tx: Tx, qr_id: int, ended_by: str, now: str) -> bool:
    """Record that the code ended; False when it already had (so its event fires once)."""
    cursor = tx.execute(
        "UPDATE dynamic_qrs SET ended_at = ?, ended_by = ?"
        " WHERE id = ? AND ended_at IS NULL AND deleted_at IS NULL",
        (now, ended_by, qr_id),
    )
    return cursor.rowcount == 1


def qrs_past_end(conn: sqlite3.Connection, now_ms: int) -> list[int]:
    """Live codes whose active_until has passed and that have not said they ended."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT id FROM dynamic_qrs WHERE active_until_ms <= ? AND ended_at IS NULL"
            " AND active_until_ms IS NOT NULL AND deleted_at IS NULL",
            (now_ms,),
        )
    ]


def get_utm_defaults(conn: sqlite3.Connection, owner_id: int) -> str | None:
    row = conn.execute("SELECT utm FROM utm_defaults WHERE owner_id = ?", (owner_id,)).fetchone()
    return row[0] if row else None


def put_utm_defaults(tx: Tx, owner_id: int, utm_json: str, now: str) -> None:
    tx.execute(
        "INSERT INTO utm_defaults (owner_id, utm, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (owner_id) DO UPDATE"
        " SET utm = excluded.utm, updated_at = excluded.updated_at",
        (owner_id, utm_json, now),
    )


def count_live_qrs(conn: sqlite3.Connection, owner_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM dynamic_qrs WHERE owner_id = ? AND deleted_at IS NULL", (owner_id,)
    ).fetchone()[0]


def top_qrs(conn: sqlite3.Connection, owner_id: int, limit: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT {QR_COLUMNS} FROM dynamic_qrs WHERE owner_id = ? AND deleted_at IS NULL"
        " ORDER BY scan_count DESC, id DESC LIMIT ?",
        (owner_id, limit),
    ).fetchall()


# -- scans -----------------------------------------------------------------------------------

INSERT_SCAN = (
    "INSERT INTO scans (qr_id, scanned_at, destination_url, variant_label, country, city,"
    " device_family, os_family, browser_family, referer, user_agent, is_bot, scanner)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_scan(tx: Tx, row: Sequence[Any]) -> int:
    """`row` in INSERT_SCAN's column order. Rollups and counters follow at commit."""
    tx.before_commit(roll_up_new_scans)
    return int(tx.execute(INSERT_SCAN, row).lastrowid)


def insert_scans(tx: Tx, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk load (benches, imports): rolled up at commit like the redirect's scans."""
    tx.before_commit(roll_up_new_scans)
    tx.executemany(INSERT_SCAN, rows)


# The scans not yet counted: ids above the mark (0005_rollups_per_transaction.sql).
_NEW = "FROM scans WHERE id > :mark AND id <= :top"
_REFERER_ORIGIN = """CASE
    WHEN instr(referer, '://') = 0 THEN referer
    WHEN instr(substr(referer, instr(referer, '://') + 3), '/') = 0 THEN referer || '/'
    ELSE substr(referer, 1,
        instr(referer, '://') + 2 + instr(substr(referer, instr(referer, '://') + 3), '/'))
END"""
# `WHERE true` before GROUP BY: SQLite's documented way to parse INSERT ... SELECT ... ON CONFLICT.
_ROLL_UP = [
    f"""INSERT INTO scan_rollups (qr_id, day, is_bot, dimension, value, scans)
SELECT qr_id, day, is_bot, dimension, value, count(*) FROM (
    SELECT qr_id, scanned_at / 86400000 AS day, is_bot, 'country' AS dimension, country AS value
        {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'city', country || char(9) || city {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'device', device_family {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'os', os_family {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'browser', browser_family {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'referer', {_REFERER_ORIGIN} {_NEW}
    UNION ALL SELECT qr_id, scanned_at / 86400000, is_bot, 'variant', variant_label {_NEW}
) WHERE true GROUP BY qr_id, day, is_bot, dimension, value
ON CONFLICT DO UPDATE SET scans = scans + excluded.scans""",
    # HyperLogLog registers: low_bit is the lowest set bit of the 54 hash bits above the
    # register's 10 (1 << 54 when they are all zero); registers merge by max().
    f"""INSERT INTO scanner_sketches (qr_id, is_bot, day, register, low_bit)
SELECT qr_id, is_bot, scanned_at / 86400000, scanner & 1023,
       max(CASE WHEN rest = 0 THEN 1 << 54 ELSE rest & -rest END)
FROM (SELECT qr_id, is_bot, scanned_at, scanner, (scanner >> 10) & 18014398509481983 AS rest {_NEW})
WHERE true GROUP BY 1, 2, 3, 4
ON CONFLICT DO UPDATE SET low_bit = max(low_bit, excluded.low_bit)""",
    f"""INSERT INTO scanner_sketch_blocks (qr_id, is_bot, register, block, low_bit)
SELECT qr_id, is_bot, scanner & 1023, scanned_at / 1382400000,  -- 16 days
       max(CASE WHEN rest = 0 THEN 1 << 54 ELSE rest & -rest END)
FROM (SELECT qr_id, is_bot, scanned_at, scanner, (scanner >> 10) & 18014398509481983 AS rest {_NEW})
WHERE true GROUP BY 1, 2, 3, 4
ON CONFLICT DO UPDATE SET low_bit = max(low_bit, excluded.low_bit)""",
    f"""UPDATE dynamic_qrs SET scan_count = scan_count + new.scans
FROM (SELECT qr_id, count(*) AS scans {_NEW} GROUP BY qr_id) AS new
WHERE dynamic_qrs.id = new.qr_id""",
    """INSERT INTO scan_usage (owner_id, period, scans)
SELECT q.owner_id, strftime('%Y-%m', s.scanned_at / 1000, 'unixepoch'), count(*)
FROM scans s JOIN dynamic_qrs q ON q.id = s.qr_id
WHERE s.id > :mark AND s.id <= :top GROUP BY 1, 2
ON CONFLICT DO UPDATE SET scans = scans + excluded.scans""",
    "UPDATE scan_rollup_mark SET last_scan_id = :top",
]


def roll_up_new_scans(tx: Tx) -> None:
    """Count the scans inserted since the mark into the rollups, sketches, scan_count and
    scan_usage. Runs before COMMIT of every transaction that inserted scans."""
    mark, top = tx.fetchone(
        "SELECT last_scan_id, (SELECT max(id) FROM scans) FROM scan_rollup_mark"
    )
    if top is None or top <= mark:
        return
    for statement in _ROLL_UP:
        tx.execute(statement, {"mark": mark, "top": top})


def delete_scans_before(tx: Tx, cutoff_ms: int, limit: int) -> int:
    """Delete up to `limit` raw scans older than the cutoff (retention); returns how many.

    The only way scans are deleted, because the roll-up mark depends on it: every scan is
    counted before it goes, and afterwards the mark comes down to the highest id left, since
    SQLite hands out max(id) + 1 next and that may be at or below the mark."""
    roll_up_new_scans(tx)
    deleted = tx.execute(
        "DELETE FROM scans WHERE id IN "
        "(SELECT id FROM scans WHERE scanned_at < ? ORDER BY scanned_at LIMIT ?)",
        (cutoff_ms, limit),
    ).rowcount
    tx.execute(
        "UPDATE scan_rollup_mark SET last_scan_id = coalesce((SELECT max(id) FROM scans), 0)"
    )
    return deleted


def list_scans(
    conn: sqlite3.Connection,
    qr_id: int,
    limit: int,
    before: tuple[int, int] | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    is_bot: bool | None = None,
    country: str | None = None,
) -> list[sqlite3.Row]:
    """Newest first, keyset-paginated on (scanned_at, id); `to_ms` is exclusive."""
    sql = [f"SELECT {SCAN_COLUMNS} FROM scans WHERE qr_id = ?"]
    params: list[Any] = [qr_id]
    if before is not None:
        sql.append("AND (scanned_at < ? OR (scanned_at = ? AND id < ?))")
        params += [before[0], before[0], before[1]]
    if from_ms is not None:
        sql.append("AND scanned_at >= ?")
        params.append(from_ms)
    if to_ms is not None:
        sql.append("AND scanned_at < ?")
        params.append(to_ms)
    if is_bot is not None:
        sql.append("AND is_bot = ?")
        params.append(int(is_bot))
    if country is not None:
        sql.append("AND country = ?")
        params.append(country)
    sql.append("ORDER BY scanned_at DESC, id DESC LIMIT ?")
    params.append(limit)
    return conn.execute(" ".join(sql), params).fetchall()


# -- stats (rollups only: never a scan of the scans table) ------------------------------------


def _bots_clause(bots: str) -> str:
    flag = bot_flag(bots)
    return "" if flag is None else f"AND is_bot = {flag}"


def rollup_counts(
    conn: sqlite3.Connection, qr_id: int, day_from: int, day_to: int
) -> list[sqlite3.Row]:
    """(dimension, value, is_bot, scans) summed over the days, for both bot flags."""
    return conn.execute(
        "SELECT dimension, value, is_bot, sum(scans) AS scans FROM scan_rollups"
        " WHERE qr_id = ? AND day BETWEEN ? AND ? GROUP BY dimension, value, is_bot",
        (qr_id, day_from, day_to),
    ).fetchall()


def rollup_per_day(
    conn: sqlite3.Connection, qr_id: int, day_from: int, day_to: int, bots: str
) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT day, sum(scans) AS scans FROM scan_rollups"
        " WHERE qr_id = ? AND day BETWEEN ? AND ? AND dimension = 'variant' "
        f"{_bots_clause(bots)} GROUP BY day ORDER BY day",
        (qr_id, day_from, day_to),
    ).fetchall()


SKETCH_BLOCK_DAYS = 16


def sketch_registers(
    conn: sqlite3.Connection, qr_id: int, day_from: int, day_to: int, bots: str
) -> list[tuple[int, int]]:
    """(register, max low_bit) over the days [day_from, day_to]: whole 16-day blocks from the
    block table (a walk in register order), the edge days from the daily table (by day)."""
    flags = BOT_FILTER[bots]
    first_block = -(-day_from // SKETCH_BLOCK_DAYS)  # the first block starting in range
    last_block = (day_to + 1) // SKETCH_BLOCK_DAYS - 1  # the last block ending in range
    if first_block <= last_block:
        edges = [
            (day_from, first_block * SKETCH_BLOCK_DAYS - 1),
            ((last_block + 1) * SKETCH_BLOCK_DAYS, day_to),
        ]
    else:
        edges = [(day_from, day_to)]
    merged: dict[int, int] = {}

    def merge(rows: Iterable[tuple[int, int]]) -> None:
        for register, low_bit in rows:
            if low_bit > merged.get(register, 0):
                merged[register] = low_bit

    for flag in flags:
        if first_block <= last_block:
            merge(
                conn.execute(
                    "SELECT register, max(low_bit) FROM scanner_sketch_blocks"
                    " WHERE qr_id = ? AND is_bot = ? AND block BETWEEN ? AND ? GROUP BY register",
                    (qr_id, flag, first_block, last_block),
                )
            )
        for start, end in edges:
            if start <= end:
                merge(
                    conn.execute(
                        "SELECT register, max(low_bit) FROM scanner_sketches"
                        " WHERE qr_id = ? AND is_bot = ? AND day BETWEEN ? AND ? GROUP BY register",
                        (qr_id, flag, start, end),
                    )
                )
    return list(merged.items())


def owner_scans_per_day(
    conn: sqlite3.Connection, owner_id: int, day_from: int, day_to: int, bots: str = "exclude"
) -> list[sqlite3.Row]:
    """Scans per day over all of an owner's live QRs (the dashboard chart)."""
    clause = _bots_clause(bots).replace("is_bot", "r.is_bot")
    return conn.execute(
        "SELECT r.day, sum(r.scans) AS scans FROM scan_rollups r"
        " JOIN dynamic_qrs q ON q.id = r.qr_id"
        " WHERE q.owner_id = ? AND q.deleted_at IS NULL AND r.dimension = 'variant'"
        f" AND r.day BETWEEN ? AND ? {clause} GROUP BY r.day ORDER BY r.day",
        (owner_id, day_from, day_to),
    ).fetchall()


def scans_in_period(conn: sqlite3.Connection, owner_id: int, period: str) -> int:
    """Scans of the owner's QRs in a calendar month ("2026-05"), bots included."""
    row = conn.execute(
        "SELECT scans FROM scan_usage WHERE owner_id = ? AND period = ?", (owner_id, period)
    ).fetchone()
    return int(row[0]) if row else 0
