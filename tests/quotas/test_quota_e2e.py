"""End to end through the links/qr domains' routes: /generate/, /dynamic-qrs/, the redirect."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime

import httpx

SECONDS_TO_JUNE = int(
    (datetime(2026, 6, 1, tzinfo=UTC) - datetime(2026, 5, 9, 14, tzinfo=UTC)).total_seconds()
)
GENERATE = "/api/v1/generate/"
DYNAMIC = "/api/v1/dynamic-qrs/"


def count(sql, statement, params=()):
    return sql(statement, params)[0][0]


def test_generate_counts_carries_headers_and_429s_past_the_allowance(make_user, client, sql):
    account = make_user(plan="free")  # 4 a month
    answers = [
        client.post(GENERATE, headers=account.headers, json={"data": f"hello {i}"})
        for i in range(4)
    ]
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["3", "2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "4"
    assert answers[0].headers["RateLimit-Reset"] == str(SECONDS_TO_JUNE)

    refused = client.post(GENERATE, headers=account.headers, json={"data": "one too many"})
    assert refused.status_code == 429
    assert refused.json()["error"] == "quota_exceeded"
    assert refused.json()["detail"].startswith(
        "Monthly quota reached: 4 of 4 generations used in 2026-05"
    )
    assert refused.headers["Retry-After"] == str(SECONDS_TO_JUNE)
    assert (refused.headers["RateLimit-Limit"], refused.headers["RateLimit-Remaining"]) == (
        "4",
        "0",
    )

    dynamic = client.post(
        GENERATE,
        headers=account.headers,
        json={"data": "https://example.com/x", "data_type": "dynamic", "name": "x"},
    )
    assert dynamic.status_code == 429
    assert count(sql, "SELECT count(*) FROM dynamic_qrs WHERE owner_id = ?", (account.id,)) == 0
    assert count(sql, "SELECT count(*) FROM events WHERE type = 'dynamic_qr.created'") == 0
    types = [
        r[0] for r in sql("SELECT type FROM events WHERE owner_id = ? ORDER BY seq", (account.id,))
    ]
    assert types == ["quota.threshold_75", "quota.threshold_100"]
    assert count(sql, "SELECT used FROM quota_usage WHERE owner_id = ?", (account.id,)) == 4


def test_dynamic_qr_create_counts_and_429_creates_nothing(make_user, client, admin_headers, sql):
    account = make_user(plan="pro")
    client.patch(f"/api/v1/admin/users/{account.id}/", headers=admin_headers, json={"plan": "free"})
    for i in range(2):
        assert (
            client.post(GENERATE, headers=account.headers, json={"data": f"s{i}"}).status_code
            == 200
        )
    for i in range(2):
        made = client.post(
            DYNAMIC,
            headers=account.headers,
            json={"name": f"q{i}", "destination_url": "https://example.com/"},
        )
        assert made.status_code == 201, made.text
        assert made.headers["RateLimit-Remaining"] == str(1 - i)
    refused = client.post(
        DYNAMIC,
        headers=account.headers,
        json={"name": "q3", "destination_url": "https://example.com/"},
    )
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(SECONDS_TO_JUNE)
    assert count(sql, "SELECT count(*) FROM dynamic_qrs WHERE owner_id = ?", (account.id,)) == 2
    assert count(sql, "SELECT count(*) FROM events WHERE type = 'dynamic_qr.created'") == 2

    # a credit pack lifts the limit at once
    client.post(
        f"/api/v1/admin/users/{account.id}/credits/", headers=admin_headers, json={"amount": 1}
    )
    lifted = client.post(
        DYNAMIC,
        headers=account.headers,
        json={"name": "q3", "destination_url": "https://example.com/"},
    )
    assert lifted.status_code == 201 and lifted.headers["RateLimit-Limit"] == "5"


def test_max_dynamic_qrs_is_403_and_charges_nothing(make_user, client, admin_headers, sql):
    account = make_user(plan="free")  # max_dynamic_qrs 3, quota 4
    client.post(
        f"/api/v1/admin/users/{account.id}/credits/", headers=admin_headers, json={"amount": 10}
    )
    for i in range(3):
        assert (
            client.post(
                DYNAMIC,
                headers=account.headers,
                json={"name": f"q{i}", "destination_url": "https://example.com/"},
            ).status_code
            == 201
        )
    refused = client.post(
        DYNAMIC,
        headers=account.headers,
        json={"name": "q4", "destination_url": "https://example.com/"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "plan_limit"
    assert "allows 3 dynamic QRs" in refused.json()["detail"]
    assert count(sql, "SELECT used FROM quota_usage WHERE owner_id = ?", (account.id,)) == 3
    # deleting one makes room again
    short_id = sql("SELECT short_id FROM dynamic_qrs WHERE owner_id = ? LIMIT 1", (account.id,))[0][
        0
    ]
    assert client.delete(f"{DYNAMIC}{short_id}/", headers=account.headers).status_code == 204
    assert (
        client.post(
            DYNAMIC,
            headers=account.headers,
            json={"name": "q4", "destination_url": "https://example.com/"},
        ).status_code
        == 201
    )


def test_usage_shows_scans_this_month_and_scans_are_never_blocked(make_user, client):
    account = make_user(plan="free")
    made = client.post(
        DYNAMIC,
        headers=account.headers,
        json={"name": "menu", "destination_url": "https://example.com/menu"},
    )
    short_id = made.json()["short_id"]
    for i in range(3):
        client.post(GENERATE, headers=account.headers, json={"data": f"s{i}"})
    assert client.post(GENERATE, headers=account.headers, json={"data": "over"}).status_code == 429
    for _ in range(5):
        scan = client.get(
            f"/r/{short_id}",
            follow_redirects=False,
            headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
        )
        assert scan.status_code == 302
    usage = client.get("/api/v1/usage/", headers=account.headers).json()
    assert (usage["used"], usage["limit"], usage["percent"], usage["scans_this_month"]) == (
        4,
        4,
        100,
        5,
    )
    assert usage["thresholds_fired"] == [75, 100]


def test_racing_generations_through_the_real_server(server_factory):
    """Many concurrent POST /generate/ across both lines on the real process: exactly the
    allowance succeeds and each threshold event is stored exactly once."""
    server = server_factory(
        config={
            "plans": {
                "free": {"monthly_quota": 20, "api_rate_limit": 10000},
            },
            # As many render workers as connections: the race is for the charge, and a busy
            # pool's 503 is another test's subject (tests/qr/test_render_limits.py).
            "qr": {"render_concurrency": 16},
        }
    ).start()
    admin = server.token()
    created = httpx.post(
        f"{server.base_url}/api/v1/admin/users/",
        headers=admin,
        json={"email": "racer@example.com", "password": "racer-password-1"},
    )
    assert created.status_code == 201, created.text
    owner_id = created.json()["user"]["id"]
    headers = server.token("racer@example.com", "racer-password-1")

    async def race() -> list[int]:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, limits=limits, timeout=30
        ) as http:
            answers = await asyncio.gather(
                *[
                    http.post(GENERATE, json={"data": f"race {i}", "format": "svg"})
                    for i in range(40)
                ]
            )
        return [a.status_code for a in answers]

    statuses = asyncio.run(race())
    assert sorted(statuses) == [200] * 20 + [429] * 20
    with sqlite3.connect(server.database_path) as conn:
        rows = conn.execute(
            "SELECT type, body FROM events WHERE owner_id = ? ORDER BY seq", (owner_id,)
        ).fetchall()
        used = conn.execute(
            "SELECT used FROM quota_usage WHERE owner_id = ?", (owner_id,)
        ).fetchone()[0]
    assert [r[0] for r in rows] == ["quota.threshold_75", "quota.threshold_100"]
    assert [json.loads(r[1])["data"]["used"] for r in rows] == [15, 20]
    assert used == 20


def test_login_throttle_per_client_ip_behind_a_trusted_proxy(server_factory):
    """The real process behind a 'proxy' on 127.0.0.1: X-Forwarded-For names the client, so
    one guessing address is throttled while another is not."""
    server = server_factory(
        config={
            "server": {"trusted_proxies": ["127.0.0.1/32"]},
            "ratelimit": {
                "login_failures_per_email": 100,
                "login_failures_per_ip": 3,
                "login_window_seconds": 900,
            },
        }
    ).start()
    url = f"{server.base_url}/api/v1/auth/token/"

    def attempt(ip: str, email: str = "guess@example.com") -> httpx.Response:
        return httpx.post(
            url,
            json={"email": email, "password": "guess"},
            headers={"X-Forwarded-For": f"198.51.100.9, {ip}"},
        )

    assert [attempt("203.0.113.1", f"u{i}@example.com").status_code for i in range(3)] == [401] * 3
    refused = attempt("203.0.113.1")
    assert refused.status_code == 429
    # 900 s / 3 = 300 s after the first failure; the real clock has moved a little since
    assert 200 < int(refused.headers["Retry-After"]) <= 300
    assert attempt("203.0.113.2").status_code == 401
    # the admin logs in fine from another address
    ok = httpx.post(
        url,
        json={"email": "admin@example.com", "password": "admin-password-1"},
        headers={"X-Forwarded-For": "203.0.113.3"},
    )
    assert ok.status_code == 200


def test_a_rate_limited_generation_is_not_counted(make_user, client, sql):
    account = make_user(plan="slow")  # 3 requests a minute, 4 generations a month
    for i in range(3):
        assert (
            client.post(GENERATE, headers=account.headers, json={"data": f"s{i}"}).status_code
            == 200
        )
    refused = client.post(GENERATE, headers=account.headers, json={"data": "too fast"})
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert refused.headers["RateLimit-Limit"] == "3"  # the per-minute limit, not the month's
    assert count(sql, "SELECT used FROM quota_usage WHERE owner_id = ?", (account.id,)) == 3
