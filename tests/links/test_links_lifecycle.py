"""A code's lifecycle over HTTP on the injected clock: start, end, cap (bots not counting),
expired_url or the 410 page, scans outside recorded as (expired), and "ended" said once."""

from __future__ import annotations

from datetime import timedelta

from qrstudio_box.clock import iso_s
from qrstudio_box.links.service import end_qr
from tests.links.helpers import (
    GOOGLEBOT,
    IPHONE_SAFARI,
    SCAN_CREATED_FIELDS,
    assert_exact_fields,
    create_qr,
    stored_events,
)

BASE = "/api/v1/dynamic-qrs/"


def scan(client, short_id, user_agent=IPHONE_SAFARI):
    return client.get(f"/r/{short_id}", headers={"User-Agent": user_agent}, follow_redirects=False)


def labels(sql, short_id):
    return [
        (row[0], row[1])
        for row in sql(
            "SELECT s.variant_label, s.destination_url FROM scans s"
            " JOIN dynamic_qrs q ON q.id = s.qr_id WHERE q.short_id = ? ORDER BY s.id",
            (short_id,),
        )
    ]


def status(client, user, short_id):
    return client.get(f"{BASE}{short_id}/", headers=user.headers).json()["status"]


def ended_events(sql, short_id):
    return [
        event["data"]
        for event in stored_events(sql, "dynamic_qr.updated")
        if event["data"]["short_id"] == short_id and event["data"]["changed"] == ["status"]
    ]


def test_before_the_start_a_scan_gets_the_410_page_and_is_recorded_expired(
    client, make_user, sql, fake_clock
):
    user = make_user()
    start = fake_clock.now() + timedelta(hours=1)
    qr = create_qr(client, user.headers, active_from=iso_s(start))
    short_id = qr["short_id"]
    assert qr["status"] == "not_started"

    fake_clock.advance(seconds=3599)
    answer = scan(client, short_id)
    assert answer.status_code == 410
    assert "This code has ended" in answer.text
    fake_clock.advance(seconds=1)  # exactly the start: live
    answer = scan(client, short_id)
    assert (answer.status_code, answer.headers["location"]) == (302, "https://example.com/menu")
    assert labels(sql, short_id) == [("(expired)", ""), ("(default)", "https://example.com/menu")]
    event = stored_events(sql, "scan.created")[-2]["data"]
    assert_exact_fields(event, SCAN_CREATED_FIELDS)
    assert (event["variant_label"], event["destination_url"]) == ("(expired)", "")
    assert status(client, user, short_id) == "live"
    assert ended_events(sql, short_id) == []  # not started is not ended


def test_at_the_end_scans_go_to_expired_url_and_the_end_is_said_once(
    client, ctx, make_user, sql, fake_clock
):
    user = make_user()
    end = fake_clock.now() + timedelta(hours=1)
    qr = create_qr(
        client,
        user.headers,
        active_until=iso_s(end),
        expired_url="https://example.com/see-you-next-year",
        utm={"source": "flyer"},
    )
    short_id = qr["short_id"]
    fake_clock.advance(minutes=59, seconds=59)
    answer = scan(client, short_id)
    assert answer.headers["location"] == "https://example.com/menu?utm_source=flyer"
    assert client.blocking_portal.call(ctx.links.end_due) == 0  # not yet
    fake_clock.advance(seconds=1)  # the end is exclusive
    answer = scan(client, short_id)
    assert (answer.status_code, answer.headers["location"]) == (
        302,
        "https://example.com/see-you-next-year",
    )
    assert status(client, user, short_id) == "ended"
    assert ended_events(sql, short_id) == []  # the job says it
    assert client.blocking_portal.call(ctx.links.end_due) == 1
    assert client.blocking_portal.call(ctx.links.end_due) == 0  # once
    (data,) = ended_events(sql, short_id)
    assert data["status"] == "ended" and data["is_active"] is True
    # A new end revives it; passing that end is said again (once).
    url = f"{BASE}{short_id}/"
    new_end = iso_s(fake_clock.now() + timedelta(days=1))
    assert (
        client.patch(url, headers=user.headers, json={"active_until": new_end}).json()["status"]
        == "live"
    )
    assert scan(client, short_id).headers["location"].endswith("/menu?utm_source=flyer")
    fake_clock.advance(days=1)
    assert client.blocking_portal.call(ctx.links.end_due) == 1
    assert len(ended_events(sql, short_id)) == 2


