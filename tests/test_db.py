import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qrstudio_box.clock import FakeClock
from qrstudio_box.db import (
    REBUILDS_TABLES,
    Database,
    SchemaTooNew,
    apply_migration,
    connect_sync,
    known_migrations,
    migrate,
)

REPO = Path(__file__).resolve().parent.parent


def run(coro):
    return asyncio.run(coro)


def test_pragmas_on_every_connection(tmp_path):
    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()
        values = await db.read(
            lambda conn: [
                conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                    "temp_store",
                )
            ]
        )
        writer = await db.write(
            lambda tx: [
                tx.fetchone(f"PRAGMA {name}")[0]
                for name in ("synchronous", "foreign_keys", "busy_timeout", "temp_store")
            ]
        )
        await db.close()
        return values, writer

    values, writer = run(go())
    assert values == ["wal", 1, 1, 5000, 2]
    assert writer == [1, 1, 5000, 2]


def test_migrations_apply_once_in_order(tmp_path):
    path = tmp_path / "q.db"
    conn = connect_sync(path)
    first = migrate(conn)
    assert first == [f"{version:04d}_{name}" for version, name, _ in known_migrations()]
    assert migrate(conn) == []
    rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [row[0] for row in rows] == [version for version, _, _ in known_migrations()]

    async def reopen():
        db = Database(path)
        applied = await db.open()
        await db.close()
        return applied

    assert run(reopen()) == []
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(
        known_migrations()
    )


