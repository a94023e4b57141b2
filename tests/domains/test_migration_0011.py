"""Migration 0011 (branded domains) over databases as releases 0.1.0 and 0.2.0 left them."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from qrstudio_box.db import connect_sync, migrate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IDS = {
    "qrs": "SELECT id, short_id, owner_id FROM dynamic_qrs ORDER BY id",
    "owners": "SELECT 'hook', id, owner_id FROM webhooks UNION ALL "
    "SELECT 'event', seq, owner_id FROM events ORDER BY 1, 2",
    "event_ids": "SELECT seq, id FROM events ORDER BY seq",
}


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {name: [tuple(row) for row in conn.execute(query)] for name, query in IDS.items()}


@pytest.fixture(params=["release-0.1.0.db", "release-0.2.0.db"])
def upgraded(tmp_path, request):
    path = tmp_path / "qrstudio.db"
    shutil.copyfile(FIXTURES / request.param, path)
    conn = connect_sync(path)
    before = snapshot(conn)
    assert before["qrs"] and before["owners"] and before["event_ids"]
    applied = migrate(conn)
    assert "0011_domains" in applied
    yield conn, before
    conn.close()


def test_every_short_id_and_owner_id_is_unchanged_and_no_qr_has_a_domain(upgraded):
    conn, before = upgraded
    assert snapshot(conn) == before
    assert (
        conn.execute("SELECT count(*) FROM dynamic_qrs WHERE domain_id IS NOT NULL").fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM domains").fetchone()[0] == 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def _insert_qr(conn, short_id, owner_id, domain_id=None, deleted_at=None):
    conn.execute(
        "INSERT INTO dynamic_qrs (short_id, owner_id, name, destination_url, created_at,"
        " updated_at, deleted_at, domain_id) VALUES (?, ?, 'x', 'https://example.com/', '', '',"
        " ?, ?)",
        (short_id, owner_id, deleted_at, domain_id),
    )


def _insert_domain(conn, workspace_id, hostname, status="active"):
    return conn.execute(
        "INSERT INTO domains (workspace_id, hostname, status, created_at) VALUES (?, ?, ?, '')",
        (workspace_id, hostname, status),
    ).lastrowid


def test_short_ids_are_unique_per_domain_and_per_workspace(upgraded):
    conn, _ = upgraded
    owner, other = [row[0] for row in conn.execute("SELECT id FROM workspaces ORDER BY id")][:2]
    mine = _insert_domain(conn, owner, "go.mine.example")
    theirs = _insert_domain(conn, other, "go.theirs.example")
    _insert_qr(conn, "menu", owner, mine)
    _insert_qr(conn, "menu", other, theirs)  # the same code on another domain
    with pytest.raises(sqlite3.IntegrityError):
        _insert_qr(conn, "menu", other, theirs)  # twice on one domain
    with pytest.raises(sqlite3.IntegrityError):
        _insert_qr(conn, "menu", owner)  # twice in one workspace (the API's /{short_id}/)
    _insert_qr(conn, "wine", other)  # the default host is domain 0 ...
    with pytest.raises(sqlite3.IntegrityError):
        _insert_qr(conn, "wine", owner)  # ... where a code is unique too
    _insert_qr(conn, "menu", owner, mine, deleted_at="2026-01-01T00:00:00Z")  # deleted: no clash
    existing = conn.execute("SELECT short_id, owner_id FROM dynamic_qrs LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError):
        _insert_qr(conn, existing[0], existing[1])  # 0.1.0's codes keep theirs


def test_a_hostname_is_live_once_and_free_again_once_deleted(upgraded):
    conn, _ = upgraded
    owner, other = [row[0] for row in conn.execute("SELECT id FROM workspaces ORDER BY id")][:2]
    first = _insert_domain(conn, owner, "go.shared.example", "pending")
    with pytest.raises(sqlite3.IntegrityError):
        _insert_domain(conn, other, "go.shared.example")
    conn.execute("UPDATE domains SET status = 'deleted' WHERE id = ?", (first,))
    _insert_domain(conn, other, "go.shared.example")
    with pytest.raises(sqlite3.IntegrityError):
        _insert_domain(conn, other, "go.other.example", "gone")  # the status CHECK
    with pytest.raises(sqlite3.IntegrityError):
        _insert_domain(conn, 10_000, "go.nobody.example")  # no such workspace