def test_the_cap_counts_people_not_bots_and_ends_in_the_scan_that_reaches_it(
    client, ctx, make_user, sql, fake_clock
):
    user = make_user()
    qr = create_qr(client, user.headers, max_scans=2)
    short_id = qr["short_id"]
    assert scan(client, short_id, GOOGLEBOT).status_code == 302  # a bot: served, not counted
    assert scan(client, short_id).status_code == 302
    assert ended_events(sql, short_id) == []
    assert scan(client, short_id).status_code == 302  # the second person: the cap
    (data,) = ended_events(sql, short_id)  # said in that scan's commit
    assert data["status"] == "capped"
    assert scan(client, short_id).status_code == 410
    assert scan(client, short_id, GOOGLEBOT).status_code == 410  # past the cap, bots too
    assert [label for label, _ in labels(sql, short_id)] == [
        "(default)",
        "(default)",
        "(default)",
        "(expired)",
        "(expired)",
    ]
    assert client.blocking_portal.call(ctx.links.end_due) == 0  # said already
    # Even asked again directly (the job racing the cap's own commit), the UPDATE guard holds.
    qr_id = sql("SELECT id FROM dynamic_qrs WHERE short_id = ?", (short_id,))[0][0]

    async def end_again():
        return await ctx.db.write(lambda tx: end_qr(ctx, qr_id, "cap", tx=tx))

    assert client.blocking_portal.call(end_again) is False
    assert len(ended_events(sql, short_id)) == 1
    assert status(client, user, short_id) == "capped"
    # Every scan is counted in scan_count and the stats; the cap only counts people served.
    detail = client.get(f"{BASE}{short_id}/", headers=user.headers).json()
    assert detail["scan_count"] == 5
    stats = client.get(f"{BASE}{short_id}/stats/?bots=include", headers=user.headers).json()
    assert {v["label"]: v["scans"] for v in stats["variants"]} == {"(default)": 3, "(expired)": 2}

    # A restart counts again from the rollups: still capped.
    client.blocking_portal.call(ctx.links.load)
    assert ctx.links.served[qr_id] == 2
    assert scan(client, short_id).status_code == 410

    # Raising the cap revives it.
    url = f"{BASE}{short_id}/"
    assert client.patch(url, headers=user.headers, json={"max_scans": 3}).json()["status"] == "live"
    assert scan(client, short_id).status_code == 302
    assert len(ended_events(sql, short_id)) == 2
    assert scan(client, short_id).status_code == 410


def test_concurrent_scans_in_one_group_commit_serve_exactly_the_cap_and_end_once(
    client, ctx, make_user, sql
):
    import asyncio

    user = make_user()
    short_id = create_qr(client, user.headers, max_scans=3)["short_id"]
    qr = ctx.links.lookup(short_id)

    async def burst():
        scans = [
            ctx.links.record_scan(qr, f"203.0.113.{i}", [], IPHONE_SAFARI, None) for i in range(10)
        ]
        return await asyncio.gather(*scans)

    routed = client.blocking_portal.call(burst)
    assert sorted(r.label for r in routed) == ["(default)"] * 3 + ["(expired)"] * 7
    assert len(ended_events(sql, short_id)) == 1
    assert [label for label, _ in labels(sql, short_id)].count("(default)") == 3


