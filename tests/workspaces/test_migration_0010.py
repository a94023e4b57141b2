"""Migration 0010 (api_keys) over databases as releases 0.1.0 and 0.2.0 left them: no id
receivers store changes, the table starts empty, and its keys go with their workspace (and
outlive the user who made them)."""

from __future__ import annotations

import shutil

import pytest

from qrstudio_box.db import connect_sync, migrate, write_sync
from qrstudio_box.workspaces import service

from .test_migration_0008 import FIXTURES, RELEASES, snapshot


@pytest.mark.parametrize("release", RELEASES)
def test_upgrade_keeps_every_id_and_keys_belong_to_their_workspace(tmp_path, release):
    path = tmp_path / "qrstudio.db"
    shutil.copyfile(FIXTURES / release, path)
    conn = connect_sync(path)
    before = snapshot(conn)
    assert all(rows for rows in before.values())

    applied = migrate(conn)
    assert "0010_api_keys" in applied
    assert snapshot(conn) == before
    assert conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 0
    foreign = {
        (row["from"], row["table"], row["on_delete"])
        for row in conn.execute("PRAGMA foreign_key_list(api_keys)")
    }
    assert foreign == {
        ("workspace_id", "workspaces", "CASCADE"),
        ("created_by", "users", "SET NULL"),
    }

    # A key of user 2's personal workspace (its id is the user's), made by that user.
    created = write_sync(conn, service.add_api_key, 2, "CRM", ["read"], None, 2)
    row = conn.execute("SELECT workspace_id, created_by FROM api_keys").fetchone()
    assert tuple(row) == (2, 2) and created.id == 1
    conn.execute("UPDATE workspaces SET personal_user_id = NULL WHERE id = 2")
    conn.execute("DELETE FROM users WHERE id = 2")
    assert tuple(conn.execute("SELECT workspace_id, created_by FROM api_keys").fetchone()) == (
        2,
        None,
    )
    # A client workspace with nothing but a key: deleting it takes the key along.
    client_ws = conn.execute(
        "INSERT INTO workspaces (name, plan, created_at) VALUES ('Bistro', 'pro', '2026-05-09')"
    ).lastrowid
    write_sync(conn, service.add_api_key, client_ws, "CI", ["write"], None, None)
    assert conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 2
    conn.execute("DELETE FROM workspaces WHERE id = ?", (client_ws,))
    assert [tuple(r) for r in conn.execute("SELECT workspace_id FROM api_keys")] == [(2,)]
    conn.close()