def test_a_newer_database_refuses_to_start(tmp_path):
    path = tmp_path / "data" / "qrstudio.db"
    path.parent.mkdir()
    conn = connect_sync(path)
    migrate(conn)
    conn.execute(
        "INSERT INTO schema_migrations VALUES (9999, 'from_the_future', '2030-01-01T00:00:00Z')"
    )
    with pytest.raises(
        SchemaTooNew, match="schema version 9999 but this qrstudio-box knows only up to"
    ):
        migrate(conn)
    result = subprocess.run(
        [sys.executable, "-m", "qrstudio_box", "migrate"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "QRSTUDIO_STORAGE_DATA_DIR": str(path.parent)},
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "schema version 9999" in result.stderr


def test_write_rolls_back_everything_on_error(tmp_path):
    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()

        def half_then_fail(tx):
            tx.execute("INSERT INTO app_meta VALUES ('a', '1')")
            raise ValueError("boom")

        with pytest.raises(ValueError):
            await db.write(half_then_fail)
        rows = await db.fetchall("SELECT * FROM app_meta")
        await db.close()
        return rows

    assert run(go()) == []


def test_group_commit_shares_a_transaction_and_isolates_failures(tmp_path):
    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()
        commits = []
        await db.write(
            lambda tx: tx.conn.set_trace_callback(
                lambda sql: commits.append(sql) if sql == "COMMIT" else None
            )
        )

        def insert(tx, key):
            tx.on_commit(lambda: woken.append(key))
            tx.execute("INSERT INTO app_meta VALUES (?, 'v')", (key,))
            if key == "k13":
                raise ValueError("only this one fails")
            return key

        woken: list[str] = []
        results = await asyncio.gather(
            *(db.write_batched(insert, f"k{i}") for i in range(50)), return_exceptions=True
        )
        stored = {row[0] for row in await db.fetchall("SELECT key FROM app_meta")}
        await db.close()
        return results, stored, commits, woken

    results, stored, commits, woken = run(go())
    assert isinstance(results[13], ValueError)
    assert [r for i, r in enumerate(results) if i != 13] == [f"k{i}" for i in range(50) if i != 13]
    assert stored == {f"k{i}" for i in range(50)} - {"k13"}
    # 50 concurrent calls, far fewer commits: they were grouped.
    assert 1 <= len(commits) < 10
    assert sorted(woken) == sorted(stored)


def test_a_batch_without_failures_takes_no_savepoints_and_a_failure_reruns_the_rest_once(tmp_path):
    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()
        statements: list[str] = []
        await db.write(lambda tx: tx.conn.set_trace_callback(statements.append))
        runs: list[str] = []

        def insert(tx, key):
            runs.append(key)
            tx.on_commit(lambda: woken.append(key))
            tx.execute("INSERT INTO app_meta VALUES (?, 'v')", (key,))
            if key == "bad":
                raise ValueError("fails")

        woken: list[str] = []
        del statements[:]
        await asyncio.gather(*(db.write_batched(insert, f"a{i}") for i in range(5)))
        clean = list(statements)
        del runs[:], woken[:], statements[:]
        results = await asyncio.gather(
            db.write_batched(insert, "b1"),
            db.write_batched(insert, "bad"),
            db.write_batched(insert, "b2"),
            return_exceptions=True,
        )
        failed = list(statements)
        stored = {row[0] for row in await db.fetchall("SELECT key FROM app_meta")}
        await db.close()
        return clean, failed, runs, results, stored, woken

    clean, failed, runs, results, stored, woken = run(go())
    # one transaction, five inserts, not one savepoint
    assert [s.split(" ")[0] for s in clean] == ["BEGIN", *["INSERT"] * 5, "COMMIT"]
    # the failure: two inserts undone, then a savepoint around each of the three calls
    assert [s for s in failed if s.startswith(("SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "ROLLBACK",
        "BEGIN IMMEDIATE",
        "SAVEPOINT call",
        "SAVEPOINT call",
        "ROLLBACK TO call",
        "SAVEPOINT call",
        "COMMIT",
    ]
    assert runs == [
        "b1",
        "bad",
        "b1",
        "bad",
        "b2",
    ]  # optimistic pass stops at "bad"; then each alone
    assert results[0] is None and isinstance(results[1], ValueError) and results[2] is None
    assert stored == {"a0", "a1", "a2", "a3", "a4", "b1", "b2"}
    assert sorted(woken) == ["b1", "b2"]  # each announced once, the failed one never


def run_batched(tmp_path, foreground: int, background: int) -> list[tuple[int, str]]:
    """Queue `background` background calls, then `foreground` foreground ones, all at once;
    returns (commit number, key) in the order the writer ran them."""

    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()
        ran: list[tuple[int, str]] = []
        commits = [0]

        def count(sql):
            if sql == "COMMIT":
                commits[0] += 1

        await db.write(lambda tx: tx.conn.set_trace_callback(count))

        def insert(tx, key):
            ran.append((commits[0], key))
            tx.execute("INSERT INTO app_meta VALUES (?, 'v')", (key,))

        calls = [db.write_batched(insert, f"bg{i}", background=True) for i in range(background)]
        calls += [db.write_batched(insert, f"fg{i}") for i in range(foreground)]
        await asyncio.gather(*calls)
        await db.close()
        return ran

    return run(go())


def test_background_calls_go_after_foreground_ones_a_few_per_batch(tmp_path):
    from qrstudio_box.db import MAX_BACKGROUND

    ran = run_batched(tmp_path, foreground=5, background=40)
    assert [key for _, key in ran[:5]] == [f"fg{i}" for i in range(5)]  # queued last, ran first
    per_batch: dict[int, int] = {}
    for batch, key in ran:
        if key.startswith("bg"):
            per_batch[batch] = per_batch.get(batch, 0) + 1
    assert max(per_batch.values()) == MAX_BACKGROUND and sum(per_batch.values()) == 40
    assert [key for _, key in ran if key.startswith("bg")] == [
        f"bg{i}" for i in range(40)
    ]  # in order


def test_background_calls_join_even_a_full_batch_of_foreground_ones(tmp_path):
    """A flood of scans must not starve the delivery records (their leases would run out)."""
    from qrstudio_box.db import MAX_BACKGROUND, MAX_BATCH

    ran = run_batched(tmp_path, foreground=2 * MAX_BATCH, background=MAX_BACKGROUND + 1)
    first_batch = ran[0][0]
    in_first = [key for batch, key in ran if batch == first_batch]
    assert len(in_first) == MAX_BATCH + MAX_BACKGROUND
    assert in_first[-MAX_BACKGROUND:] == [
        f"bg{i}" for i in range(MAX_BACKGROUND)
    ]  # after the scans


def test_a_before_commit_step_runs_once_per_batch_and_not_for_a_call_that_failed(tmp_path):
    """Steps registered by the calls of a batch run once before its COMMIT, also after the
    savepoint rerun; the failed call's registration is undone with its work."""

    async def go():
        db = Database(tmp_path / "q.db")
        await db.open()
        steps: list[str] = []

        def step_a(tx):
            steps.append("a")

        def step_b(tx):
            steps.append("b")

        def insert(tx, key, step):
            tx.before_commit(step)
            tx.execute("INSERT INTO app_meta VALUES (?, 'v')", (key,))
            if key == "bad":
                raise ValueError("fails")

        await asyncio.gather(
            db.write_batched(insert, "k1", step_a), db.write_batched(insert, "k2", step_a)
        )
        clean = list(steps)
        del steps[:]
        results = await asyncio.gather(
            db.write_batched(insert, "k3", step_a),
            db.write_batched(insert, "bad", step_b),
            return_exceptions=True,
        )
        await db.close()
        return clean, list(steps), results

    clean, rerun, results = run(go())
    assert clean == ["a"]  # two calls registered it: it ran once
    assert isinstance(results[1], ValueError)
    assert rerun == ["a"]  # after the rerun: once, and never the failed call's step_b


def test_readers_see_committed_writes(tmp_path):
    async def go():
        db = Database(tmp_path / "q.db", readers=3)
        await db.open()
        await db.write(lambda tx: tx.execute("INSERT INTO app_meta VALUES ('x', 'y')"))
        seen = [await db.fetchone("SELECT value FROM app_meta WHERE key='x'") for _ in range(3)]
        await db.close()
        return [row[0] for row in seen]

    assert run(go()) == ["y", "y", "y"]


def test_foreign_keys_are_enforced(tmp_path):
    conn = connect_sync(tmp_path / "q.db")
    migrate(conn)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO events (id, owner_id, type, created_at, body)"
            " VALUES ('evt_x', 999, 't', 'now', x'00')"
        )


async def capped_database(path: Path) -> Database:
    """A database whose file may not grow past its size (PRAGMA max_page_count): a full disk
    without root's reserved blocks. Its table `filler` takes the writes."""
    db = Database(path)
    await db.open()
    await db.write(lambda tx: tx.execute("CREATE TABLE filler (b BLOB)"))
    pages = (await db.write(lambda tx: tx.fetchone("PRAGMA page_count")))[0]
    await db.write(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages}"))
    return db


def fill_up(tx) -> None:
    for _ in range(100):
        tx.execute("INSERT INTO filler VALUES (zeroblob(3000))")


def test_a_write_that_fills_the_disk_raises_the_disk_error_not_the_rollbacks(tmp_path):
    # SQLite rolls back by itself after SQLITE_FULL; a ROLLBACK then raised "cannot rollback -
    # no transaction is active", which is what the log showed instead of the real error.
    async def go():
        db = await capped_database(tmp_path / "q.db")
        with pytest.raises(sqlite3.OperationalError) as raised:
            await db.write(fill_up)
        after = await db.write(lambda tx: tx.fetchone("SELECT count(*) FROM filler")[0])
        await db.close()
        return str(raised.value), after

    error, rows = run(go())
    assert error == "database or disk is full"
    assert rows == 0


def test_a_group_commit_that_fills_the_disk_fails_with_the_disk_error(tmp_path):
    # SQLITE_FULL inside a batch's savepoint rerun rolls the whole transaction back: "ROLLBACK
    # TO call" then raised "no such savepoint: call" in place of the real error.
    async def go():
        db = await capped_database(tmp_path / "q.db")

        def small(tx):
            tx.execute("INSERT INTO filler VALUES (1)")

        outcomes = await asyncio.gather(
            db.write_batched(small), db.write_batched(fill_up), return_exceptions=True
        )
        rows = await db.read(lambda conn: conn.execute("SELECT count(*) FROM filler").fetchone())
        problem = await db.write_problem()
        await db.close()
        return [str(outcome) for outcome in outcomes], rows[0], problem

    outcomes, rows, problem = run(go())
    assert outcomes == ["database or disk is full", "database or disk is full"]
    assert rows == 0
    assert problem == "database or disk is full"


@pytest.mark.parametrize("rebuilds", [False, True])
def test_a_failing_migration_rolls_back_and_leaves_the_connection_clean(tmp_path, rebuilds):
    conn = connect_sync(tmp_path / "q.db")
    migrate(conn)
    sql = "CREATE TABLE half_done (a INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    if rebuilds:
        sql = f"{REBUILDS_TABLES}\n{sql}"
    with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
        apply_migration(conn, 9999, "broken", sql, FakeClock())
    assert not conn.in_transaction
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0]
        == 0
    )
    assert (
        conn.execute("SELECT count(*) FROM schema_migrations WHERE version = 9999").fetchone()[0]
        == 0
    )


def test_only_a_rebuilding_migration_runs_with_foreign_keys_off(tmp_path):
    conn = connect_sync(tmp_path / "q.db")
    migrate(conn)
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY,"
        " parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)"
    )
    conn.execute("INSERT INTO parent VALUES (1)")
    conn.execute("INSERT INTO child VALUES (1, 1)")
    # Foreign keys on: the delete cascades.
    apply_migration(conn, 9998, "cascades", "DELETE FROM parent WHERE id = 1;", FakeClock())
    assert conn.execute("SELECT count(*) FROM child").fetchone()[0] == 0
    conn.execute("INSERT INTO parent VALUES (2)")
    conn.execute("INSERT INTO child VALUES (2, 2)")
    # Foreign keys off: no cascade, and the check refuses the orphan it would leave.
    with pytest.raises(RuntimeError, match="left 1 rows whose reference is missing"):
        apply_migration(
            conn,
            9997,
            "orphans",
            f"{REBUILDS_TABLES}\nDELETE FROM parent WHERE id = 2;",
            FakeClock(),
        )
    assert conn.execute("SELECT count(*) FROM parent").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
