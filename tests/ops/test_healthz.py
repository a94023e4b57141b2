"""/healthz answers for writes too: a database that cannot take one is a 503 with the reason.

A real full disk is hard to make as root (ext4 keeps root's reserve), so the writer's file is
capped with SQLite's ``PRAGMA max_page_count``: past it every write that needs a page fails
with the very error a full disk gives, "database or disk is full".
"""

import sqlite3

from qrstudio_box.db import WRITE_CHECK_INTERVAL


def fill_the_database(client, db) -> None:
    """Cap the file at its size and use up its free pages (through the app's own writer)."""

    async def fill() -> None:
        await db.write(lambda tx: tx.execute("CREATE TABLE filler (b BLOB)"))
        pages = (await db.write(lambda tx: tx.fetchone("PRAGMA page_count")))[0]
        await db.write(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages}"))
        while True:
            try:
                await db.write(lambda tx: tx.execute("INSERT INTO filler VALUES (zeroblob(500))"))
            except sqlite3.OperationalError as error:
                assert str(error) == "database or disk is full"
                break
        # A table's split may need two pages and so leave one free (a migration that dropped
        # tables leaves some): take the last ones with tables of one page each.
        for n in range(100):
            try:
                await db.write(lambda tx, n=n: tx.execute(f"CREATE TABLE filler_{n} (b BLOB)"))
            except sqlite3.OperationalError as error:
                assert str(error) == "database or disk is full"
                return

    client.blocking_portal.call(fill)


def make_room(client, db) -> None:
    """Space returns, as when an operator frees the disk: not through one of the app's writes."""

    async def uncap() -> None:
        await db._writer.execute("PRAGMA max_page_count = 1073741823")

    client.blocking_portal.call(uncap)


def test_healthz_is_503_with_the_reason_while_writes_fail_and_recovers_by_itself(
    client, ctx, fake_clock
):
    healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["database"] == "ok"

    fill_the_database(client, ctx.db)
    # The last write's outcome (the filler's, refused) answers at once...
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["database"] == "cannot write: database or disk is full"
    # ...and a probe write once that outcome is old: the disk is still full.
    fake_clock.advance(seconds=WRITE_CHECK_INTERVAL.total_seconds())
    still = client.get("/healthz")
    assert still.status_code == 503
    assert still.json()["database"] == "cannot write: database or disk is full"

    make_room(client, ctx.db)
    # At most one probe per interval: the answer stands until the next one is due.
    assert client.get("/healthz").status_code == 503
    fake_clock.advance(seconds=WRITE_CHECK_INTERVAL.total_seconds())
    back = client.get("/healthz")
    assert back.status_code == 200
    assert back.json() == {**healthy.json(), "status": "ok", "database": "ok"}


def test_the_probe_write_leaves_nothing_behind(client, ctx, fake_clock, sql):
    before = sql("SELECT version, name FROM schema_migrations ORDER BY version")
    fake_clock.advance(seconds=WRITE_CHECK_INTERVAL.total_seconds() * 2)
    assert client.get("/healthz").status_code == 200
    assert sql("SELECT version, name FROM schema_migrations ORDER BY version") == before
