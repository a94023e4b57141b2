"""Upgrading a 0.1.0 database to workspaces (migration 0008): every user gets a personal
workspace with their id, every row stays with the same owner_id (now that workspace), and
no id receivers store changes."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.db import connect_sync, migrate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Databases as the releases before workspaces left them (0.2.0 adds smart routing's rows).
RELEASES = ["release-0.1.0.db", "release-0.2.0.db"]
OWNED = [
    "dynamic_qrs",
    "events",
    "webhooks",
    "scan_usage",
    "quota_usage",
    "credit_grants",
    "quota_thresholds_fired",
]
KEPT = {
    "short_ids": "SELECT id, short_id, owner_id FROM dynamic_qrs ORDER BY id",
    "event_ids": "SELECT seq, id, owner_id, type, body FROM events ORDER BY seq",
    "webhooks": "SELECT id, owner_id, url, secret_sealed FROM webhooks ORDER BY id",
    "deliveries": "SELECT id, webhook_id, event_seq, event_id FROM deliveries ORDER BY id",
    "scans": "SELECT id, qr_id FROM scans ORDER BY id",
    "variants": "SELECT id, qr_id FROM variants ORDER BY id",
    "credits": "SELECT id, owner_id, amount, granted_by FROM credit_grants ORDER BY id",
    "usage": "SELECT owner_id, period, used, credits FROM quota_usage ORDER BY 1, 2",
    "scan_usage": "SELECT owner_id, period, scans FROM scan_usage ORDER BY 1, 2",
}


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {name: [tuple(row) for row in conn.execute(query)] for name, query in KEPT.items()}


@pytest.mark.parametrize("release", RELEASES)
def test_upgrade_gives_each_user_a_workspace_with_their_id_and_keeps_every_row(tmp_path, release):
    path = tmp_path / "qrstudio.db"
    shutil.copyfile(FIXTURES / release, path)
    conn = connect_sync(path)
    users = [tuple(r) for r in conn.execute("SELECT id, email, plan, created_at FROM users")]
    before = snapshot(conn)
    assert all(rows for rows in before.values()), "the fixture has rows of every kind"

    assert "0008_workspaces" in migrate(conn)

    assert snapshot(conn) == before
    workspaces = conn.execute(
        "SELECT id, name, plan, created_at FROM workspaces WHERE personal_user_id = id ORDER BY id"
    ).fetchall()
    assert [tuple(w) for w in workspaces] == users
    assert conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == len(users)
    members = conn.execute(
        "SELECT workspace_id, user_id, role FROM workspace_members ORDER BY 1"
    ).fetchall()
    assert [tuple(m) for m in members] == [(uid, uid, "owner") for uid, *_ in users]
    # Every owned row points at an existing workspace, and the foreign keys say so.
    for table in OWNED:
        orphans = conn.execute(
            f"SELECT count(*) FROM {table} WHERE owner_id NOT IN (SELECT id FROM workspaces)"
        ).fetchone()[0]
        assert orphans == 0, table
        target = conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()
        assert {row["table"] for row in target if row["from"] == "owner_id"} == {"workspaces"}
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert "plan" not in [row["name"] for row in conn.execute("PRAGMA table_info(users)")]
    if release != "release-0.1.0.db":  # smart routing's rows and the UTM defaults carry over
        assert [tuple(r) for r in conn.execute("SELECT owner_id, utm FROM utm_defaults")] == [
            (2, '{"source":"qr","medium":"print"}')
        ]
        routed = "SELECT count(*) FROM dynamic_qrs WHERE rules != '[]'"
        assert conn.execute(routed).fetchone()[0] == 1
    conn.close()


@pytest.mark.parametrize("release", RELEASES)
def test_upgraded_box_serves_the_same_owner_ids_and_the_first_admin_gets_the_top_plan(
    tmp_path, release
):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURES / release, data / "qrstudio.db")
    with sqlite3.connect(data / "qrstudio.db") as raw:  # an admin who started on free
        raw.execute("UPDATE users SET plan = 'free' WHERE id = 1")
        owned: dict[int, list[str]] = {}
        for owner_id, short_id in raw.execute("SELECT owner_id, short_id FROM dynamic_qrs"):
            owned.setdefault(owner_id, []).append(short_id)
    settings = settings_from_mapping({"storage": {"data_dir": str(data)}})
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        for email, password, owner_id in [
            ("admin@example.com", "admin-password-1", 1),
            ("pro@example.com", "member-password-1", 2),
        ]:
            token = client.post("/api/v1/auth/token/", json={"email": email, "password": password})
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            qrs = client.get("/api/v1/dynamic-qrs/", headers=headers).json()["results"]
            assert sorted(qr["short_id"] for qr in qrs) == sorted(owned[owner_id])
            assert client.get("/api/v1/usage/", headers=headers).json()["owner_id"] == owner_id
            listed = client.get("/api/v1/workspaces/", headers=headers).json()["results"]
            assert [(w["id"], w["name"], w["role"]) for w in listed] == [(owner_id, email, "owner")]
        plans = dict(
            sqlite3.connect(data / "qrstudio.db").execute("SELECT id, plan FROM workspaces")
        )
    assert plans == {1: "business", 2: "pro", 3: "free"}
