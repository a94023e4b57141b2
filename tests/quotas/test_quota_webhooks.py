"""Threshold events ride the webhooks pipeline to a real local receiver."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.receivers import Receiver

from .conftest import PLANS


@pytest.fixture
def config(tmp_path) -> dict[str, Any]:
    return {
        "storage": {"data_dir": str(tmp_path / "data")},
        # "starter": a small quota WITH webhooks (a plan without them gets no deliveries).
        "plans": {
            **PLANS,
            "starter": {**PLANS["free"], "rank": 3, "webhooks": True, "max_webhooks": 1},
        },
        "webhooks": {"allow_http": True, "allow_private_targets": True},
    }


def test_threshold_events_are_delivered_once_each(make_user, client, ctx, admin_headers):
    account = make_user(plan="pro")
    with Receiver() as receiver:
        made = client.post(
            "/api/v1/webhooks/",
            headers=account.headers,
            json={"url": receiver.url, "events": ["quota.threshold_75", "quota.threshold_100"]},
        )
        assert made.status_code == 201, made.text
        # pro's 100 a month -> 4 with a move to starter after 2, so the lines are close
        for i in range(2):
            assert (
                client.post(
                    "/api/v1/generate/", headers=account.headers, json={"data": f"a{i}"}
                ).status_code
                == 200
            )
        moved = client.patch(
            f"/api/v1/admin/users/{account.id}/", headers=admin_headers, json={"plan": "starter"}
        )
        assert moved.status_code == 200, moved.text
        statuses = [
            client.post(
                "/api/v1/generate/", headers=account.headers, json={"data": f"b{i}"}
            ).status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 429]  # 3/4 fires 75; 4/4 fires 100; the 5th is refused
        client.blocking_portal.call(ctx.webhooks.dispatcher.run_due)
        got = receiver.wait_for(2)
    assert [r.headers["x-qrstudio-event"] for r in got] == [
        "quota.threshold_75",
        "quota.threshold_100",
    ]
    assert [r.json()["data"] for r in got] == [
        {
            "owner_id": account.id,
            "plan": "starter",
            "period": "2026-05",
            "used": 3,
            "limit": 4,
            "percent": 75,
        },
        {
            "owner_id": account.id,
            "plan": "starter",
            "period": "2026-05",
            "used": 4,
            "limit": 4,
            "percent": 100,
        },
    ]
    assert len(receiver.requests) == 2
