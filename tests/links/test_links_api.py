"""Dynamic QR API over HTTP (TestClient), checked against the database on its own connection."""

from __future__ import annotations

import re

import pytest

from tests.links.helpers import (
    QR_CREATED_FIELDS,
    assert_exact_fields,
    create_qr,
    stored_events,
)

BASE = "/api/v1/dynamic-qrs/"


def test_create_answers_201_with_every_field_and_fires_the_event(client, make_user, sql):
    user = make_user()
    response = client.post(
        BASE,
        headers=user.headers,
        json={
            "name": "Spring 2026 menu",
            "destination_url": "https://example.com/menus/spring-2026",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "short_id",
        "short_url",
        "name",
        "destination_url",
        "is_active",
        "variants",
        "scan_count",
        "created_at",
        "updated_at",
        # smart routing (issue 18), with defaults that mean "as before"
        "rules",
        "active_from",
        "active_until",
        "max_scans",
        "expired_url",
        "utm",
        "forward_query",
        "status",
        # branded domains (issue 17.2): null on the appliance's own host
        "domain",
    }
    assert body["domain"] is None
    assert (body["rules"], body["active_from"], body["active_until"], body["max_scans"]) == (
        [],
        None,
        None,
        None,
    )
    assert (body["expired_url"], body["utm"], body["forward_query"], body["status"]) == (
        "",
        {},
        False,
        "live",
    )
    assert re.fullmatch(r"[0-9A-Za-z]{8}", body["short_id"])
    assert body["short_url"] == f"http://127.0.0.1:8080/r/{body['short_id']}"
    assert body["name"] == "Spring 2026 menu"
    assert body["is_active"] is True and body["variants"] == [] and body["scan_count"] == 0
    assert body["created_at"] == body["updated_at"] == "2026-05-09T14:00:00Z"
    assert response.headers["location"] == f"/api/v1/dynamic-qrs/{body['short_id']}/"

    rows = sql("SELECT owner_id, short_id FROM dynamic_qrs")
    assert [(r["owner_id"], r["short_id"]) for r in rows] == [(user.id, body["short_id"])]
    events = stored_events(sql, "dynamic_qr.created")
    assert len(events) == 1
    event = events[0]
    assert list(event) == ["type", "id", "created_at", "data"]
    assert re.fullmatch(r"evt_[0-9A-Za-z]{16}", event["id"])
    assert event["created_at"] == "2026-05-09T14:00:00Z"
    assert_exact_fields(event["data"], QR_CREATED_FIELDS)
    assert event["data"] == {
        "short_id": body["short_id"],
        "name": "Spring 2026 menu",
        "destination_url": "https://example.com/menus/spring-2026",
        "owner_id": user.id,
    }


def test_create_with_variants(client, make_user):
    user = make_user()
    body = create_qr(
        client,
        user.headers,
        variants=[
            {"label": "A", "destination_url": "https://a.example/", "weight": 3},
            {"label": "B", "destination_url": "https://b.example/", "weight": 1},
        ],
    )
    assert body["variants"] == [
        {"label": "A", "destination_url": "https://a.example/", "weight": 3},
        {"label": "B", "destination_url": "https://b.example/", "weight": 1},
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "destination_url"),
        ({"destination_url": "ftp://example.com/"}, "destination_url"),
        ({"destination_url": "javascript:alert(1)"}, "destination_url"),
        ({"destination_url": "example.com"}, "destination_url"),
        ({"destination_url": "https://user:pw@example.com/"}, "destination_url"),
        ({"destination_url": 5}, "destination_url"),
        ({"destination_url": "https://example.com/", "name": "x" * 201}, "name"),
        ({"destination_url": "https://example.com/", "name": 7}, "name"),
        ({"destination_url": "https://example.com/", "colour": "red"}, "colour"),
        ({"destination_url": "https://example.com/", "variants": "A"}, "variants"),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [{"label": "A", "destination_url": "https://a/", "weight": 0}],
            },
            "variants[0].weight",
        ),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [{"label": "A", "destination_url": "https://a/", "weight": 2.5}],
            },
            "variants[0].weight",
        ),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [{"label": "A", "destination_url": "mailto:x@y.z", "weight": 1}],
            },
            "variants[0].destination_url",
        ),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [
                    {"label": "A", "destination_url": "https://a/"},
                    {"label": "A", "destination_url": "https://b/"},
                ],
            },
            "variants[1].label",
        ),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [{"label": "", "destination_url": "https://a/"}],
            },
            "variants[0].label",
        ),
        (
            {
                "destination_url": "https://example.com/",
                "variants": [{"destination_url": "https://a/"}],
            },
            "variants[0].label",
        ),
    ],
)
def test_bad_create_input_is_400_naming_the_field_and_writes_nothing(
    shared, shared_user, body, field
):
    qrs, events = shared.count("dynamic_qrs"), shared.count("events")
    response = shared.client.post(BASE, headers=shared_user.headers, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["status_code"] == 400 and error["error"] == "bad_request"
    assert error["field"] == field
    assert error["detail"].startswith(f"{field}: ")
    assert (shared.count("dynamic_qrs"), shared.count("events")) == (qrs, events)


def test_list_is_newest_first_with_cursor_and_filters(client, make_user):
    user = make_user()
    made = [create_qr(client, user.headers, name=f"Menu {i}")["short_id"] for i in range(5)]
    other = make_user()
    create_qr(client, other.headers, name="Menu of someone else")

    first = client.get(BASE, headers=user.headers, params={"limit": 2}).json()
    assert [qr["short_id"] for qr in first["results"]] == made[::-1][:2]
    second = client.get(
        BASE, headers=user.headers, params={"limit": 2, "cursor": first["next"]}
    ).json()
    assert [qr["short_id"] for qr in second["results"]] == made[::-1][2:4]
    third = client.get(
        BASE, headers=user.headers, params={"limit": 2, "cursor": second["next"]}
    ).json()
    assert [qr["short_id"] for qr in third["results"]] == made[:1]
    assert third["next"] is None

    found = client.get(BASE, headers=user.headers, params={"name": "menu 3"}).json()["results"]
    assert [qr["short_id"] for qr in found] == [made[3]]
    client.patch(f"{BASE}{made[1]}/", headers=user.headers, json={"is_active": False})
    inactive = client.get(BASE, headers=user.headers, params={"is_active": "false"}).json()[
        "results"
    ]
    assert [qr["short_id"] for qr in inactive] == [made[1]]
    active = client.get(BASE, headers=user.headers, params={"is_active": "true"}).json()["results"]
    assert len(active) == 4

    bad = client.get(BASE, headers=user.headers, params={"cursor": "nonsense!"})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    bad = client.get(BASE, headers=user.headers, params={"limit": 0})
    assert bad.status_code == 400 and bad.json()["field"] == "limit"


def test_patch_changes_fire_updated_with_the_changed_fields(client, make_user, sql, fake_clock):
    user = make_user()
    qr = create_qr(client, user.headers)
    url = f"{BASE}{qr['short_id']}/"
    fake_clock.advance(minutes=5)

    response = client.patch(
        url,
        headers=user.headers,
        json={"destination_url": "https://example.com/summer", "name": "Summer"},
    )
    assert response.status_code == 200
    assert response.json()["destination_url"] == "https://example.com/summer"
    assert response.json()["updated_at"] == "2026-05-09T14:05:00Z"
    assert response.json()["created_at"] == "2026-05-09T14:00:00Z"

    # The same values again: nothing changes, nothing fires.
    assert client.patch(url, headers=user.headers, json={"name": "Summer"}).status_code == 200
    client.patch(
        url,
        headers=user.headers,
        json={"variants": [{"label": "A", "destination_url": "https://a.example/", "weight": 1}]},
    )
    client.patch(url, headers=user.headers, json={"is_active": False})
    client.patch(url, headers=user.headers, json={"variants": None})

    events = stored_events(sql, "dynamic_qr.updated")
    assert [event["data"]["changed"] for event in events] == [
        ["name", "destination_url"],
        ["variants"],
        ["is_active"],
        ["variants"],
    ]
    first = events[0]["data"]
    assert first == {
        "short_id": qr["short_id"],
        "name": "Summer",
        "destination_url": "https://example.com/summer",
        "owner_id": user.id,
        "is_active": True,
        "variants": [],
        "changed": ["name", "destination_url"],
    }
    assert events[1]["data"]["variants"] == [
        {"label": "A", "destination_url": "https://a.example/", "weight": 1}
    ]
    assert events[2]["data"]["is_active"] is False
    assert client.get(url, headers=user.headers).json()["variants"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"destination_url": "ftp://x/"}, "destination_url"),
        ({"is_active": "yes"}, "is_active"),
        ({"name": "x" * 201}, "name"),
        (
            {"variants": [{"label": "A", "destination_url": "https://a/", "weight": -1}]},
            "variants[0].weight",
        ),
        ({"short_id": "aaaaaaaa"}, "short_id"),
    ],
)
def test_bad_patch_is_400_and_changes_nothing(shared, shared_user, body, field):
    client, user = shared.client, shared_user
    qr = create_qr(client, user.headers)
    events = shared.count("events")
    response = client.patch(f"{BASE}{qr['short_id']}/", headers=user.headers, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert shared.count("events") == events
    assert client.get(f"{BASE}{qr['short_id']}/", headers=user.headers).json() == qr


def test_delete_hides_the_qr_and_its_link_answers_410(client, make_user, sql):
    user = make_user()
    qr = create_qr(client, user.headers)
    url = f"{BASE}{qr['short_id']}/"
    assert client.delete(url, headers=user.headers).status_code == 204
    assert client.get(url, headers=user.headers).status_code == 404
    assert client.delete(url, headers=user.headers).status_code == 404
    assert client.get(BASE, headers=user.headers).json()["results"] == []
    response = client.get(f"/r/{qr['short_id']}", follow_redirects=False)
    assert response.status_code == 410
    # The short id stays taken so a printed code never points somewhere new.
    assert sql("SELECT count(*) FROM dynamic_qrs WHERE short_id = ?", (qr["short_id"],))[0][0] == 1


def test_owner_isolation_on_every_route(client, make_user, sql):
    owner, intruder = make_user(), make_user()
    qr = create_qr(client, owner.headers)
    sid = qr["short_id"]
    routes = [
        ("GET", f"{BASE}{sid}/", None),
        ("PATCH", f"{BASE}{sid}/", {"name": "mine now"}),
        ("DELETE", f"{BASE}{sid}/", None),
        ("GET", f"{BASE}{sid}/image", None),
        ("GET", f"{BASE}{sid}/scans/", None),
        ("GET", f"{BASE}{sid}/scans.csv", None),
        ("GET", f"{BASE}{sid}/stats/", None),
    ]
    for method, path, body in routes:
        response = client.request(method, path, headers=intruder.headers, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["status_code"] == 404
        # The owner still can.
        if method == "GET":
            assert client.get(path, headers=owner.headers).status_code == 200, path
    assert client.get(BASE, headers=intruder.headers).json()["results"] == []
    assert sql("SELECT name, deleted_at FROM dynamic_qrs")[0]["name"] == qr["name"]
    assert sql("SELECT deleted_at FROM dynamic_qrs")[0]["deleted_at"] is None
    assert sql("SELECT count(*) FROM events WHERE type = 'dynamic_qr.updated'")[0][0] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", BASE),
        ("POST", BASE),
        ("GET", f"{BASE}aaaaaaaa/"),
        ("GET", f"{BASE}aaaaaaaa/stats/"),
        ("POST", "/api/v1/generate/"),
    ],
)
def test_routes_need_a_token(shared, method, path):
    assert shared.client.request(method, path, json={}).status_code == 401


def test_image_renders_the_short_link(client, make_user):
    from tests.qr.qr_images import decode_png, decode_svg

    user = make_user()
    qr = create_qr(client, user.headers)
    png = client.get(f"{BASE}{qr['short_id']}/image", headers=user.headers, params={"scale": 4})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decode_png(png.content) == qr["short_url"]
    svg = client.get(
        f"{BASE}{qr['short_id']}/image",
        headers=user.headers,
        params={"format": "svg", "dark": "#036", "light": "transparent"},
    )
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert decode_svg(svg.content) == qr["short_url"]
    bad = client.get(f"{BASE}{qr['short_id']}/image", headers=user.headers, params={"border": 30})
    assert bad.status_code == 400 and bad.json()["field"] == "border"
    bad = client.get(f"{BASE}{qr['short_id']}/image", headers=user.headers, params={"dark": "blue"})
    assert bad.status_code == 400 and bad.json()["field"] == "dark"
