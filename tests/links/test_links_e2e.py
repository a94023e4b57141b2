"""The redirect end to end through the real `qrstudio-box run` process."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import httpx
import pytest

from tests.links.helpers import (
    ANDROID_CHROME,
    DESKTOP_FIREFOX,
    GOOGLEBOT,
    IPHONE_SAFARI,
    SCAN_CREATED_FIELDS,
    assert_exact_fields,
)
from tests.links.mmdb import build_city_mmdb


@pytest.fixture
def mmdb(tmp_path):
    return build_city_mmdb(tmp_path / "GeoLite2-City-test.mmdb")


def read_db(path, statement, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def create(server, headers, **body):
    body.setdefault("destination_url", "https://example.com/menu")
    response = httpx.post(f"{server.base_url}/api/v1/dynamic-qrs/", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_redirect_behind_a_trusted_proxy(server_factory, mmdb):
    server = server_factory(
        config={
            "server": {
                "trusted_proxies": ["127.0.0.1/32"],
                "public_url": "https://qr.example.test",
            },
            "geoip": {"database": str(mmdb)},
        }
    ).start()
    headers = server.token()
    qr = create(server, headers, name="Spring 2026 menu")
    assert qr["short_url"] == f"https://qr.example.test/r/{qr['short_id']}"
    link = f"{server.base_url}/r/{qr['short_id']}"

    cases = [
        # user agent, X-Forwarded-For (the client wrote the left part), expected row
        (
            IPHONE_SAFARI,
            "6.6.6.6, 203.0.113.7",
            ("iPhone", "iOS", "Mobile Safari", 0, "CA", "Montreal"),
        ),
        (
            ANDROID_CHROME,
            "198.51.100.20",
            ("Pixel 8", "Android", "Chrome Mobile", 0, "DE", "Berlin"),
        ),
        (DESKTOP_FIREFOX, "2001:db8:1::9", ("Other", "Windows", "Firefox", 0, "JP", "Tokyo")),
        (GOOGLEBOT, "192.0.2.44", ("Spider", "Other", "Googlebot", 1, "FR", "")),
    ]
    for agent, forwarded, _ in cases:
        response = httpx.get(
            link,
            headers={
                "User-Agent": agent,
                "X-Forwarded-For": forwarded,
                "Referer": "https://news.example/story",
            },
        )
        assert response.status_code == 302
        assert response.headers["location"] == "https://example.com/menu"
        assert response.headers["cache-control"] == "no-store"

    rows = read_db(
        server.database_path,
        "SELECT device_family, os_family, browser_family, is_bot, country, city "
        "FROM scans ORDER BY id",
    )
    assert [tuple(row) for row in rows] == [expected for _, _, expected in cases]
    everything = " ".join(
        str(value)
        for row in read_db(server.database_path, "SELECT * FROM scans")
        for value in tuple(row)
    )
    for address in ("203.0.113.7", "198.51.100.20", "2001:db8:1::9", "192.0.2.44", "6.6.6.6"):
        assert address not in everything  # never the raw IP

    events = [
        json.loads(row["body"])
        for row in read_db(
            server.database_path, "SELECT body FROM events WHERE type = 'scan.created' ORDER BY seq"
        )
    ]
    assert len(events) == 4
    for event in events:
        assert list(event) == ["type", "id", "created_at", "data"]
        assert_exact_fields(event["data"], SCAN_CREATED_FIELDS)
    assert events[0]["data"]["country"] == "CA" and events[0]["data"]["city"] == "Montreal"
    assert events[3]["data"]["is_bot"] is True
    assert events[0]["data"]["referer"] == "https://news.example/story"

    # HEAD redirects without recording; unknown and inactive links are pages.
    assert httpx.head(link).status_code == 302
    assert read_db(server.database_path, "SELECT count(*) FROM scans")[0][0] == 4
    unknown = httpx.get(f"{server.base_url}/r/zzzzzzzz", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    httpx.patch(
        f"{server.base_url}/api/v1/dynamic-qrs/{qr['short_id']}/",
        headers=headers,
        json={"is_active": False},
    )
    gone = httpx.get(link)
    assert gone.status_code == 410 and gone.headers["content-type"].startswith("text/html")
    assert read_db(server.database_path, "SELECT count(*) FROM scans")[0][0] == 4


def test_forwarded_for_is_ignored_without_trusted_proxies(server_factory, mmdb):
    server = server_factory(config={"geoip": {"database": str(mmdb)}}).start()
    qr = create(server, server.token())
    response = httpx.get(
        f"{server.base_url}/r/{qr['short_id']}",
        headers={"User-Agent": IPHONE_SAFARI, "X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 302
    # The peer (127.0.0.1) is what counts, and it is in no test network.
    row = read_db(server.database_path, "SELECT country, city FROM scans")[0]
    assert tuple(row) == ("", "")


def test_concurrent_scans_are_all_committed_before_their_302(server_factory):
    server = server_factory().start()
    headers = server.token()
    qr = create(
        server,
        headers,
        variants=[
            {"label": "A", "destination_url": "https://a.example/", "weight": 1},
            {"label": "B", "destination_url": "https://b.example/", "weight": 1},
        ],
    )
    link = f"{server.base_url}/r/{qr['short_id']}"

    async def burst(n):
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            responses = await asyncio.gather(
                *[
                    client.get(link, headers={"User-Agent": f"{IPHONE_SAFARI} n{i}"})
                    for i in range(n)
                ]
            )
        return responses

    responses = asyncio.run(burst(300))
    assert [r.status_code for r in responses] == [302] * 300
    locations = [r.headers["location"] for r in responses]
    # Every answered scan is stored once, with the variant it was sent to.
    rows = read_db(server.database_path, "SELECT destination_url, variant_label FROM scans")
    assert len(rows) == 300
    assert sorted(row["destination_url"] for row in rows) == sorted(locations)
    assert (
        read_db(server.database_path, "SELECT count(*) FROM events WHERE type = 'scan.created'")[0][
            0
        ]
        == 300
    )
    assert read_db(server.database_path, "SELECT scan_count FROM dynamic_qrs")[0][0] == 300
    stats = httpx.get(
        f"{server.base_url}/api/v1/dynamic-qrs/{qr['short_id']}/stats/", headers=headers
    ).json()
    assert stats["totals"]["scans"] == 300
    assert 270 <= stats["totals"]["unique_scanners"] <= 330  # an estimate: HyperLogLog, ~3%
