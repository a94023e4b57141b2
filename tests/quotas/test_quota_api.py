"""Usage and credit packs over HTTP, the per-user API rate limit and the login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.errors import ApiError

from .conftest import user_of

SECONDS_TO_JUNE = int(
    (datetime(2026, 6, 1, tzinfo=UTC) - datetime(2026, 5, 9, 14, tzinfo=UTC)).total_seconds()
)


def test_usage_shows_the_callers_month(make_user, client, charger):
    account = make_user(plan="free")
    for _ in range(3):
        charger.one(user_of(client, account.headers))
    response = client.get("/api/v1/usage/", headers=account.headers)
    assert response.status_code == 200
    assert response.json() == {
        "owner_id": account.id,
        "plan": "free",
        "period": "2026-05",
        "used": 3,
        "monthly_quota": 4,
        "credits": 0,
        "limit": 4,
        "remaining": 1,
        "percent": 75,
        "thresholds_fired": [75],
        "scans_this_month": 0,
        "resets_at": "2026-06-01T00:00:00Z",
        "reset_seconds": SECONDS_TO_JUNE,
    }


def test_usage_needs_a_token(client):
    assert client.get("/api/v1/usage/").status_code == 401


def test_admin_reads_anyones_usage_members_cannot(make_user, client, admin_headers, charger):
    member = make_user(plan="pro")
    other = make_user(plan="free")
    charger.one(user_of(client, other.headers))
    response = client.get(f"/api/v1/admin/users/{other.id}/usage/", headers=admin_headers)
    assert response.status_code == 200
    assert (response.json()["owner_id"], response.json()["used"], response.json()["limit"]) == (
        other.id,
        1,
        4,
    )
    assert (
        client.get(f"/api/v1/admin/users/{other.id}/usage/", headers=member.headers).status_code
        == 403
    )
    missing = client.get("/api/v1/admin/users/9999/usage/", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "No user with that id"


def test_credits_lift_the_limit_and_do_not_refire(
    make_user, client, admin_headers, charger, quota_events, sql
):
    account = make_user(plan="free")
    user = user_of(client, account.headers)
    for _ in range(4):
        charger.one(user)
    with pytest.raises(ApiError):
        charger.one(user)

    response = client.post(
        f"/api/v1/admin/users/{user.user_id}/credits/",
        headers=admin_headers,
        json={"amount": 2, "note": "pack S"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    admin_id = user_of(client, admin_headers).user_id
    assert {
        k: body[k] for k in ("owner_id", "period", "amount", "note", "granted_by", "created_at")
    } == {
        "owner_id": user.owner_id,
        "period": "2026-05",
        "amount": 2,
        "note": "pack S",
        "granted_by": admin_id,
        "created_at": "2026-05-09T14:00:00Z",
    }
    assert (body["usage"]["credits"], body["usage"]["limit"], body["usage"]["percent"]) == (
        2,
        6,
        66,
    )

    assert [charger.one(user).used for _ in range(2)] == [5, 6]
    with pytest.raises(ApiError) as refused:
        charger.one(user)
    assert refused.value.headers["RateLimit-Limit"] == "6"
    # 4/6 dropped under 75% and climbed back over it: still one event of each this month
    assert [e["type"] for e in quota_events(user.owner_id)] == [
        "quota.threshold_75",
        "quota.threshold_100",
    ]
    assert sql(
        "SELECT amount, note, granted_by, period FROM credit_grants WHERE owner_id = ?",
        (user.owner_id,),
    )[0][:] == (2, "pack S", admin_id, "2026-05")


def test_credits_are_for_the_current_month_only(
    make_user, client, admin_headers, charger, fake_clock
):
    account = make_user(plan="free")
    client.post(
        f"/api/v1/admin/users/{account.id}/credits/", headers=admin_headers, json={"amount": 10}
    )
    assert client.get("/api/v1/usage/", headers=account.headers).json()["limit"] == 14
    fake_clock.set(datetime(2026, 6, 1, tzinfo=UTC))
    usage = client.get("/api/v1/usage/", headers=account.headers).json()
    assert (usage["period"], usage["credits"], usage["limit"]) == ("2026-06", 0, 4)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({}, "amount"),
        ({"amount": 5, "note": "x" * 501}, "note"),
        ({"amount": 5, "colour": "red"}, "colour"),
    ],
)
def test_bad_credit_grants_name_the_field_and_write_nothing(
    make_user, client, admin_headers, sql, body, field
):
    account = make_user(plan="free")
    response = client.post(
        f"/api/v1/admin/users/{account.id}/credits/", headers=admin_headers, json=body
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert sql("SELECT count(*) FROM credit_grants")[0][0] == 0


def test_credit_grants_are_admin_only_and_need_a_user(make_user, client, admin_headers):
    member = make_user(plan="pro")
    assert (
        client.post(
            f"/api/v1/admin/users/{member.id}/credits/", headers=member.headers, json={"amount": 5}
        ).status_code
        == 403
    )
    missing = client.post(
        "/api/v1/admin/users/9999/credits/", headers=admin_headers, json={"amount": 5}
    )
    assert missing.status_code == 404


# -- per-user API rate limit ------------------------------------------------------------------


def test_api_rate_limit_answers_429_with_headers(make_user, client, fake_clock):
    account = make_user(plan="slow")  # 3 requests per minute
    statuses = [client.get("/api/v1/me/", headers=account.headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get("/api/v1/usage/", headers=account.headers)
    assert refused.status_code == 429
    assert refused.json() == {
        "status_code": 429,
        "error": "rate_limited",
        "detail": "Rate limit: your plan (slow) allows 3 requests per minute; retry in 20 seconds",
    }
    assert refused.headers["Retry-After"] == "20"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "60"
    fake_clock.advance(seconds=19)
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 429
    fake_clock.advance(seconds=1)
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 200


def test_api_rate_limit_is_per_user_not_per_address(make_user, client):
    first, second = make_user(plan="slow"), make_user(plan="slow")
    for _ in range(3):
        client.get("/api/v1/me/", headers=first.headers)
    assert client.get("/api/v1/me/", headers=first.headers).status_code == 429
    assert client.get("/api/v1/me/", headers=second.headers).status_code == 200


def test_api_rate_limit_follows_a_plan_change_at_once(make_user, client, admin_headers):
    account = make_user(plan="slow")
    for _ in range(3):
        client.get("/api/v1/me/", headers=account.headers)
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 429
    assert (
        client.patch(
            f"/api/v1/admin/users/{account.id}/", headers=admin_headers, json={"plan": "pro"}
        ).status_code
        == 200
    )
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 200


def test_admins_and_unauthenticated_paths_are_not_rate_limited(client, admin_headers):
    for _ in range(60):  # past the free plan's 50 a minute (the admin is on free)
        response = client.get("/api/v1/me/", headers=admin_headers)
    assert response.status_code == 200
    assert client.get("/healthz").status_code == 200


# -- login throttle --------------------------------------------------------------------------


def _login(client, email, password, ip="10.1.1.1"):
    return client.post("/api/v1/auth/token/", json={"email": email, "password": password})


def test_login_is_throttled_per_email(make_user, client, fake_clock):
    account = make_user(plan="free")
    for _ in range(5):
        assert _login(client, account.email, "wrong-password").status_code == 401
    refused = _login(client, account.email, account.password)  # even the right password
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "180"  # 900 s / 5
    assert refused.json()["detail"] == "Too many failed logins; try again in 180 seconds"
    fake_clock.advance(seconds=180)
    assert _login(client, account.email, account.password).status_code == 200


def test_login_success_resets_the_count_of_that_email_from_that_address(make_user, client):
    account = make_user(plan="free")
    for _ in range(4):
        _login(client, account.email, "wrong")
    assert _login(client, account.email, account.password).status_code == 200
    for _ in range(4):
        assert _login(client, account.email, "wrong").status_code == 401


def test_login_is_throttled_per_client_ip(make_user, client):
    # 8 failures per IP (test config) spread over emails that each stay under their own 5
    for index in range(8):
        assert _login(client, f"nobody{index}@example.com", "guess").status_code == 401
    refused = _login(client, "fresh@example.com", "guess")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(900 // 8 + 1)


def test_a_wall_clock_step_back_does_not_throttle_the_next_request(make_user, client, fake_clock):
    """Issue 14.8: limits measure elapsed time on the monotonic reading. On a wall clock,
    one request followed by a 1 h step back read as 429 for an hour."""
    account = make_user(plan="slow")  # 3 API requests a minute
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 200
    assert _login(client, account.email, "wrong-password").status_code == 401
    fake_clock.set(fake_clock.now() - timedelta(hours=1))
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 200
    assert _login(client, account.email, account.password).status_code == 200
    # and a step forward is no time passing: the bucket is as full as it was
    fake_clock.set(fake_clock.now() + timedelta(hours=2))
    assert client.get("/api/v1/me/", headers=account.headers).status_code == 200
    refused = client.get("/api/v1/me/", headers=account.headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"


def test_admin_lists_a_users_credit_packs_by_month(make_user, client, admin_headers, fake_clock):
    account = make_user(plan="free")
    url = f"/api/v1/admin/users/{account.id}/credits/"
    client.post(url, headers=admin_headers, json={"amount": 3, "note": "first"})
    fake_clock.set(datetime(2026, 6, 2, tzinfo=UTC))
    client.post(url, headers=admin_headers, json={"amount": 7})
    june = client.get(url, headers=admin_headers).json()
    assert (june["period"], [(g["amount"], g["note"]) for g in june["results"]]) == (
        "2026-06",
        [(7, "")],
    )
    may = client.get(url, params={"period": "2026-05"}, headers=admin_headers).json()
    assert [(g["amount"], g["note"], g["created_at"]) for g in may["results"]] == [
        (3, "first", "2026-05-09T14:00:00Z")
    ]
    bad = client.get(url, params={"period": "2026-13"}, headers=admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "period"
    assert client.get(url, headers=account.headers).status_code == 403


@pytest.mark.parametrize("path", ["usage/", "credits/"])
def test_out_of_range_user_ids_are_bad_input(client, admin_headers, path):
    response = client.get(f"/api/v1/admin/users/{2**64}/{path}", headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["field"] == "user_id"
