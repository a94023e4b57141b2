"""Quota tests run on small plans so 75% / 100% are a few generations away."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from qrstudio_box.quotas import service as quota
from qrstudio_box.workspaces.schemas import Caller

PLANS = {
    # 75% at 3, 100% at 4
    "free": {
        "rank": 0,
        "monthly_quota": 4,
        "webhooks": False,
        "max_webhooks": 0,
        "max_dynamic_qrs": 3,
        "api_rate_limit": 50,
    },
    "pro": {
        "rank": 10,
        "monthly_quota": 100,
        "webhooks": True,
        "max_webhooks": 5,
        "max_dynamic_qrs": 500,
        "api_rate_limit": 1000,
    },
    # for rate limit tests: 3 requests per minute
    "slow": {
        "rank": 5,
        "monthly_quota": 4,
        "webhooks": False,
        "max_webhooks": 0,
        "max_dynamic_qrs": 3,
        "api_rate_limit": 3,
    },
}


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    return {
        "storage": {"data_dir": str(tmp_path / "data")},
        "plans": PLANS,
        "ratelimit": {
            "login_failures_per_email_and_ip": 5,
            "login_failures_per_email": 20,
            "login_failures_per_ip": 8,
            "login_window_seconds": 900,
        },
    }


def user_of(client, headers) -> Caller:
    """The Caller these headers act as: the user in their personal workspace."""
    me = client.get("/api/v1/me/", headers=headers).json()
    listed = client.get("/api/v1/workspaces/", headers=headers).json()["results"]
    own = next(w for w in listed if w["personal"])
    return Caller(me["id"], me["role"] == "admin", own["id"], own["name"], own["plan"], own["role"])


class Charger:
    """Calls charge_generation on the app's loop, inside real db.write transactions."""

    def __init__(self, client, ctx) -> None:
        self.client, self.ctx = client, ctx

    def _charge(self, tx, user: Caller, before=None):
        if before is not None:
            before(tx)
        return quota.charge_generation(tx, user, self.ctx.settings, tx.clock.now())

    def one(self, user: Caller, before=None) -> quota.GenerationCharge:
        return self.client.blocking_portal.call(self.ctx.db.write, self._charge, user, before)

    def burst(self, user: Caller, count: int, batched: bool = False) -> list[Any]:
        write = self.ctx.db.write_batched if batched else self.ctx.db.write

        async def run() -> list[Any]:
            return await asyncio.gather(
                *[write(self._charge, user) for _ in range(count)], return_exceptions=True
            )

        return self.client.blocking_portal.call(run)


@pytest.fixture
def charger(client, ctx) -> Charger:
    return Charger(client, ctx)


@pytest.fixture
def quota_events(sql):
    def read(owner_id: int | None = None) -> list[dict]:
        rows = sql("SELECT owner_id, type, body FROM events WHERE type LIKE 'quota.%' ORDER BY seq")
        out = [
            json.loads(row["body"])
            for row in rows
            if owner_id is None or row["owner_id"] == owner_id
        ]
        return out

    return read
