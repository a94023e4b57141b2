"""The scans trigger and the stats reads, on a real SQLite file: rollups and sketches agree
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
    conn.execute("INSERT INTO users (id, email, password_hash, role, plan, is_active, created_at)"
                 " VALUES (1, 'a@example.com', 'x', 'member', 'free', 1, 't')")
    conn.execute("INSERT INTO dynamic_qrs (id, short_id, owner_id, name, destination_url, created_at,"
                 " updated_at) VALUES (1, 'aaaaaaaa', 1, 'n', 'https://x/', 't', 't')")
    rng = random.Random(5)
    scanners = [rng.getrandbits(64) - 2**63 for _ in range(3000)]
    rows = []
    for _ in range(20_000):
        day = FIRST_DAY + rng.randrange(100)
        rows.append((1, day * DAY_MS + rng.randrange(DAY_MS), "https://x/", rng.choice("AB"),
                     rng.choice(["CA", "DE", ""]), rng.choice(["Montreal", "Berlin", ""]), "iPhone", "iOS",
                     "Mobile Safari", rng.choice(["", "https://www.google.com/search?q=1", "https://t.co"]),
                     "ua", int(rng.random() < 0.1), rng.choice(scanners)))
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
    [(0, 99), (0, 0), (3, 40), (12, 27), (11, 28), (12, 12), (5, 9), (60, 150), (-30, 10), (50, 51)],
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
    counts = {(r["dimension"], r["value"], r["is_bot"]): r["scans"]
              for r in store.rollup_counts(conn, 1, day_from, day_to)}
    assert counts[("country", "CA", 0)] == sum(1 for r in in_range if r[4] == "CA" and not r[11])
    assert counts[("city", "DE\tBerlin", 1)] == sum(1 for r in in_range if (r[4], r[5], r[11]) == ("DE", "Berlin", 1))
    assert counts[("referer", "https://www.google.com/", 0)] == sum(
        1 for r in in_range if r[9].startswith("https://www.google.com/") and not r[11])
    assert counts[("referer", "https://t.co/", 0)] == sum(1 for r in in_range if r[9] == "https://t.co" and not r[11])
    per_day = {r["day"]: r["scans"] for r in store.rollup_per_day(conn, 1, day_from, day_to, "include")}
    assert per_day == dict(Counter(r[1] // DAY_MS for r in in_range))
    assert conn.execute("SELECT scan_count FROM dynamic_qrs").fetchone()[0] == len(rows)
