"""The scan rollups and the stats reads, on a real SQLite file: rollups and sketches agree
with what the raw scans say."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from qrstudio_box.db import connect_sync, migrate, write_sync
from qrstudio_box.links import store
from qrstudio_box.links.sketch import register_and_low_bit

DAY_MS = 86_400_000
FIRST_DAY = 20_500  # a day number; 20_500 % 16 == 4, so ranges cross block edges


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    conn = connect_sync(tmp_path_factory.mktemp("rollups") / "q.db")
    migrate(conn)
    conn.execute(
        "INSERT INTO workspaces (id, name, plan, created_at)"
        " VALUES (1, 'a@example.com', 'free', 't')"
    )
    conn.execute(
        "INSERT INTO dynamic_qrs (id, short_id, owner_id, name, destination_url, created_at,"
        " updated_at) VALUES (1, 'aaaaaaaa', 1, 'n', 'https://x/', 't', 't')"
    )
    rng = random.Random(5)
    scanners = [rng.getrandbits(64) - 2**63 for _ in range(3000)]
    rows = []
    for _ in range(20_000):
        day = FIRST_DAY + rng.randrange(100)
        rows.append(
            (
                1,
                day * DAY_MS + rng.randrange(DAY_MS),
                "https://x/",
                rng.choice("AB"),
                rng.choice(["CA", "DE", ""]),
                rng.choice(["Montreal", "Berlin", ""]),
                "iPhone",
                "iOS",
                "Mobile Safari",
                rng.choice(["", "https://www.google.com/search?q=1", "https://t.co"]),
                "ua",
                int(rng.random() < 0.1),
                rng.choice(scanners),
            )
        )
    write_sync(conn, store.insert_scans, rows)
    yield conn, rows
    conn.close()


def raw_registers(rows, day_from, day_to, flags):
    registers: dict[int, int] = {}
    for row in rows:
        if day_from <= row[1] // DAY_MS <= day_to and row[11] in flags:
            register, low_bit = register_and_low_bit(row[12])
            registers[register] = max(registers.get(register, 0), low_bit)
    return registers


@pytest.mark.parametrize("bots", ["exclude", "include", "only"])
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 99),
        (0, 0),
        (3, 40),
        (12, 27),
        (11, 28),
        (12, 12),
        (5, 9),
        (60, 150),
        (-30, 10),
        (50, 51),
    ],
)
def test_sketch_blocks_and_edges_equal_the_raw_scans(loaded, bots, start, end):
    conn, rows = loaded
    flags = {"exclude": (0,), "include": (0, 1), "only": (1,)}[bots]
    got = dict(store.sketch_registers(conn, 1, FIRST_DAY + start, FIRST_DAY + end, bots))
    assert got == raw_registers(rows, FIRST_DAY + start, FIRST_DAY + end, flags)


def test_rollups_equal_the_raw_scans(loaded):
    conn, rows = loaded
    day_from, day_to = FIRST_DAY + 10, FIRST_DAY + 50
    in_range = [r for r in rows if day_from <= r[1] // DAY_MS <= day_to]
    counts = {
        (r["dimension"], r["value"], r["is_bot"]): r["scans"]
        for r in store.rollup_counts(conn, 1, day_from, day_to)
    }
    assert counts[("country", "CA", 0)] == sum(1 for r in in_range if r[4] == "CA" and not r[11])
    assert counts[("city", "DE\tBerlin", 1)] == sum(
        1 for r in in_range if (r[4], r[5], r[11]) == ("DE", "Berlin", 1)
    )
    assert counts[("referer", "https://www.google.com/", 0)] == sum(
        1 for r in in_range if r[9].startswith("https://www.google.com/") and not r[11]
    )
    assert counts[("referer", "https://t.co/", 0)] == sum(
        1 for r in in_range if r[9] == "https://t.co" and not r[11]
    )
    per_day = {
        r["day"]: r["scans"] for r in store.rollup_per_day(conn, 1, day_from, day_to, "include")
    }
    assert per_day == dict(Counter(r[1] // DAY_MS for r in in_range))
    assert conn.execute("SELECT scan_count FROM dynamic_qrs").fetchone()[0] == len(rows)


# -- rollups per transaction (0005): the mark, retention and the upgrade from the trigger --------


def _fresh(tmp_path, up_to: int | None = None):
    """A database with a user and a QR; migrations up to `up_to` (all when None)."""
    from qrstudio_box.db import known_migrations, schema_version

    conn = connect_sync(tmp_path / "q.db")
    if up_to is None:
        migrate(conn)
    else:
        schema_version(conn)  # creates the bookkeeping table as migrate() does
        for version, name, sql in known_migrations():
            if version <= up_to:
                conn.executescript(sql)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 't')", (version, name))
    if up_to is None or up_to >= 8:  # owners are workspaces from 0008 on, users before
        conn.execute(
            "INSERT INTO workspaces (id, name, plan, created_at)"
            " VALUES (1, 'a@example.com', 'free', 't')"
        )
    else:
        conn.execute(
            "INSERT INTO users (id, email, password_hash, role, plan, is_active, created_at)"
            " VALUES (1, 'a@example.com', 'x', 'member', 'free', 1, 't')"
        )
    conn.execute(
        "INSERT INTO dynamic_qrs (id, short_id, owner_id, name, destination_url, created_at,"
        " updated_at) VALUES (1, 'aaaaaaaa', 1, 'n', 'https://x/', 't', 't')"
    )
    return conn


def _scan(day: int = FIRST_DAY, country: str = "CA") -> tuple:
    return (
        1,
        day * DAY_MS,
        "https://x/",
        "A",
        country,
        "",
        "iPhone",
        "iOS",
        "Safari",
        "",
        "ua",
        0,
        7,
    )


def _counts(conn) -> tuple[int, int, int]:
    """(scan_count, the country rollups' total, scan_usage's total)"""
    return (
        conn.execute("SELECT scan_count FROM dynamic_qrs WHERE id = 1").fetchone()[0],
        conn.execute(
            "SELECT coalesce(sum(scans), 0) FROM scan_rollups WHERE dimension = 'country'"
        ).fetchone()[0],
        conn.execute("SELECT coalesce(sum(scans), 0) FROM scan_usage").fetchone()[0],
    )


def test_each_transaction_counts_its_own_scans_once(tmp_path):
    conn = _fresh(tmp_path)
    write_sync(conn, store.insert_scan, _scan())
    write_sync(conn, store.insert_scans, [_scan(), _scan(country="DE")])
    write_sync(conn, lambda tx: tx.execute("UPDATE dynamic_qrs SET name = 'm'"))  # no scans in it
    assert _counts(conn) == (3, 3, 3)
    assert [
        tuple(row)
        for row in conn.execute(
            "SELECT value, scans FROM scan_rollups WHERE dimension = 'country' ORDER BY value"
        )
    ] == [("CA", 2), ("DE", 1)]


def test_a_rowid_reused_after_retention_is_still_counted(tmp_path):
    from qrstudio_box.ops.store import prune_scans

    conn = _fresh(tmp_path)
    write_sync(conn, store.insert_scans, [_scan() for _ in range(3)])
    assert write_sync(conn, prune_scans, (FIRST_DAY + 1) * DAY_MS, 100) == 3  # every scan goes
    new_id = write_sync(conn, store.insert_scan, _scan())
    assert new_id == 1  # SQLite reused the rowid: below the old mark of 3
    assert _counts(conn) == (4, 4, 4)


def test_upgrading_from_the_trigger_counts_old_scans_once(tmp_path):
    conn = _fresh(tmp_path, up_to=4)
    conn.executemany(store.INSERT_SCAN, [_scan() for _ in range(2)])  # counted by the 0002 trigger
    conn.commit()
    assert _counts(conn) == (2, 2, 2)
    assert migrate(conn)[0] == "0005_rollups_per_transaction"  # and any later ones
    write_sync(conn, store.insert_scan, _scan())
    assert _counts(conn) == (3, 3, 3)
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 0
    )
