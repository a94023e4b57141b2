"""SQLite in WAL mode: one writer, a few readers, numbered migrations, and group commit.

We ride aiosqlite's own worker thread through `Connection._execute(fn, ...)`, which runs a
callable in the thread that owns the connection: that is what keeps a whole transaction to
one hop. It is the one private name we use, and only in this module.

Every write is one synchronous function run whole in the writer's thread inside
`BEGIN IMMEDIATE ... COMMIT`: one thread hop per transaction instead of one per statement,
and no transaction ever stays open across an `await` on the network. Concurrent
`write_batched` calls share one transaction (group commit); each caller resumes only once
the transaction holding its work has committed, so nothing is acknowledged before it is
durable.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from importlib import resources
from itertools import cycle
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .clock import Clock, SystemClock, iso_s

log = logging.getLogger(__name__)

T = TypeVar("T")

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",
)

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# One group-commit transaction holds at most this many calls, so one huge burst cannot make
# the first caller wait for the last.
MAX_BATCH = 512
# Background calls (the webhook dispatcher's records) ride along at most this many per batch,
# after the batch's foreground calls (scans): a burst of finished deliveries then costs a scan
# at most this much extra work ahead of it, instead of the whole burst.
MAX_BACKGROUND = 16
# /healthz asks whether the database can be written. The outcome of the last write transaction
# answers while it is younger than this; after that a small probe write does (so at most one
# probe per interval, and none at all while scans or other writes keep coming).
WRITE_CHECK_INTERVAL = timedelta(seconds=5)
# SQLite's primary result codes that mean the file cannot take a write: full (disk or
# max_page_count), I/O error, read-only, gone, corrupt, not a database.
_STORAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    }
)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer qrstudio-box than this one."""


class Tx:
    """The write transaction handed to store functions (runs in the writer thread)."""

    __slots__ = ("conn", "clock", "settings", "outbox", "_on_commit", "_before_commit")

    def __init__(
        self, conn: sqlite3.Connection, clock: Clock, settings: Any = None, outbox: Any = None
    ) -> None:
        self.conn = conn
        self.clock = clock
        # The app's Settings, for rules that depend on config inside a write (None in bare tools).
        self.settings = settings
        # The app's events.Outbox: who hears of an event emitted in this transaction (None: nobody).
        self.outbox = outbox
        self._on_commit: list[Callable[[], Any]] = []
        self._before_commit: list[Callable[[Tx], Any]] = []

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run `callback` on the event loop once this transaction has committed."""
        self._on_commit.append(callback)

    def before_commit(self, step: Callable[[Tx], Any]) -> None:
        """Run `step(tx)` once at the end of this transaction, just before COMMIT.

        A group commit runs each distinct step once for all its calls, after all of them: work
        that can be done for a whole batch at once (the scan rollups) is registered here.
        """
        if step not in self._before_commit:
            self._before_commit.append(step)


def _run_before_commit(txs: Iterable[Tx]) -> None:
    steps: dict[Callable[[Tx], Any], Tx] = {}
    for tx in txs:
        for step in tx._before_commit:
            steps.setdefault(step, tx)
    for step, tx in steps.items():
        step(tx)


def _run_callbacks(callbacks: list[Callable[[], Any]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failed wake-up must not turn a committed write into an error
            log.exception("on_commit callback failed")


def storage_problem(error: BaseException) -> str | None:
    """The reason when `error` says the database file cannot be written, else None."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _STORAGE_CODES:
        return str(error)
    return None


def probe_write(tx: Tx) -> None:
    """A write that needs a fresh page, undone before COMMIT: nobody ever sees the row, but a
    database file that cannot grow (or a WAL that cannot take the frames) refuses it.

    schema_migrations is this module's own tiny table; version -1 is never a migration.
    """
    page_size = tx.fetchone("PRAGMA page_size")[0]
    tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at)"
        " VALUES (-1, 'write check', zeroblob(?))",
        (page_size,),
    )
    tx.execute("DELETE FROM schema_migrations WHERE version = -1")


def apply_pragmas(conn: sqlite3.Connection) -> None:
    for pragma in PRAGMAS:
        conn.execute(pragma)


