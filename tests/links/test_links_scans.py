"""The redirect and what it records, scans, CSV and stats, through the app over HTTP."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter

import pytest

from qrstudio_box.links import fastpath
from tests.links.helpers import (
    ANDROID_CHROME,
    DESKTOP_FIREFOX,
    GOOGLEBOT,
    IPHONE_SAFARI,
    SCAN_CREATED_FIELDS,
    assert_exact_fields,
    create_qr,
    stored_events,
)

BASE = "/api/v1/dynamic-qrs/"


def scan(client, short_id, user_agent=IPHONE_SAFARI, **headers):
    response = client.get(
        f"/r/{short_id}", headers={"User-Agent": user_agent, **headers}, follow_redirects=False
    )
    return response


def test_redirect_records_the_scan_and_its_event(client, make_user, sql, fake_clock):
    user = make_user()
    qr = create_qr(
        client,
        user.headers,
        name="Spring 2026 menu",
        destination_url="https://example.com/menus/spring-2026",
    )
    fake_clock.advance(seconds=83.451)
    response = scan(client, qr["short_id"], Referer="https://google.com/search?q=menu")
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/menus/spring-2026"
    assert response.headers["cache-control"] == "no-store"

    rows = sql("SELECT * FROM scans")
    assert len(rows) == 1
    row = rows[0]
    assert row["scanned_at"] == 1778335283451  # 2026-05-09T14:01:23.451Z
    assert (row["device_family"], row["os_family"], row["browser_family"], row["is_bot"]) == (
        "iPhone",
        "iOS",
        "Mobile Safari",
        0,
    )
    assert row["variant_label"] == "(default)"
    assert row["referer"] == "https://google.com/search?q=menu"
    # No raw address anywhere in the row.
    assert "testclient" not in " ".join(str(v) for v in tuple(row))

    events = stored_events(sql, "scan.created")
    assert len(events) == 1
    assert list(events[0]) == ["type", "id", "created_at", "data"]
    assert events[0]["created_at"] == "2026-05-09T14:01:23Z"
    data = events[0]["data"]
    assert_exact_fields(data, SCAN_CREATED_FIELDS)
    assert data == {
        "short_id": qr["short_id"],
        "name": "Spring 2026 menu",
        "owner_id": user.id,
        "destination_url": "https://example.com/menus/spring-2026",
        "scanned_at": "2026-05-09T14:01:23.451Z",
        "country": "",
        "city": "",
        "device_family": "iPhone",
        "os_family": "iOS",
        "browser_family": "Mobile Safari",
        "referer": "https://google.com/search?q=menu",
        "user_agent": IPHONE_SAFARI,
        "is_bot": False,
        "variant_label": "(default)",
    }
    assert client.get(f"{BASE}{qr['short_id']}/", headers=user.headers).json()["scan_count"] == 1


def test_long_user_agents_are_cut_at_512(client, make_user, sql):
    user = make_user()
    qr = create_qr(client, user.headers)
    scan(client, qr["short_id"], user_agent="Mozilla/5.0 " + "x" * 1000)
    assert len(sql("SELECT user_agent FROM scans")[0][0]) == 512
    assert len(stored_events(sql, "scan.created")[0]["data"]["user_agent"]) == 512


def test_head_redirects_without_recording(client, make_user, sql):
    user = make_user()
    qr = create_qr(client, user.headers)
    response = client.head(f"/r/{qr['short_id']}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/menu"
    assert response.headers["cache-control"] == "no-store"
    assert client.head("/r/zzzzzzzz", follow_redirects=False).status_code == 404
    assert sql("SELECT count(*) FROM scans")[0][0] == 0
    assert sql("SELECT count(*) FROM events WHERE type = 'scan.created'")[0][0] == 0


@pytest.mark.parametrize(
    "path", ["/r/zzzzzzzz", "/r/short", "/r/..%2F..%2Fetc", "/r/aaaaaaaaaaaaaaaaaaaa"]
)
def test_unknown_links_are_a_404_page(shared, path):
    scans = shared.count("scans")
    response = shared.client.get(path, follow_redirects=False, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    if "%2F" not in path:  # an encoded slash never reaches our route: the app's own 404 page
        assert "Unknown code" in response.text
    assert shared.count("scans") == scans


def test_inactive_is_a_410_page_and_reactivation_redirects_again(client, make_user, sql):
    user = make_user()
    qr = create_qr(client, user.headers)
    client.patch(f"{BASE}{qr['short_id']}/", headers=user.headers, json={"is_active": False})
    response = scan(client, qr["short_id"])
    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/html")
    assert "no longer active" in response.text
    assert sql("SELECT count(*) FROM scans")[0][0] == 0
    client.patch(
        f"{BASE}{qr['short_id']}/",
        headers=user.headers,
        json={"is_active": True, "destination_url": "https://example.com/new"},
    )
    response = scan(client, qr["short_id"])
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/new"


@pytest.mark.parametrize(
    ("user_agent", "families", "is_bot"),
    [
        (IPHONE_SAFARI, ("iPhone", "iOS", "Mobile Safari"), False),
        (ANDROID_CHROME, ("Pixel 8", "Android", "Chrome Mobile"), False),
        (DESKTOP_FIREFOX, ("Other", "Windows", "Firefox"), False),
        (GOOGLEBOT, ("Spider", "Other", "Googlebot"), True),
        ("curl/8.5.0", ("Other", "Other", "curl"), True),
    ],
)
def test_user_agent_families_and_bots(shared, shared_user, user_agent, families, is_bot):
    qr = create_qr(shared.client, shared_user.headers)
    assert scan(shared.client, qr["short_id"], user_agent).status_code == 302
    row = shared.sql(
        "SELECT s.* FROM scans s JOIN dynamic_qrs q ON q.id = s.qr_id WHERE q.short_id = ?",
        (qr["short_id"],),
    )[0]
    assert (row["device_family"], row["os_family"], row["browser_family"]) == families
    assert row["is_bot"] == int(is_bot)


def test_variant_weights_hold_and_scanners_stick(client, make_user, sql):
    user = make_user()
    qr = create_qr(
        client,
        user.headers,
        variants=[
            {"label": "A", "destination_url": "https://a.example/", "weight": 3},
            {"label": "B", "destination_url": "https://b.example/", "weight": 1},
        ],
    )
    n = 400
    where = Counter()
    first_pick = {}
    for i in range(n):
        agent = f"{IPHONE_SAFARI} scanner/{i}"
        location = scan(client, qr["short_id"], agent).headers["location"]
        where[location] += 1
        first_pick[agent] = location
    expected_a = n * 3 / 4
    assert abs(where["https://a.example/"] - expected_a) < 5 * math.sqrt(n * 0.75 * 0.25), where
    assert where["https://a.example/"] + where["https://b.example/"] == n
    # The same scanners again: every one lands where it landed before.
    for agent, location in list(first_pick.items())[:60]:
        assert scan(client, qr["short_id"], agent).headers["location"] == location
    labels = Counter(row[0] for row in sql("SELECT variant_label FROM scans"))
    assert labels["A"] + labels["B"] == n + 60
    stats = client.get(f"{BASE}{qr['short_id']}/stats/", headers=user.headers).json()
    assert {v["label"]: v["scans"] for v in stats["variants"]} == dict(labels)


def test_scans_list_filters_and_cursor(client, make_user, fake_clock):
    user = make_user()
    qr = create_qr(client, user.headers)
    sid = qr["short_id"]
    scan(client, sid, IPHONE_SAFARI)  # 2026-05-09 14:00
    fake_clock.advance(hours=1)
    scan(client, sid, GOOGLEBOT)  # 15:00
    fake_clock.advance(days=1)
    scan(client, sid, ANDROID_CHROME)  # 2026-05-10 15:00
    fake_clock.advance(seconds=1)
    scan(client, sid, DESKTOP_FIREFOX)  # 15:00:01

    url = f"{BASE}{sid}/scans/"
    everything = client.get(url, headers=user.headers).json()
    assert [s["browser_family"] for s in everything["results"]] == [
        "Firefox",
        "Chrome Mobile",
        "Googlebot",
        "Mobile Safari",
    ]
    assert everything["next"] is None
    assert everything["results"][0]["scanned_at"] == "2026-05-10T15:00:01.000Z"

    page1 = client.get(url, headers=user.headers, params={"limit": 3}).json()
    page2 = client.get(
        url, headers=user.headers, params={"limit": 3, "cursor": page1["next"]}
    ).json()
    assert [s["id"] for s in page1["results"] + page2["results"]] == [
        s["id"] for s in everything["results"]
    ]
    assert page2["next"] is None

    def families(**params):
        response = client.get(url, headers=user.headers, params=params)
        assert response.status_code == 200, response.text
        return [s["browser_family"] for s in response.json()["results"]]

    assert families(is_bot="true") == ["Googlebot"]
    assert families(is_bot="false") == ["Firefox", "Chrome Mobile", "Mobile Safari"]
    assert families(**{"from": "2026-05-10"}) == ["Firefox", "Chrome Mobile"]
    assert families(to="2026-05-09") == ["Googlebot", "Mobile Safari"]
    assert families(**{"from": "2026-05-09T14:30:00Z", "to": "2026-05-10T15:00:00Z"}) == [
        "Chrome Mobile",
        "Googlebot",
    ]
    assert families(country="ca") == []
    for params, field in [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"country": "CAN"}, "country"),
        ({"is_bot": "maybe"}, "is_bot"),
        ({"cursor": "abc"}, "cursor"),
        ({"limit": 1000}, "limit"),
    ]:
        response = client.get(url, headers=user.headers, params=params)
        assert response.status_code == 400, params
        assert response.json()["field"] == field, response.json()


def test_scans_csv(client, make_user):
    user = make_user()
    qr = create_qr(client, user.headers)
    scan(client, qr["short_id"], IPHONE_SAFARI, Referer="https://news.example/a")
    scan(client, qr["short_id"], '=HYPERLINK("http://evil")')
    response = client.get(f"{BASE}{qr['short_id']}/scans.csv", headers=user.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="scans-{qr["short_id"]}.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2
    assert list(rows[0]) == [
        "id",
        "scanned_at",
        "destination_url",
        "variant_label",
        "country",
        "city",
        "device_family",
        "os_family",
        "browser_family",
        "referer",
        "user_agent",
        "is_bot",
    ]
    assert rows[1]["browser_family"] == "Mobile Safari" and rows[1]["is_bot"] == "false"
    assert rows[1]["referer"] == "https://news.example/a"
    # A formula-looking user agent is defused for spreadsheets.
    assert rows[0]["user_agent"].startswith("'=")
    filtered = client.get(
        f"{BASE}{qr['short_id']}/scans.csv",
        headers=user.headers,
        params={"is_bot": "false", "country": "FR"},
    )
    assert filtered.text.count("\r\n") == 1  # the header only


def test_stats(client, make_user, fake_clock):
    user = make_user()
    qr = create_qr(
        client,
        user.headers,
        variants=[
            {"label": "A", "destination_url": "https://a.example/", "weight": 1},
            {"label": "B", "destination_url": "https://b.example/", "weight": 1},
        ],
    )
    sid = qr["short_id"]
    for agent in (IPHONE_SAFARI, IPHONE_SAFARI, ANDROID_CHROME):
        scan(client, sid, agent, Referer="https://www.google.com/search?q=x")
    scan(client, sid, GOOGLEBOT)
    fake_clock.advance(days=2)
    scan(client, sid, DESKTOP_FIREFOX)

    url = f"{BASE}{sid}/stats/"
    stats = client.get(url, headers=user.headers).json()
    assert stats["from"] == "2026-05-09" and stats["to"] == "2026-05-11"
    assert stats["bots"] == "exclude"
    assert stats["totals"] == {"scans": 4, "unique_scanners": 3, "bots": 1}
    assert stats["per_day"] == [
        {"date": "2026-05-09", "scans": 3},
        {"date": "2026-05-10", "scans": 0},
        {"date": "2026-05-11", "scans": 1},
    ]
    assert stats["browser_families"] == [
        {"value": "Mobile Safari", "scans": 2},
        {"value": "Chrome Mobile", "scans": 1},
        {"value": "Firefox", "scans": 1},
    ]
    assert stats["os_families"][0] == {"value": "iOS", "scans": 2}
    assert stats["device_families"][0] == {"value": "iPhone", "scans": 2}
    assert stats["referers"] == [
        {"value": "https://www.google.com/", "scans": 3},
        {"value": "", "scans": 1},
    ]
    assert stats["countries"] == [{"value": "", "scans": 4}]
    assert stats["cities"] == [{"country": "", "city": "", "scans": 4}]
    assert [v["label"] for v in stats["variants"]] == ["A", "B"]
    assert sum(v["scans"] for v in stats["variants"]) == 4

    only = client.get(url, headers=user.headers, params={"bots": "only"}).json()
    assert only["totals"] == {"scans": 1, "unique_scanners": 1, "bots": 1}
    assert only["browser_families"] == [{"value": "Googlebot", "scans": 1}]
    include = client.get(url, headers=user.headers, params={"bots": "include"}).json()
    assert include["totals"] == {"scans": 5, "unique_scanners": 4, "bots": 1}

    day = client.get(
        url, headers=user.headers, params={"from": "2026-05-11", "to": "2026-05-11"}
    ).json()
    assert day["totals"] == {"scans": 1, "unique_scanners": 1, "bots": 0}
    assert day["per_day"] == [{"date": "2026-05-11", "scans": 1}]

    top1 = client.get(url, headers=user.headers, params={"top": 1}).json()
    assert top1["browser_families"] == [{"value": "Mobile Safari", "scans": 2}]

    for params, field in [
        ({"bots": "some"}, "bots"),
        ({"from": "soon"}, "from"),
        ({"from": "2026-05-11", "to": "2026-05-10"}, "to"),
        ({"top": 0}, "top"),
    ]:
        response = client.get(url, headers=user.headers, params=params)
        assert response.status_code == 400, params
        assert response.json()["field"] == field


def test_usage_counter_counts_scans_per_owner_and_month(client, make_user, sql, fake_clock, ctx):
    from qrstudio_box.links.service import scans_in_period

    user, other = make_user(), make_user()
    qr = create_qr(client, user.headers)
    other_qr = create_qr(client, other.headers)
    scan(client, qr["short_id"])
    scan(client, qr["short_id"], GOOGLEBOT)
    scan(client, other_qr["short_id"])
    fake_clock.set(fake_clock.now().replace(month=6, day=1))
    scan(client, qr["short_id"])
    rows = sql("SELECT owner_id, period, scans FROM scan_usage ORDER BY owner_id, period")
    assert [tuple(r) for r in rows] == [
        (user.id, "2026-05", 2),
        (user.id, "2026-06", 1),
        (other.id, "2026-05", 1),
    ]
    assert client.blocking_portal.call(ctx.db.read, scans_in_period, user.id, "2026-05") == 2


def test_the_fast_path_and_the_litestar_handler_answer_the_same_302(
    client, make_user, sql, monkeypatch
):
    # /r/{id} of a live QR is answered by links/fastpath.py; with a trailing slash it falls
    # through to the Litestar handler (the documented route). Same answer, same recording.
    answered_fast = []
    real_scan = fastpath.scan

    async def counting_scan(*args, **kwargs):
        answered_fast.append(1)
        await real_scan(*args, **kwargs)

    monkeypatch.setattr(fastpath, "scan", counting_scan)
    user = make_user()
    qr = create_qr(client, user.headers, destination_url="https://bücher.example/ü?a=1")
    fast = scan(client, qr["short_id"])
    assert len(answered_fast) == 1
    routed = client.get(
        f"/r/{qr['short_id']}/", headers={"User-Agent": IPHONE_SAFARI}, follow_redirects=False
    )
    assert len(answered_fast) == 1  # the trailing slash went to the Litestar handler

    def answer(response):
        return response.status_code, response.headers.raw, response.content

    assert answer(fast) == answer(routed)
    assert fast.status_code == 302
    assert fast.headers["location"] == "https://xn--bcher-kva.example/%C3%BC?a=1"
    rows = sql(
        "SELECT qr_id, destination_url, variant_label, device_family, os_family, browser_family,"
        " referer, user_agent, is_bot, scanner FROM scans ORDER BY id"
    )
    assert len(rows) == 2 and tuple(rows[0]) == tuple(rows[1])
    events = stored_events(sql, "scan.created")
    assert len(events) == 2 and events[0]["data"] == events[1]["data"]


def test_repeated_user_agent_and_referer_are_read_alike_on_both_paths(client, make_user, sql):
    """The first of a repeated header counts, on the fast path as on the Litestar handler.
    Sent as raw ASGI headers: HTTP clients (the test client too) fold repeats into one line."""
    user = make_user()
    qr = create_qr(client, user.headers)
    headers = [
        (b"user-agent", IPHONE_SAFARI.encode()),
        (b"user-agent", b"curl/8.0"),
        (b"referer", b"https://first.example/"),
        (b"referer", b"https://second.example/"),
        (b"host", b"testserver"),
    ]

    async def get(path: str) -> int:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await client.app(scope, receive, send)
        return sent[0]["status"]

    for path in (f"/r/{qr['short_id']}", f"/r/{qr['short_id']}/"):  # fast path, then routed
        assert client.blocking_portal.call(get, path) == 302
    rows = sql("SELECT user_agent, referer, is_bot FROM scans ORDER BY id")
    assert [tuple(row) for row in rows] == [(IPHONE_SAFARI, "https://first.example/", 0)] * 2
