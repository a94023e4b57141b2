"""Migration 0006 (token epochs, signed-out tokens) over a database as release 0.1.0 left it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import jwt
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.db import connect_sync, migrate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0.db"
IDS = {
    "users": "SELECT id, email, role, is_active FROM users ORDER BY id",
    "owners": "SELECT 'qr', id, owner_id FROM dynamic_qrs UNION ALL "
    "SELECT 'hook', id, owner_id FROM webhooks UNION ALL "
    "SELECT 'event', seq, owner_id FROM events ORDER BY 1, 2",
    "short_ids": "SELECT id, short_id FROM dynamic_qrs ORDER BY id",
    "event_ids": "SELECT seq, id FROM events ORDER BY seq",
}


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {name: [tuple(row) for row in conn.execute(query)] for name, query in IDS.items()}


def test_upgrade_from_0_1_0_keeps_every_id_and_starts_old_users_at_epoch_0(tmp_path):
    path = tmp_path / "qrstudio.db"
    shutil.copyfile(FIXTURE, path)
    conn = connect_sync(path)
    before = snapshot(conn)
    assert before["users"] and before["owners"] and before["short_ids"] and before["event_ids"]
    assert all(event_id.startswith("evt_") for _, event_id in before["event_ids"])

    applied = migrate(conn)
    assert "0006_token_epochs" in applied
    assert snapshot(conn) == before
    epochs = conn.execute("SELECT id, token_epoch FROM users ORDER BY id").fetchall()
    assert [tuple(row) for row in epochs] == [(user_id, 0) for user_id, *_ in before["users"]]
    assert conn.execute("SELECT count(*) FROM revoked_tokens").fetchone()[0] == 0
    conn.close()


def test_after_the_upgrade_old_users_sign_in_and_old_tokens_are_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURE, data / "qrstudio.db")
    settings = settings_from_mapping({"storage": {"data_dir": str(data)}})
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        # A token as 0.1.0 issued it (no audience, no epoch), signed with this box's key.
        key = (data / "jwt.key").read_text().strip()
        old = jwt.encode({"sub": "2", "iat": 1_790_000_000, "exp": 4_000_000_000}, key, "HS256")
        headers = {"Authorization": f"Bearer {old}"}
        assert client.get("/api/v1/me/", headers=headers).status_code == 401
        answer = client.post(
            "/api/v1/auth/token/",
            json={"email": "pro@example.com", "password": "member-password-1"},
        )
        assert answer.status_code == 200
        fresh = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        assert client.get("/api/v1/me/", headers=fresh).json()["email"] == "pro@example.com"
