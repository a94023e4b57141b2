"""charge_generation through real db.write transactions on a stepped FakeClock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from qrstudio_box import events
from qrstudio_box.errors import ApiError

from .conftest import user_of

MAY_9 = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)  # the fake clock's start
SECONDS_TO_JUNE = int((datetime(2026, 6, 1, tzinfo=UTC) - MAY_9).total_seconds())


def test_counted_generations_carry_ratelimit_headers(make_user, client, charger):
    user = user_of(client, make_user(plan="free").headers)
    charges = [charger.one(user) for _ in range(4)]
    assert [c.used for c in charges] == [1, 2, 3, 4]
    assert charges[0].headers == {
        "RateLimit-Limit": "4",
        "RateLimit-Remaining": "3",
        "RateLimit-Reset": str(SECONDS_TO_JUNE),
    }
    assert charges[-1].headers["RateLimit-Remaining"] == "0"


def test_crossing_75_and_100_fires_exactly_one_event_each(
    make_user, client, charger, quota_events, sql
):
    user = user_of(client, make_user(plan="free").headers)
    fired = [charger.one(user).fired for _ in range(4)]
    assert [len(f) for f in fired] == [0, 0, 1, 1]  # 3/4 = 75%, 4/4 = 100%
    got = quota_events(user.owner_id)
    assert [e["type"] for e in got] == ["quota.threshold_75", "quota.threshold_100"]
    assert got[0]["data"] == {
        "owner_id": user.owner_id,
        "plan": "free",
        "period": "2026-05",
        "used": 3,
        "limit": 4,
        "percent": 75,
    }
    assert got[1]["data"] == {
        "owner_id": user.owner_id,
        "plan": "free",
        "period": "2026-05",
        "used": 4,
        "limit": 4,
        "percent": 100,
    }
    assert got[0]["id"] == fired[2][0] and got[0]["created_at"] == "2026-05-09T14:00:00Z"
    rows = sql(
        'SELECT threshold, event_id, used, "limit" FROM quota_thresholds_fired '
        "WHERE owner_id = ? ORDER BY threshold",
        (user.owner_id,),
    )
    assert [tuple(r) for r in rows] == [(75, fired[2][0], 3, 4), (100, fired[3][0], 4, 4)]


def test_over_the_allowance_is_429_with_headers_and_creates_nothing(
    make_user, client, charger, sql, quota_events
):
    user = user_of(client, make_user(plan="free").headers)
    for _ in range(4):
        charger.one(user)

    def create_something(tx):  # what a caller's transaction does before charging
        events.emit(tx, user.owner_id, "dynamic_qr.created", {"short_id": "zzzzzzzz"})

    with pytest.raises(ApiError) as refused:
        charger.one(user, before=create_something)
    error = refused.value
    assert error.status_code == 429
    assert error.headers == {
        "RateLimit-Limit": "4",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(SECONDS_TO_JUNE),
        "Retry-After": str(SECONDS_TO_JUNE),
    }
    assert error.body()["error"] == "quota_exceeded"
    assert "4 of 4 generations used in 2026-05" in error.detail
    assert "2026-06-01T00:00:00Z" in error.detail
    assert sql("SELECT count(*) FROM events WHERE type = 'dynamic_qr.created'")[0][0] == 0
    assert sql("SELECT used FROM quota_usage WHERE owner_id = ?", (user.owner_id,))[0][0] == 4
    assert len(quota_events(user.owner_id)) == 2


@pytest.mark.parametrize("batched", [False, True], ids=["write", "write_batched"])
def test_racing_generations_fire_each_threshold_exactly_once(
    make_user, client, charger, quota_events, sql, batched
):
    user = user_of(client, make_user(plan="pro").headers)  # 100 a month
    outcomes = charger.burst(user, 130, batched=batched)
    ok = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, ApiError)]
    assert len(ok) == 100 and len(refused) == 30
    assert all(e.status_code == 429 for e in refused)
    assert sorted(c.used for c in ok) == list(range(1, 101))
    got = quota_events(user.owner_id)
    assert [e["type"] for e in got] == ["quota.threshold_75", "quota.threshold_100"]
    assert [e["data"]["used"] for e in got] == [75, 100]
    assert sql("SELECT used FROM quota_usage WHERE owner_id = ?", (user.owner_id,))[0][0] == 100
    assert (
        sql("SELECT count(*) FROM quota_thresholds_fired WHERE owner_id = ?", (user.owner_id,))[0][
            0
        ]
        == 2
    )


def test_racing_users_do_not_share_counts(make_user, client, charger, quota_events):
    first = user_of(client, make_user(plan="free").headers)
    second = user_of(client, make_user(plan="free").headers)

    async def both():
        ctx = charger.ctx
        return await asyncio.gather(
            *[ctx.db.write(charger._charge, u, None) for _ in range(6) for u in (first, second)],
            return_exceptions=True,
        )

    outcomes = client.blocking_portal.call(both)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 8
    assert len(quota_events(first.owner_id)) == 2 and len(quota_events(second.owner_id)) == 2


def test_month_rollover_starts_fresh(make_user, client, charger, quota_events, fake_clock):
    user = user_of(client, make_user(plan="free").headers)
    for _ in range(4):
        charger.one(user)
    with pytest.raises(ApiError):
        charger.one(user)
    fake_clock.set(datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(ApiError) as refused:
        charger.one(user)
    assert refused.value.headers["Retry-After"] == "1"
    fake_clock.set(datetime(2026, 6, 1, 0, 0, 0, tzinfo=UTC))
    charges = [charger.one(user) for _ in range(4)]
    assert [c.period for c in charges] == ["2026-06"] * 4
    assert [c.used for c in charges] == [1, 2, 3, 4]
    assert charges[0].headers["RateLimit-Reset"] == str(30 * 86400)
    got = quota_events(user.owner_id)
    assert [(e["type"], e["data"]["period"]) for e in got] == [
        ("quota.threshold_75", "2026-05"),
        ("quota.threshold_100", "2026-05"),
        ("quota.threshold_75", "2026-06"),
        ("quota.threshold_100", "2026-06"),
    ]


def test_plan_change_applies_at_once(make_user, client, charger, admin_headers, quota_events):
    account = make_user(plan="free")
    user = user_of(client, account.headers)
    for _ in range(4):
        charger.one(user)
    with pytest.raises(ApiError):
        charger.one(user)
    response = client.patch(
        f"/api/v1/admin/users/{user.user_id}/", headers=admin_headers, json={"plan": "pro"}
    )
    assert response.status_code == 200
    upgraded = user_of(client, account.headers)
    charge = charger.one(upgraded)
    assert (charge.used, charge.limit) == (5, 100)
    assert charge.headers["RateLimit-Remaining"] == "95"
    # 5% of pro: nothing new fires; the month's fired thresholds stay fired
    assert len(quota_events(user.owner_id)) == 2


def test_a_jump_past_both_lines_fires_both(make_user, client, charger, admin_headers, quota_events):
    """A downgrade can put usage past 75% and 100% at once: the next generation must not
    skip the 75% event (the thresholds are level-based, not edge-based)."""
    account = make_user(plan="pro")
    user = user_of(client, account.headers)
    for _ in range(3):
        charger.one(user)
    client.patch(
        f"/api/v1/admin/users/{user.user_id}/", headers=admin_headers, json={"plan": "free"}
    )
    charge = charger.one(user_of(client, account.headers))  # 4 of 4
    assert len(charge.fired) == 2
    assert [e["type"] for e in quota_events(user.owner_id)] == [
        "quota.threshold_75",
        "quota.threshold_100",
    ]
