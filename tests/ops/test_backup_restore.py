"""`qrstudio-box backup PATH` against the real server under scan load, then a restore."""

from __future__ import annotations

import sqlite3
import threading

import httpx

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

SCANNERS = 4


def _scan_until(stop: threading.Event, link: str, answered: list[int], errors: list[str]) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            response = client.get(link, headers={"User-Agent": "backup-test"})
            if response.status_code != 302:
                errors.append(f"{response.status_code} {response.text[:200]}")
                return
            answered.append(1)  # list.append is atomic: a count of 302s received


def _consistency(conn: sqlite3.Connection) -> dict[str, int]:
    """Four views of one number, written by one trigger in one transaction each scan."""
    return {
        "scans": conn.execute("SELECT count(*) FROM scans").fetchone()[0],
        "scan_count": conn.execute(
            "SELECT coalesce(sum(scan_count), 0) FROM dynamic_qrs"
        ).fetchone()[0],
        "rollup": conn.execute(
            "SELECT coalesce(sum(scans), 0) FROM scan_rollups WHERE dimension = 'variant'"
        ).fetchone()[0],
        "usage": conn.execute("SELECT coalesce(sum(scans), 0) FROM scan_usage").fetchone()[0],
    }


def test_backup_under_scan_load_is_consistent_and_restores(server, server_factory, tmp_path):
    admin = server.token()
    qr = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=admin,
        json={"name": "poster", "destination_url": "https://example.com/landing"},
    )
    assert qr.status_code == 201, qr.text
    link = f"{server.base_url}/r/{qr.json()['short_id']}"

    stop, answered, errors = threading.Event(), [], []
    threads = [
        threading.Thread(target=_scan_until, args=(stop, link, answered, errors))
        for _ in range(SCANNERS)
    ]
    for thread in threads:
        thread.start()
    try:
        while len(answered) < 300 and not errors:
            stop.wait(0.05)
        answered_before = len(answered)  # each of these 302s came after its commit
        backup_dir = tmp_path / "backups" / "2026-11-29"
        result = server.cli("backup", str(backup_dir))
        answered_during = len(answered)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:3]
    answered_total = len(answered)
    assert "integrity_check ok" in result.stdout

    # The copy is a whole data_dir: the database alone (no -wal beside it) and the keys.
    names = sorted(path.name for path in backup_dir.iterdir())
    assert "qrstudio.db" in names and "jwt.key" in names
    assert not any(name.endswith(("-wal", "-shm", ".partial")) for name in names)
    conn = sqlite3.connect(backup_dir / "qrstudio.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    counts = _consistency(conn)
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    total_rows = sum(
        conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
    )
    conn.close()
    # One moment in time: every view agrees, and it lies between the two 302 counts.
    assert len(set(counts.values())) == 1, counts
    # A scan is committed before its 302 is sent: each scanner may have one committed scan
    # whose 302 it has not received yet.
    assert answered_before <= counts["scans"] <= answered_during + SCANNERS
    assert f"{len(tables)} tables, {total_rows} rows, integrity_check ok" in result.stdout

    # The serving database kept going and has every answered scan.
    assert server.stop() == 0
    live = sqlite3.connect(server.database_path)
    assert _consistency(live)["scans"] == answered_total
    live.close()

    # Restore: a new appliance whose data_dir is the backup directory.
    restored = server_factory({"storage": {"data_dir": str(backup_dir)}}).start()
    assert httpx.get(f"{restored.base_url}/healthz").json()["status"] == "ok"
    # A token issued by the original server still verifies: the JWT key came along.
    me = httpx.get(f"{restored.base_url}/api/v1/me/", headers=admin)
    assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
    restored.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    # The printed code keeps working on the restored appliance, and counts on.
    restored_link = link.replace(server.base_url, restored.base_url)
    assert httpx.get(restored_link).status_code == 302
    detail = httpx.get(
        f"{restored.base_url}/api/v1/dynamic-qrs/{qr.json()['short_id']}/", headers=admin
    )
    assert detail.status_code == 200 and detail.json()["scan_count"] == counts["scans"] + 1
    assert restored.stop() == 0
    conn = sqlite3.connect(backup_dir / "qrstudio.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_backup_refuses_a_non_empty_directory(server, tmp_path):
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    result = server.cli("backup", str(target), check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"qrstudio-box: backup: {target} is not empty: give a new or empty directory"
    )
    assert [path.name for path in target.iterdir()] == ["precious.txt"]
