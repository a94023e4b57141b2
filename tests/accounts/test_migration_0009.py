"""Migration 0009 (invitations, password-reset links) over a database as release 0.1.0 left
it: every id kept, both tables empty and shaped as the code expects."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from qrstudio_box.db import connect_sync, migrate

from .test_migration_0006 import FIXTURE, snapshot


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_upgrade_from_0_1_0_adds_both_tables_and_keeps_every_id(tmp_path: Path):
    path = tmp_path / "qrstudio.db"
    shutil.copyfile(FIXTURE, path)
    conn = connect_sync(path)
    before = snapshot(conn)
    assert before["users"] and before["owners"] and before["short_ids"] and before["event_ids"]
    assert "0009_invitations" in migrate(conn)
    assert snapshot(conn) == before
    assert columns(conn, "invitations") == [
        "id",
        "workspace_id",
        "email",
        "role",
        "token_hash",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    assert columns(conn, "password_resets") == [
        "token_hash",
        "user_id",
        "created_at",
        "expires_at",
        "used_at",
    ]
    assert conn.execute("SELECT count(*) FROM invitations").fetchone()[0] == 0
    # A link belongs to a user: one that names no user is refused.
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO password_resets VALUES ('h', 999999, '2026-01-01T00:00:00Z', "
            "'2026-01-01T01:00:00Z', NULL)"
        )
    conn.close()
