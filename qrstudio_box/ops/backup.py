"""`qrstudio-box backup PATH`: a consistent copy of a live data_dir.

PATH becomes a complete data_dir: the database (through SQLite's online backup API) and
every other file of data_dir (the JWT key, the secrets key, ...), so a restore is "point
data_dir at it". The database is copied in ONE backup step, that is under one read
transaction: in WAL mode that is a consistent snapshot that never blocks the server's
writer, and it cannot be restarted by concurrent writes the way a paged backup is.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

# The database's companions that belong to the live file only, never to a copy.
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup that cannot be made or did not verify; the message is one line for the CLI."""


@dataclass
class BackupReport:
    directory: Path
    database: Path
    database_bytes: int
    row_counts: dict[str, int]
    other_files: list[str] = field(default_factory=list)


def backup_data_dir(data_dir: Path, database: Path, destination: Path) -> BackupReport:
    """Copy the live database and the files beside it into `destination` (new or empty)."""
    data_dir, database, destination = Path(data_dir), Path(database), Path(destination)
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    _prepare_destination(destination)

    target = destination / database.name
    partial = target.with_name(target.name + ".partial")
    copy_database(database, partial)
    row_counts = verify_database(partial)
    _fsync_file(partial)
    os.replace(partial, target)  # a half-written copy never carries the real name

    other_files = []
    for path in sorted(data_dir.iterdir()):
        if not path.is_file() or _belongs_to_live_database(path, database):
            continue
        shutil.copy2(path, destination / path.name)  # copy2 keeps the 0600 mode of keys
        _fsync_file(destination / path.name)
        other_files.append(path.name)
    _fsync_dir(destination)
    return BackupReport(
        directory=destination,
        database=target,
        database_bytes=target.stat().st_size,
        row_counts=row_counts,
        other_files=other_files,
    )


def copy_database(source: Path, target: Path) -> None:
    """SQLite online backup of `source` into a new file `target` (0600), in one step."""
    # The copy holds what the keys protect (password hashes, sealed secrets): owner-only like
    # them, from its first byte (sqlite3 would create it with the umask's 0644).
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)
    src = sqlite3.connect(source, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            # The copy is one self-contained file: no -wal beside it. The server turns WAL
            # back on when it opens a restored copy.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def verify_database(path: Path) -> dict[str, int]:
    """integrity_check must say ok; returns the row count of every table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"integrity_check of {path} failed: {'; '.join(result[:3])}")
        return table_row_counts(conn)
    finally:
        conn.close()


def table_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    # Table names come from sqlite_master itself; quoting keeps odd names safe.
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _prepare_destination(destination: Path) -> None:
    if destination.exists():
        if not destination.is_dir():
            raise BackupError(f"{destination} exists and is not a directory")
        if any(destination.iterdir()):
            raise BackupError(f"{destination} is not empty: give a new or empty directory")
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)


def _belongs_to_live_database(path: Path, database: Path) -> bool:
    if path.name == database.name:
        return True
    return any(path.name == database.name + suffix for suffix in _SQLITE_SIDECARS)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
