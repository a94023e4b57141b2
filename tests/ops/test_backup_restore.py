"""`qrstudio-box backup PATH` against the real, busy server, then a restore from the copy."""

from __future__ import annotations

import sqlite3
import threading

import httpx

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD


def _create_users_until(stop: threading.Event, base_url: str, headers: dict, created: list[str],
                        errors: list[str]) -> None:
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            email = f"busy{len(created)}@example.com"
            response = client.post("/api/v1/admin/users/",
                                   json={"email": email, "password": MEMBER_PASSWORD, "plan": "free"})
            if response.status_code != 201:
                errors.append(response.text)
                return
            created.append(email)


def test_backup_while_serving_then_restore_from_it(server, server_factory, tmp_path):
    admin = server.token()
    stop, created, errors = threading.Event(), [], []
    writer = threading.Thread(target=_create_users_until,
                              args=(stop, server.base_url, admin, created, errors))
    writer.start()
    try:
        while len(created) < 5 and not errors:
            stop.wait(0.05)
        created_before = len(created)
        backup_dir = tmp_path / "backups" / "2026-11-29"
        result = server.cli("backup", str(backup_dir))
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    created_after = len(created)
    assert "integrity_check ok" in result.stdout
    assert "jwt.key" in result.stdout

    # The copy is a whole data_dir: the database alone (no -wal beside it) and the keys.
    names = sorted(path.name for path in backup_dir.iterdir())
    assert "qrstudio.db" in names and "jwt.key" in names
    assert not any(name.endswith(("-wal", "-shm", ".partial")) for name in names)
    conn = sqlite3.connect(backup_dir / "qrstudio.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    users_in_backup = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    total_rows = sum(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables)
    conn.close()
    # admin + every user created before the backup began, at most those created by its end.
    assert 1 + created_before <= users_in_backup <= 1 + created_after
    assert f"{len(tables)} tables, {total_rows} rows, integrity_check ok" in result.stdout

    # The serving database kept going: it has everything.
    live = sqlite3.connect(server.database_path)
    assert live.execute("SELECT count(*) FROM users").fetchone()[0] == 1 + created_after
    live.close()
    old_token = admin
    assert server.stop() == 0

    # Restore: a new appliance whose data_dir is the backup directory.
    restored = server_factory({"storage": {"data_dir": str(backup_dir)}}).start()
    assert httpx.get(f"{restored.base_url}/healthz").json()["status"] == "ok"
    # A token issued by the original server still verifies: the JWT key came along.
    me = httpx.get(f"{restored.base_url}/api/v1/me/", headers=old_token)
    assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
    restored.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    restored.token(created[0], MEMBER_PASSWORD)
    listing = httpx.get(f"{restored.base_url}/api/v1/admin/users/", headers=old_token)
    assert listing.status_code == 200
    assert restored.stop() == 0
    conn = sqlite3.connect(backup_dir / "qrstudio.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == users_in_backup
    conn.close()


def test_backup_refuses_a_non_empty_directory(server, tmp_path):
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    result = server.cli("backup", str(target), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"qrstudio-box: backup: {target} is not empty: give a new or empty directory"
    assert [path.name for path in target.iterdir()] == ["precious.txt"]
