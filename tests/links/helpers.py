"""Shared test helpers for the links domain."""

from __future__ import annotations

import json
from typing import Any

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
DESKTOP_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

# The payloads of docs/webhooks.md: field name -> JSON type, in its order.
SCAN_CREATED_FIELDS = {
    "short_id": str,
    "name": str,
    "owner_id": int,
    "destination_url": str,
    "scanned_at": str,
    "country": str,
    "city": str,
    "device_family": str,
    "os_family": str,
    "browser_family": str,
    "referer": str,
    "user_agent": str,
    "is_bot": bool,
    "variant_label": str,
}
QR_CREATED_FIELDS = {"short_id": str, "name": str, "destination_url": str, "owner_id": int}


def create_qr(client, headers, **body: Any) -> dict[str, Any]:
    body.setdefault("destination_url", "https://example.com/menu")
    body.setdefault("name", "Spring menu")
    response = client.post("/api/v1/dynamic-qrs/", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def stored_events(sql, type_: str) -> list[dict[str, Any]]:
    return [
        json.loads(row["body"])
        for row in sql("SELECT body FROM events WHERE type = ? ORDER BY seq", (type_,))
    ]


def assert_exact_fields(data: dict[str, Any], fields: dict[str, type]) -> None:
    assert list(data) == list(fields), f"fields differ: {list(data)}"
    for name, kind in fields.items():
        value = data[name]
        # bool is an int in Python; JSON keeps them apart, so do we.
        assert type(value) is kind, f"{name}: {type(value).__name__}, expected {kind.__name__}"