def connect_sync(path: str | Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with our pragmas (the CLI and tests use it)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    apply_pragmas(conn)
    return conn


def write_sync(
    conn: sqlite3.Connection,
    fn: Callable[..., T],
    *args: Any,
    clock: Clock | None = None,
    settings: Any = None,
    outbox: Any = None,
) -> T:
    """The synchronous twin of Database.write, for the CLI (no on_commit wake-ups there)."""
    return _run_one(Tx(conn, clock or SystemClock(), settings, outbox), fn, args)


def _run_one(tx: Tx, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """`fn(tx, *args)` in one BEGIN IMMEDIATE transaction; rolled back if anything raises."""
    tx.conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(tx, *args)
        _run_before_commit([tx])
        tx.conn.execute("COMMIT")
    except BaseException:
        # Some errors (disk full, I/O) end the transaction already: a ROLLBACK then would raise
        # "no transaction is active" in place of the real error.
        if tx.conn.in_transaction:
            tx.conn.execute("ROLLBACK")
        raise
    return result


def _run_isolated(
    conn: sqlite3.Connection, tx: Tx, fn: Callable[..., Any], args: tuple[Any, ...]
) -> tuple[bool, Any]:
    """One call of a group commit inside its own savepoint: (True, result) or (False, error)."""
    tx._on_commit.clear()  # whatever an undone earlier run of it registered
    tx._before_commit.clear()
    conn.execute("SAVEPOINT call")
    try:
        result = fn(tx, *args)
    except Exception as error:
        if not conn.in_transaction:
            # SQLite rolled the whole transaction back (disk full, I/O error): every call's work
            # is gone, so the batch fails with this error (not "no such savepoint").
            raise
        conn.execute("ROLLBACK TO call")
        conn.execute("RELEASE call")
        tx._on_commit.clear()  # its work is undone: nothing to announce
        tx._before_commit.clear()
        return False, error
    conn.execute("RELEASE call")
    return True, result


def known_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in qrstudio_box/migrations, in order."""
    found = []
    for entry in resources.files("qrstudio_box.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def schema_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


# First line of a migration that rebuilds a table others reference (0008 moves owner_id from
# users to workspaces): it runs with foreign keys OFF, SQLite's procedure for that (with them
# on, dropping the old table would cascade to its children), and every reference is checked
# before its COMMIT. Only such migrations pay for the check (seconds on a large database), and
# in them a DELETE of a parent does not cascade: delete the children explicitly.
REBUILDS_TABLES = "-- qrstudio: rebuilds tables"


def apply_migration(
    conn: sqlite3.Connection, version: int, name: str, sql: str, clock: Clock
) -> None:
    """One migration in its own transaction, recorded in schema_migrations."""
    rebuilds = sql.startswith(REBUILDS_TABLES)
    if rebuilds:
        conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: before BEGIN
    try:
        # executescript commits any open transaction first, so the script opens its own.
        conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;")
        if rebuilds:
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(
                    f"migration {version:04d}_{name} left {len(broken)} rows whose reference"
                    f" is missing, first in table {broken[0][0]}"
                )
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (version, name, iso_s(clock.now())),
        )
        conn.execute("COMMIT")
    except BaseException:
        # A statement of the script that failed leaves its transaction open: end it here, or
        # the connection stays inside it (and the pragma below would be a no-op).
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if rebuilds:
            conn.execute("PRAGMA foreign_keys = ON")


def migrate(conn: sqlite3.Connection, clock: Clock | None = None) -> list[str]:
    """Apply the migrations this database lacks, each once, each in its own transaction."""
    clock = clock or SystemClock()
    migrations = known_migrations()
    newest_known = migrations[-1][0] if migrations else 0
    current = schema_version(conn)
    if current > newest_known:
        raise SchemaTooNew(
            f"the database is at schema version {current} but this qrstudio-box knows only up to "
            f"{newest_known}: upgrade qrstudio-box (or restore a backup made by this version)"
        )
    applied = []
    for version, name, sql in migrations:
        if version <= current:
            continue
        apply_migration(conn, version, name, sql, clock)
        applied.append(f"{version:04d}_{name}")
    return applied


class Database:
    def __init__(
        self,
        path: str | Path,
        clock: Clock | None = None,
        readers: int = 2,
        settings: Any = None,
        outbox: Any = None,
    ) -> None:
        self.path = Path(path)
        self.clock = clock or SystemClock()
        self.settings = settings
        # The app's events.Outbox, handed to every transaction (events.emit tells its subscribers).
        self.outbox = outbox
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader: Any = None
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._background: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        # (when, why not) of the last write transaction's outcome; None for "it committed"
        self._last_write: tuple[datetime, str | None] | None = None

    async def open(self) -> list[str]:
        """Connect, set pragmas, migrate; returns the migrations applied now."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        applied = await self._writer._execute(migrate, self._writer._conn, self.clock)
        self._readers = [await self._connect() for _ in range(self._reader_count)]
        self._next_reader = cycle(self._readers)
        return applied

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn._execute(apply_pragmas, conn._conn)
        return conn

    async def close(self) -> None:
        if self._drainer is not None:
            await asyncio.shield(self._drainer)
        for conn in [*self._readers, *([self._writer] if self._writer else [])]:
            await conn.close()
        self._readers, self._writer = [], None

    # -- writes ---------------------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(tx, *args)` in one BEGIN IMMEDIATE transaction; re-raise after rollback."""
        writer = self._require_writer()
        tx = Tx(writer._conn, self.clock, self.settings, self.outbox)
        try:
            result = await writer._execute(_run_one, tx, fn, args)
        except BaseException as error:
            problem = storage_problem(error)
            if problem:  # other errors (a 4xx rolling back its work) say nothing of the disk
                self._note_write(problem)
            raise
        self._note_write(None)
        _run_callbacks(tx._on_commit)
        return result

    async def write_batched(self, fn: Callable[..., T], *args: Any, background: bool = False) -> T:
        """Like write(), but shares a transaction with concurrent calls (group commit).

        `background` calls wait behind foreground ones and join a batch at most MAX_BACKGROUND
        at a time: for work nobody is waiting on at a screen or a scanner (delivery records).
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        (self._background if background else self._pending).append((fn, args, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        writer = self._require_writer()
        while self._pending or self._background:
            # Up to MAX_BACKGROUND background calls join every batch, even a full one: under a
            # flood of scans the delivery records would otherwise wait until their leases ran out.
            batch = self._pending[:MAX_BATCH] + self._background[:MAX_BACKGROUND]
            del self._pending[:MAX_BATCH], self._background[:MAX_BACKGROUND]
            calls = [
                (Tx(writer._conn, self.clock, self.settings, self.outbox), fn, args)
                for fn, args, _ in batch
            ]
            try:
                outcomes = await writer._execute(self._run_batch, writer._conn, calls)
            except BaseException as error:  # the COMMIT itself failed: nobody's work is durable
                self._note_write(storage_problem(error) or self._last_problem())
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            # The batch committed, but a call that failed for want of space says the disk is full.
            problems = [storage_problem(value) for ok, value in outcomes if not ok]
            self._note_write(next((problem for problem in problems if problem), None))
            for (tx, _, _), (_, _, future), (ok, value) in zip(calls, batch, outcomes, strict=True):
                if ok:
                    _run_callbacks(tx._on_commit)
                if future.done():  # the caller went away; its write stands
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    @staticmethod
    def _run_batch(
        conn: sqlite3.Connection, calls: list[tuple[Tx, Callable[..., Any], tuple[Any, ...]]]
    ) -> list[tuple[bool, Any]]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            try:
                # Optimistic: no savepoints while every call succeeds (two statements saved per
                # call, on the path every scan takes).
                outcomes: list[tuple[bool, Any]] = [(True, fn(tx, *args)) for tx, fn, args in calls]
            except Exception:
                # One call failed: undo the batch and run it again with a savepoint per call, so
                # only the failing call's work is rolled back. Hence a write function may run
                # twice and must have no effects outside its transaction but on_commit callbacks.
                if conn.in_transaction:  # some errors (disk full...) end the transaction already
                    conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                outcomes = [_run_isolated(conn, tx, fn, args) for tx, fn, args in calls]
            # A failing step fails the whole batch: its work spans every call.
            _run_before_commit(tx for tx, _, _ in calls)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes

    # -- is it writable? ---------------------------------------------------------------------

    def _note_write(self, problem: str | None) -> None:
        self._last_write = (self.clock.now(), problem)

    def _last_problem(self) -> str | None:
        return self._last_write[1] if self._last_write else None

    async def write_problem(self) -> str | None:
        """Why the database cannot be written now ("database or disk is full"), or None.

        The last write's outcome answers while it is recent (WRITE_CHECK_INTERVAL); otherwise a
        probe write does. So the answer recovers by itself once space returns.
        """
        if self._last_write is not None:
            at, problem = self._last_write
            if timedelta(0) <= self.clock.now() - at < WRITE_CHECK_INTERVAL:
                return problem
        try:
            await self.write(probe_write)
        except sqlite3.Error as error:
            problem = storage_problem(error) or str(error)
            self._note_write(problem)
            return problem
        return None

    # -- reads ----------------------------------------------------------------------------

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on a reader connection (sees everything committed)."""
        if not self._readers:
            raise RuntimeError("database is not open")
        reader: aiosqlite.Connection = next(self._next_reader)
        return await reader._execute(fn, reader._conn, *args)

    async def fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> sqlite3.Row | None:
        return await self.read(lambda conn: conn.execute(sql, params).fetchone())

    async def fetchall(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[sqlite3.Row]:
        return await self.read(lambda conn: conn.execute(sql, params).fetchall())

    async def maintain(self) -> None:
        """Periodic upkeep: let SQLite refresh its statistics and fold the WAL back."""

        def upkeep(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA optimize")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

        writer = self._require_writer()
        await writer._execute(upkeep, writer._conn)

    def _require_writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer
