"""Smart routing over HTTP: rules through the API (validation naming each field), each kind of
client getting its destination with the label on the scan record and in scan.created, and the
upgrade of a 0.1.0 database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from qrstudio_box.db import migrate
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
from tests.links.mmdb import build_city_mmdb

BASE = "/api/v1/dynamic-qrs/"
RELEASE_DB = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0.db"

RULES = [
    {"label": "bots", "destination_url": "https://example.com/bots", "when": {"bots": True}},
    {
        "label": "ios",
        "destination_url": "https://apps.apple.com/app/id1",
        "when": {"os": ["iOS"]},
    },
    {
        "label": "android",
        "destination_url": "https://play.google.com/store/apps/details?id=x",
        "when": {"os": ["Android"]},
    },
    {"label": "french", "destination_url": "https://example.com/fr", "when": {"language": ["fr"]}},
    {"label": "germany", "destination_url": "https://example.com/de", "when": {"country": ["DE"]}},
]


def test_rules_round_trip_and_fire_updated(client, make_user, sql):
    user = make_user()
    qr = create_qr(client, user.headers, rules=RULES[:2])
    assert qr["rules"] == [
        {"label": "bots", "destination_url": "https://example.com/bots", "when": {"bots": True}},
        {
            "label": "ios",
            "destination_url": "https://apps.apple.com/app/id1",
            "when": {"os": ["iOS"]},
        },
    ]
    url = f"{BASE}{qr['short_id']}/"
    hours = {"from": "09:00", "to": "17:00", "tz": "Europe/Paris"}
    response = client.patch(
        url,
        headers=user.headers,
        json={
            "rules": [
                {
                    "label": "office",
                    "destination_url": "https://o.example/",
                    "when": {"hours": hours},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["rules"][0]["when"] == {"hours": hours}
    assert client.get(url, headers=user.headers).json()["rules"] == response.json()["rules"]
    assert client.patch(url, headers=user.headers, json={"rules": None}).json()["rules"] == []
    changed = [e["data"]["changed"] for e in stored_events(sql, "dynamic_qr.updated")]
    assert changed == [["rules"], ["rules"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "rules": [
                    {
                        "label": "a",
                        "destination_url": "https://a.example/",
                        "when": {"country": ["ZZ"]},
                    }
                ]
            },
            "rules[0].when.country",
        ),
        (
            {
                "rules": [
                    {
                        "label": "a",
                        "destination_url": "https://a.example/",
                        "when": {"device": [""]},
                    }
                ]
            },
            "rules[0].when.device",
        ),
        (
            {
                "rules": [
                    {
                        "label": "a",
                        "destination_url": "https://a.example/",
                        "when": {"hours": {"from": "09:00", "to": "10:00", "tz": "Europe/Pariss"}},
                    }
                ]
            },
            "rules[0].when.hours.tz",
        ),
        (
            {
                "rules": [
                    {
                        "label": "a",
                        "destination_url": "https://a.example/",
                        "when": {
                            "between": {
                                "from": "2026-07-01T00:00:00Z",
                                "to": "2026-06-01T00:00:00Z",
                            }
                        },
                    }
                ]
            },
            "rules[0].when.between.from",
        ),
        (
            {"rules": [{"label": "a", "destination_url": "javascript:alert(1)"}]},
            "rules[0].destination_url",
        ),
        (
            {
                "rules": [
                    {"label": f"r{i}", "destination_url": "https://a.example/"} for i in range(51)
                ]
            },
            "rules",
        ),
        (
            {
                "rules": [{"label": "A", "destination_url": "https://a.example/"}],
                "variants": [{"label": "A", "destination_url": "https://b.example/"}],
            },
            "rules[0].label",
        ),
        (
            {"active_from": "2026-07-01T00:00:00Z", "active_until": "2026-06-01T00:00:00Z"},
            "active_from",
        ),
        ({"active_until": "next tuesday"}, "active_until"),
        ({"max_scans": 0}, "max_scans"),
        ({"expired_url": "http://"}, "expired_url"),
        ({"utm": {"source": "x" * 201}}, "utm.source"),
    ],
)
def test_bad_routing_input_is_a_400_naming_the_field_and_changes_nothing(
    client, make_user, sql, body, field
):
    user = make_user()
    before = sql("SELECT count(*) FROM dynamic_qrs")[0][0]
    response = client.post(
        BASE, headers=user.headers, json={"destination_url": "https://example.com/", **body}
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert response.json()["detail"].startswith(f"{field}: ")
    assert sql("SELECT count(*) FROM dynamic_qrs")[0][0] == before
    # The same through PATCH (a rule label may clash with the variants already there).
    qr = create_qr(client, user.headers, variants=body.get("variants"))
    response = client.patch(
        f"{BASE}{qr['short_id']}/",
        headers=user.headers,
        json={k: v for k, v in body.items() if k != "variants"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_a_rule_label_may_not_reuse_a_variant_label_added_later(client, make_user):
    user = make_user()
    qr = create_qr(
        client, user.headers, rules=[{"label": "A", "destination_url": "https://a.example/"}]
    )
    response = client.patch(
        f"{BASE}{qr['short_id']}/",
        headers=user.headers,
        json={"variants": [{"label": "A", "destination_url": "https://b.example/"}]},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "rules[0].label"


def test_each_kind_of_client_gets_its_destination_and_the_label_is_recorded(
    server_factory, tmp_path
):
    """The real server (the fast path), GeoIP through a trusted proxy's X-Forwarded-For."""
    mmdb = build_city_mmdb(tmp_path / "city.mmdb")
    server = server_factory(
        config={
            "server": {"trusted_proxies": ["127.0.0.1/32"]},
            "geoip": {"database": str(mmdb)},
        }
    ).start()
    headers = server.token()
    response = httpx.post(
        f"{server.base_url}{BASE}",
        headers=headers,
        json={"destination_url": "https://example.com/menu", "rules": RULES},
    )
    assert response.status_code == 201, response.text
    short_id = response.json()["short_id"]
    cases = [
        # user agent, Accept-Language, X-Forwarded-For, label, Location
        (GOOGLEBOT, "fr", "203.0.113.7", "bots", "https://example.com/bots"),
        (IPHONE_SAFARI, "fr", "203.0.113.7", "ios", "https://apps.apple.com/app/id1"),
        (ANDROID_CHROME, None, "198.51.100.9", "android", RULES[2]["destination_url"]),
        (DESKTOP_FIREFOX, "fr-CA,en;q=0.5", "203.0.113.7", "french", "https://example.com/fr"),
        (DESKTOP_FIREFOX, "en", "198.51.100.9", "germany", "https://example.com/de"),
        (DESKTOP_FIREFOX, "en", "203.0.113.7", "(default)", "https://example.com/menu"),
        (DESKTOP_FIREFOX, None, "10.0.0.1", "(default)", "https://example.com/menu"),
    ]
    with httpx.Client(base_url=server.base_url) as http:
        for agent, language, forwarded, label, location in cases:
            sent = {"User-Agent": agent, "X-Forwarded-For": forwarded}
            if language:
                sent["Accept-Language"] = language
            answer = http.get(f"/r/{short_id}", headers=sent)
            assert (answer.status_code, answer.headers["location"]) == (302, location), label
    conn = sqlite3.connect(server.database_path)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT variant_label, destination_url FROM scans ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(c[3], c[4]) for c in cases]
    events = stored_events(lambda q, p=(): conn.execute(q, p).fetchall(), "scan.created")
    for event, case in zip(events, cases, strict=True):
        assert_exact_fields(event["data"], SCAN_CREATED_FIELDS)
        assert (event["data"]["variant_label"], event["data"]["destination_url"]) == case[3:]
    stats = httpx.get(f"{server.base_url}{BASE}{short_id}/stats/?bots=include", headers=headers)
    # The rules' labels first (in rule order), then the variants (here the default).
    assert [v["label"] for v in stats.json()["variants"]] == [
        "bots",
        "ios",
        "android",
        "french",
        "germany",
        "(default)",
    ]
    variants = {v["label"]: v["scans"] for v in stats.json()["variants"]}
    assert variants == {
        "(default)": 2,
        "bots": 1,
        "ios": 1,
        "android": 1,
        "french": 1,
        "germany": 1,
    }
    conn.close()