def test_an_end_passed_while_down_is_said_once_across_restarts(server_factory):
    """The real process: the lifecycle job runs at start; ended_at keeps it from saying it
    again at the next start."""
    import sqlite3
    from datetime import UTC, datetime

    import httpx

    # A subscriber to dynamic_qr.updated must get the start-up event too: the webhooks domain
    # has to be listening before the links domain's start says "ended".
    server = server_factory(
        config={"webhooks": {"allow_http": True, "allow_private_targets": True}}
    ).start()
    headers = server.token()
    me = httpx.get(f"{server.base_url}/api/v1/me/", headers=headers).json()
    promoted = httpx.patch(
        f"{server.base_url}/api/v1/admin/users/{me['id']}/", headers=headers, json={"plan": "pro"}
    )
    assert promoted.status_code == 200, promoted.text
    hook = httpx.post(
        f"{server.base_url}/api/v1/webhooks/",
        headers=headers,
        json={"url": "http://127.0.0.1:9/hook", "events": ["dynamic_qr.updated"]},
    )
    assert hook.status_code == 201, hook.text
    past = iso_s(datetime.now(UTC) - timedelta(hours=1))  # the real clock: a real process
    created = httpx.post(
        f"{server.base_url}{BASE}",
        headers=headers,
        json={"destination_url": "https://example.com/", "active_until": past},
    )
    short_id = created.json()["short_id"]

    def said() -> int:
        """How many 'ended' events there are, after checking each has its one delivery."""
        conn = sqlite3.connect(server.database_path)
        try:
            rows = conn.execute(
                "SELECT (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) FROM events e"
                " WHERE type = 'dynamic_qr.updated'"
                " AND json_extract(body, '$.data.short_id') = ?"
                " AND json_extract(body, '$.data.status') = 'ended'",
                (short_id,),
            ).fetchall()
            assert [deliveries for (deliveries,) in rows] == [1] * len(rows)
            return len(rows)
        finally:
            conn.close()

    server.stop()
    server.start()
    assert said() == 1
    assert httpx.get(f"{server.base_url}/r/{short_id}").status_code == 410
    server.stop()
    server.start()
    assert said() == 1


def test_an_edit_that_keeps_the_lifecycle_values_does_not_say_ended_again(
    client, ctx, make_user, sql, fake_clock
):
    """The routing form sends every lifecycle field on each save: an unchanged end must leave
    ended_at alone, so the job does not emit a second dynamic_qr.updated; a real change revives."""
    user = make_user()
    end = iso_s(fake_clock.now() + timedelta(hours=1))
    short_id = create_qr(client, user.headers, active_until=end)["short_id"]
    fake_clock.advance(hours=1)
    assert client.blocking_portal.call(ctx.links.end_due) == 1
    updated_before = len(stored_events(sql, "dynamic_qr.updated"))
    url = f"{BASE}{short_id}/"
    edited = client.patch(
        url,
        headers=user.headers,
        json={"active_until": end, "expired_url": "https://example.com/see-you-soon"},
    )
    assert edited.status_code == 200
    assert edited.json()["status"] == "ended"
    assert len(stored_events(sql, "dynamic_qr.updated")) == updated_before + 1  # the edit
    assert client.blocking_portal.call(ctx.links.end_due) == 0
    assert len(stored_events(sql, "dynamic_qr.updated")) == updated_before + 1
    assert len(ended_events(sql, short_id)) == 1
    assert scan(client, short_id).headers["location"] == "https://example.com/see-you-soon"
    # A real change of the end revives it; passing the new end is said once more.
    new_end = iso_s(fake_clock.now() + timedelta(hours=1))
    revived = client.patch(url, headers=user.headers, json={"active_until": new_end})
    assert revived.json()["status"] == "live"
    fake_clock.advance(hours=1)
    assert client.blocking_portal.call(ctx.links.end_due) == 1
    assert len(ended_events(sql, short_id)) == 2


def test_only_codes_with_a_cap_are_counted_and_a_new_cap_counts_past_scans(
    client, ctx, make_user, sql
):
    """The served counter is kept only for QRs with max_scans; setting one later loads the
    count from the rollups (as start does), so earlier scans use up the new cap."""
    user = make_user()
    short_id = create_qr(client, user.headers)["short_id"]
    qr_id = sql("SELECT id FROM dynamic_qrs WHERE short_id = ?", (short_id,))[0][0]
    assert [scan(client, short_id).status_code for _ in range(2)] == [302, 302]
    assert qr_id not in ctx.links.served
    url = f"{BASE}{short_id}/"
    assert client.patch(url, headers=user.headers, json={"max_scans": 3}).json()["status"] == "live"
    assert ctx.links.served[qr_id] == 2
    assert scan(client, short_id).status_code == 302  # the third person: the cap
    assert status(client, user, short_id) == "capped"
    assert len(ended_events(sql, short_id)) == 1
    assert scan(client, short_id).status_code == 410
    # Lifting the cap stops the counting; a restart does not count it either.
    assert client.patch(url, headers=user.headers, json={"max_scans": None}).status_code == 200
    assert qr_id not in ctx.links.served
    assert scan(client, short_id).status_code == 302
    client.blocking_portal.call(ctx.links.load)
    assert qr_id not in ctx.links.served
