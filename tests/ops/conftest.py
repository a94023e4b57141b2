"""Fixtures for the operations tests.

Retention and metrics read tables that other domains create (0002 links, 0003 webhooks, 0005
the scans' roll-up mark). The app's migrations create them all, so these tests run on the real
schema. STAND_IN_TABLES dates from when the domains were built on separate branches: CREATE
TABLE IF NOT EXISTS never touches a real table, and ops.store still tolerates a missing one
(tests/ops/test_retention.py checks that). Scans are written through links.store.insert_scan,
which needs the real links schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from qrstudio_box.clock import iso_ms, unix_ms
from qrstudio_box.db import write_sync
from qrstudio_box.links import store as links_store

STAND_IN_TABLES = """
CREATE TABLE IF NOT EXISTS dynamic_qrs (
    id INTEGER PRIMARY KEY, short_id TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL, destination_url TEXT NOT NULL, is_active INTEGER NOT NULL DEFAULT 1,
    scan_count INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    deleted_at TEXT);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY, qr_id INTEGER NOT NULL REFERENCES dynamic_qrs (id),
    scanned_at INTEGER NOT NULL, destination_url TEXT NOT NULL, variant_label TEXT NOT NULL,
    country TEXT NOT NULL, city TEXT NOT NULL, device_family TEXT NOT NULL,
    os_family TEXT NOT NULL, browser_family TEXT NOT NULL, referer TEXT NOT NULL,
    user_agent TEXT NOT NULL, is_bot INTEGER NOT NULL, scanner INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS scans_time ON scans (scanned_at);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', events TEXT NOT NULL,
    secret_sealed TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
    consecutive_failures INTEGER NOT NULL DEFAULT 0, failing_since_ms INTEGER,
    last_success_at TEXT, last_failure_at TEXT, disabled_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq INTEGER REFERENCES events (seq) ON DELETE CASCADE, event_id TEXT NOT NULL,
    event_type TEXT NOT NULL, test_body BLOB, kind TEXT NOT NULL DEFAULT 'event',
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER, lease_until_ms INTEGER, lease_token TEXT,
    last_error TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, created_ms INTEGER NOT NULL,
    finished_at TEXT);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_seq);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL, event_type TEXT NOT NULL, attempt_number INTEGER NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'sending', response_status INTEGER, duration_ms INTEGER,
    error TEXT NOT NULL DEFAULT '', request_headers TEXT NOT NULL DEFAULT '{}',
    response_headers TEXT NOT NULL DEFAULT '{}', response_body BLOB NOT NULL DEFAULT x'',
    started_at TEXT NOT NULL, started_ms INTEGER NOT NULL, finished_at TEXT);
"""


class Rows:
    """Inserts rows of the other domains' tables the way their code stores them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        cursor = self.conn.execute(sql, params)
        self.conn.commit()
        return cursor.lastrowid

    def dynamic_qr(self, owner_id: int, scan_count: int = 0, deleted: bool = False) -> int:
        qr_id = self._insert(
            "INSERT INTO dynamic_qrs (short_id, owner_id, name, destination_url,"
            " created_at, updated_at, deleted_at)"
            " VALUES (hex(randomblob(4)), ?, 'qr', 'https://example.com/', 'x', 'x', ?)",
            (owner_id, "x" if deleted else None),
        )
        # Set the counter as the scans' roll-up would have left it, whatever scans follow.
        self.conn.execute("UPDATE dynamic_qrs SET scan_count = ? WHERE id = ?", (scan_count, qr_id))
        self.conn.commit()
        return qr_id

    def scan(self, qr_id: int, at) -> int:
        # Through the redirect's own insert, so the rollups and counters follow at commit.
        row = (
            qr_id,
            unix_ms(at),
            "https://example.com/",
            "(default)",
            "",
            "",
            "Other",
            "Other",
            "Other",
            "",
            "test",
            0,
            42,
        )
        return write_sync(self.conn, links_store.insert_scan, row)

    def webhook(self, owner_id: int, status: str = "active") -> int:
        return self._insert(
            "INSERT INTO webhooks"
            " (owner_id, url, events, secret_sealed, status, created_at, updated_at)"
            " VALUES (?, 'https://hooks.example.com/', '[\"scan.created\"]', 'sealed', ?,"
            " 'x', 'x')",
            (owner_id, status),
        )

    def event(self, owner_id: int, at) -> int:
        from qrstudio_box.clock import iso_s

        return self._insert(
            "INSERT INTO events (id, owner_id, type, created_at, body)"
            " VALUES ('evt_' || hex(randomblob(8)), ?, 'scan.created', ?, x'7b7d')",
            (owner_id, iso_s(at)),
        )

    def delivery(
        self, webhook_id: int, event_seq: int, at, status: str = "succeeded", next_attempt=None
    ) -> int:
        return self._insert(
            "INSERT INTO deliveries (webhook_id, event_seq, event_id, event_type, status,"
            " next_attempt_ms, created_at, created_ms)"
            " VALUES (?, ?, (SELECT id FROM events WHERE seq = ?), 'scan.created', ?, ?, ?, ?)",
            (
                webhook_id,
                event_seq,
                event_seq,
                status,
                unix_ms(next_attempt) if next_attempt is not None else None,
                iso_ms(at),
                unix_ms(at),
            ),
        )

    def attempt(self, delivery_id: int, at, outcome: str = "succeeded") -> int:
        return self._insert(
            "INSERT INTO delivery_attempts (delivery_id, webhook_id, event_id, event_type,"
            " attempt_number, outcome, started_at, started_ms)"
            " SELECT id, webhook_id, event_id, event_type, 1, ?, ?, ? FROM deliveries WHERE id = ?",
            (outcome, iso_ms(at), unix_ms(at), delivery_id),
        )


@pytest.fixture
def rows(client, ctx, settings) -> Iterator[Rows]:
    """Started app (migrated), stand-in tables where a domain is missing, and a row writer.

    The scheduler is paused: the rows written here are a fixed picture for the test to read,
    and the webhook dispatcher's tick must not pick up a due delivery and send it."""
    client.blocking_portal.call(ctx.scheduler.pause)
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.executescript(STAND_IN_TABLES)
    conn.isolation_level = ""  # back to implicit transactions for the inserts
    yield Rows(conn)
    conn.close()