def test_upgrading_a_0_1_0_database_keeps_every_id_and_behaviour(tmp_path):
    path = tmp_path / "release.db"
    shutil.copy(RELEASE_DB, path)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row

    def ids():
        return (
            conn.execute("SELECT id, short_id, owner_id FROM dynamic_qrs ORDER BY id").fetchall(),
            conn.execute("SELECT id FROM events ORDER BY seq").fetchall(),
            conn.execute("SELECT id, owner_id FROM webhooks ORDER BY id").fetchall(),
        )

    before = [[tuple(row) for row in rows] for rows in ids()]
    assert "0007_smart_routing" in migrate(conn)
    assert [[tuple(row) for row in rows] for rows in ids()] == before
    assert all(event[0].startswith("evt_") for event in before[1])
    # Old QRs: no rules, no lifecycle, no UTM, no forwarding, never ended.
    rows = conn.execute(
        "SELECT rules, active_from_ms, active_until_ms, max_scans, expired_url, utm,"
        " forward_query, ended_at FROM dynamic_qrs"
    ).fetchall()
    assert {tuple(row) for row in rows} == {("[]", None, None, None, "", "{}", 0, None)}
    assert conn.execute("SELECT count(*) FROM utm_defaults").fetchone()[0] == 0
    conn.close()


def test_an_upgraded_database_serves_its_old_codes_as_before(server_factory):
    server = server_factory()
    server.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(RELEASE_DB, server.database_path)
    server.start()
    conn = sqlite3.connect(server.database_path)
    codes = conn.execute(
        "SELECT short_id, destination_url, scan_count FROM dynamic_qrs ORDER BY id"
    ).fetchall()
    variants = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT q.short_id, count(*) FROM variants v JOIN dynamic_qrs q ON q.id = v.qr_id"
            " GROUP BY 1"
        )
    }
    for short_id, destination, _ in codes:
        answer = httpx.get(f"{server.base_url}/r/{short_id}", headers={"User-Agent": IPHONE_SAFARI})
        assert answer.status_code == 302
        if short_id not in variants:
            assert answer.headers["location"] == destination
    after = conn.execute("SELECT short_id, scan_count FROM dynamic_qrs ORDER BY id").fetchall()
    assert [count for _, count in after] == [count + 1 for _, _, count in codes]
    conn.close()
