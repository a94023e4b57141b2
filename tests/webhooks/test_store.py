"""The claim query on a real SQLite file: its rules, and that it stays on its indexes."""

import pytest

from qrstudio_box.clock import FakeClock
from qrstudio_box.db import Tx, connect_sync, migrate
from qrstudio_box.webhooks import store

NOW = 1_800_000_000_000


@pytest.fixture
def db(tmp_path):
    conn = connect_sync(tmp_path / "q.db")
    migrate(conn)
    conn.execute(
        "INSERT INTO workspaces (id, name, plan, created_at) VALUES (1, 'a@x', 'pro', 't')"
    )
    conn.execute(
        "INSERT INTO events (seq, id, owner_id, type, created_at, body)"
        " VALUES (1, 'evt_1', 1, 'scan.created', 't', x'7b7d')"
    )
    for webhook_id, status in ((1, "active"), (2, "degraded"), (3, "disabled")):
        conn.execute(
            "INSERT INTO webhooks (id, owner_id, url, events, secret_sealed, status,"
            " created_at, updated_at) VALUES (?, 1, 'https://x', '[]', 's', ?, 't', 't')",
            (webhook_id, status),
        )
    yield conn
    conn.close()


def add(conn, webhook_id, due_ms, lease_until_ms=None):
    return conn.execute(
        "INSERT INTO deliveries (webhook_id, event_seq, event_id, event_type, next_attempt_ms,"
        " lease_until_ms, lease_token, created_at, created_ms)"
        " VALUES (?, 1, 'evt_1', 'scan.created', ?, ?, ?, 't', 0)",
        (webhook_id, due_ms, lease_until_ms, "old" if lease_until_ms else None),
    ).lastrowid


def claim(conn, per_endpoint=2, limit=10):
    tx = Tx(conn, FakeClock())
    conn.execute("BEGIN IMMEDIATE")
    rows = store.claim_due(tx, NOW, NOW + 35_000, "new", per_endpoint, limit)
    conn.execute("COMMIT")
    return [row["delivery_id"] for row in rows]


def test_claim_rules(db):
    live = add(db, 1, NOW - 50, lease_until_ms=NOW + 1)  # in flight: counts toward the cap
    expired = add(db, 1, NOW - 40, lease_until_ms=NOW - 1)  # its claimer died: claimable
    a1 = add(db, 1, NOW - 30)
    a2 = add(db, 1, NOW - 20)  # over endpoint 1's cap of 2
    b1 = add(db, 2, NOW - 45)  # degraded still gets deliveries
    add(db, 2, NOW + 1)  # not due yet
    add(db, 3, NOW - 100)  # disabled endpoint: never
    assert claim(db) == [b1, expired]  # oldest due first; endpoint 1 had 1 slot left
    assert claim(db) == []  # all slots taken now: a second tick gets nothing
    db.execute(
        "UPDATE deliveries SET status = 'succeeded', lease_until_ms = NULL WHERE id IN (?, ?)",
        (live, expired),
    )  # the two in flight on endpoint 1 finish
    assert claim(db) == [a1, a2]
    assert claim(db, per_endpoint=10) == []
    leases = dict(db.execute("SELECT id, lease_token FROM deliveries WHERE id IN (?, ?)", (a1, b1)))
    assert leases == {a1: "new", b1: "new"}


def test_global_limit(db):
    ids = [add(db, 1 + n % 2, NOW - 100 + n) for n in range(8)]
    assert claim(db, per_endpoint=10, limit=3) == ids[:3]


@pytest.mark.parametrize(
    "query, index",
    [
        (store._ENDPOINTS_WITH_DUE_WORK, "deliveries_pending_by_webhook"),
        (store._IN_FLIGHT_BY_ENDPOINT, "deliveries_leased"),
        (store._DUE_OF_ENDPOINT, "deliveries_pending_by_webhook"),
    ],
)
def test_claim_queries_stay_on_their_indexes(db, query, index):
    for n in range(2000):
        add(db, 1 + n % 3, NOW - n)
    db.execute("ANALYZE")
    plan = " | ".join(
        row[3]
        for row in db.execute(
            "EXPLAIN QUERY PLAN " + query, {"now": NOW, "webhook_id": 1, "free": 4, "only": None}
        )
    )
    assert index in plan
    assert "SCAN deliveries" not in plan and "SCAN d " not in plan


def test_the_one_endpoint_claim_looks_up_that_endpoint_only(db):
    for n in range(300):
        add(db, 1 + n % 3, NOW - n)
    db.execute("ANALYZE")
    plan = " | ".join(
        row[3]
        for row in db.execute(
            "EXPLAIN QUERY PLAN " + store._ENDPOINT_WITH_DUE_WORK, {"now": NOW, "only": 2}
        )
    )
    assert "SEARCH w USING INTEGER PRIMARY KEY" in plan
    assert "SCAN" not in plan


def test_one_endpoint_claim_and_the_endpoints_left_behind_their_cap(db):
    first = [add(db, 1, NOW - 100 + n) for n in range(3)]
    second = [add(db, 2, NOW - 50 + n) for n in range(2)]
    tx = Tx(db, FakeClock())
    capped: set[int] = set()
    rows = store.claim_due(tx, NOW, NOW + 35_000, "one", 2, 10, only_webhook=2, capped=capped)
    assert [row["delivery_id"] for row in rows] == second
    assert capped == {2}  # it filled its cap of 2: there may be more
    capped.clear()
    rows = store.claim_due(tx, NOW, NOW + 35_000, "all", 2, 10, capped=capped)
    assert [row["delivery_id"] for row in rows] == first[:2]
    assert capped == {1, 2}  # 1: one left behind its cap; 2: at its cap, with nothing free
    capped.clear()
    rows = store.claim_due(tx, NOW, NOW + 35_000, "more", 5, 10, capped=capped)
    assert [row["delivery_id"] for row in rows] == first[2:]
    assert capped == set()  # room under both caps, nothing left behind


@pytest.mark.parametrize("default_plan", ["free", "pro"])
@pytest.mark.parametrize("plan", ["free", "pro", "business", "gone"])
def test_the_fan_out_sql_applies_plan_has_webhooks(db, default_plan, plan):
    """The SQL's plan test and policy.plan_has_webhooks agree, for a plan removed from the
    config too (it falls back to the default plan)."""
    from qrstudio_box.config import settings_from_mapping
    from qrstudio_box.webhooks import policy

    settings = settings_from_mapping({"accounts": {"default_plan": default_plan}})
    db.execute("UPDATE workspaces SET plan = ? WHERE id = 1", (plan,))
    db.execute("UPDATE webhooks SET events = '[\"scan.created\"]'")
    tx = Tx(db, FakeClock())
    created = store.insert_deliveries_for_event(
        tx, 1, 1, "evt_1", "scan.created", NOW, "t", plans=policy.webhook_plan_filter(settings)
    )
    assert created == (2 if policy.plan_has_webhooks(settings, plan) else 0)  # 3 is disabled
    assert store.insert_deliveries_for_event(tx, 1, 1, "evt_1", "scan.created", NOW, "t") == 2
