"""backup_data_dir on a live WAL database written by another thread (no server needed).

Each write transaction inserts one `orders` row and one `order_lines` row, so a consistent
snapshot has equal counts; a torn copy would not.
"""

import os
import sqlite3
import stat
import threading

import pytest

from qrstudio_box.ops.backup import BackupError, backup_data_dir


def _make_live_db(data_dir):
    path = data_dir / "qrstudio.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE orders(id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE TABLE order_lines(id INTEGER PRIMARY KEY, order_id INTEGER, body TEXT)")
    conn.close()
    (data_dir / "jwt.key").write_bytes(b"k" * 32)
    os.chmod(data_dir / "jwt.key", 0o600)
    return path


def _writer(path, stop: threading.Event, written: list):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute("INSERT INTO orders(body) VALUES (?)", ("x" * 500,))
        conn.execute(
            "INSERT INTO order_lines(order_id, body) VALUES (?, ?)", (cur.lastrowid, "y" * 500)
        )
        conn.execute("COMMIT")
        written.append(1)
    conn.close()


def test_backup_while_writing_is_consistent_and_complete(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = _make_live_db(data_dir)
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(db, stop, written))
    thread.start()
    try:
        while len(written) < 2000:  # enough rows that the copy takes many pages
            threading.Event().wait(0.01)
        written_before = len(written)  # committed before the backup began
        report = backup_data_dir(data_dir, db, tmp_path / "backup")
        written_after = len(written)
    finally:
        stop.set()
        thread.join()

    counts = report.row_counts
    assert counts["orders"] == counts["order_lines"]  # no transaction torn in half
    # The writer appends after COMMIT: at most one commit is not counted yet.
    assert written_before <= counts["orders"] <= written_after + 1
    # The copy is one file in rollback-journal mode: nothing beside it, no .partial left.
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["jwt.key", "qrstudio.db"]
    conn = sqlite3.connect(tmp_path / "backup" / "qrstudio.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == counts["orders"]
    conn.close()
    # Keys keep their owner-only mode.
    assert stat.S_IMODE((tmp_path / "backup" / "jwt.key").stat().st_mode) == 0o600
    assert report.other_files == ["jwt.key"]


def test_wal_and_shm_of_the_live_db_are_not_copied(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = _make_live_db(data_dir)
    holder = sqlite3.connect(db)  # keeps -wal and -shm present
    holder.execute("INSERT INTO orders(body) VALUES ('a')")
    holder.commit()
    assert (data_dir / "qrstudio.db-wal").exists()
    report = backup_data_dir(data_dir, db, tmp_path / "b")
    holder.close()
    assert report.other_files == ["jwt.key"]
    assert report.row_counts == {"order_lines": 0, "orders": 1}


def test_the_database_copy_is_owner_only_like_the_keys(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = _make_live_db(data_dir)
    previous = os.umask(0o022)  # the usual umask: new files would be 0644
    try:
        report = backup_data_dir(data_dir, db, tmp_path / "backup")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(report.database.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backup" / "jwt.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("case", ["not_empty", "is_a_file", "no_database"])
def test_refuses_a_destination_it_could_damage(tmp_path, case):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = _make_live_db(data_dir)
    dest = tmp_path / "dest"
    if case == "not_empty":
        dest.mkdir()
        (dest / "keep.txt").write_text("mine")
    elif case == "is_a_file":
        dest.write_text("mine")
    else:
        db = data_dir / "missing.db"
    with pytest.raises(BackupError):
        backup_data_dir(data_dir, db, dest)
    if case == "not_empty":
        assert [p.name for p in dest.iterdir()] == ["keep.txt"]
    if case == "is_a_file":
        assert dest.read_text() == "mine"
