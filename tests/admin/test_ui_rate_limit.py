"""Issue 14.7 d: the admin UI's rendering and writing routes share the per-user API rate limit.

Over HTTP with the app's TestClient and its FakeClock (no browser: nothing here is visual), a
member on a plan allowing 5 requests per minute.
"""

from __future__ import annotations

import pytest

from tests.admin.helpers import ui_login

LIMIT = 5


@pytest.fixture
def config(config):
    config["plans"] = {"free": {}, "pro": {}, "tight": {"rank": 1, "api_rate_limit": LIMIT}}
    return config


@pytest.fixture
def member(client, make_user):
    user = make_user(plan="tight")
    qr = client.post(
        "/api/v1/dynamic-qrs/",
        headers=user.headers,
        json={"destination_url": "https://example.com/menu", "name": "menu"},
    )
    assert qr.status_code == 201, qr.text
    user.short_id = qr.json()["short_id"]
    user.cookies = ui_login(client, user.email, user.password)
    return user


def ui_get(client, who, path):
    client.cookies.clear()
    return client.get(
        path,
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in who.cookies.items())},
        follow_redirects=False,
    )


def ui_post(client, who, path, form):
    client.cookies.clear()
    return client.post(
        path,
        headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in who.cookies.items()),
            "Accept": "text/html",
        },
        data={**form, "csrf_token": who.cookies["qrstudio_csrf"]},
        follow_redirects=False,
    )


def assert_slow_down_page(response):
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "Slow down" in response.text
    assert int(response.headers["retry-after"]) == 60 // LIMIT
    assert response.headers["ratelimit-limit"] == str(LIMIT)
    assert response.headers["ratelimit-remaining"] == "0"


def test_downloads_stop_at_the_plan_limit_with_a_429_page(client, member, fake_clock):
    download = f"/admin/qrs/{member.short_id}/download?size=4096"
    # The API call that created the QR used one of the five.
    answers = [ui_get(client, member, download).status_code for _ in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]
    assert_slow_down_page(ui_get(client, member, download))
    # Previews render too, and share the budget; pages that only read do not.
    assert_slow_down_page(ui_get(client, member, f"/admin/qrs/{member.short_id}/image.svg"))
    assert ui_get(client, member, f"/admin/qrs/{member.short_id}").status_code == 200
    # One limiter: the API is refused as well.
    api = client.get("/api/v1/dynamic-qrs/", headers=member.headers)
    assert api.status_code == 429

    fake_clock.advance(seconds=60 // LIMIT)
    assert ui_get(client, member, download).status_code == 200


def test_writing_routes_are_limited_and_a_refused_write_changes_nothing(
    client, member, fake_clock, sql
):
    path = f"/admin/qrs/{member.short_id}/active"
    answers = [ui_post(client, member, path, {"active": "no"}).status_code for _ in range(LIMIT)]
    assert answers == [303] * (LIMIT - 1) + [429]
    assert sql("SELECT is_active FROM dynamic_qrs")[0][0] == 0
    refused = ui_post(client, member, path, {"active": "yes"})
    assert_slow_down_page(refused)
    assert sql("SELECT is_active FROM dynamic_qrs")[0][0] == 0

    generated = ui_post(client, member, "/admin/generate/", {"data": "hi", "data_type": "text"})
    assert_slow_down_page(generated)
    assert sql("SELECT sum(used) FROM quota_usage")[0][0] == 1  # the QR's creation only


def test_admins_are_not_limited_in_the_ui_as_in_the_api(client, config, admin_headers):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    cookies = ui_login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    qr = client.post(
        "/api/v1/dynamic-qrs/",
        headers=admin_headers,
        json={"destination_url": "https://example.com/a"},
    ).json()
    admin = type("Who", (), {"cookies": cookies})()
    path = f"/admin/qrs/{qr['short_id']}/download"
    assert {ui_get(client, admin, path).status_code for _ in range(3 * LIMIT)} == {200}
