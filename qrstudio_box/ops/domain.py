"""The operations domain: GET /metrics and the retention pruning job."""

from __future__ import annotations

from typing import Any

from .metrics import metrics_endpoint
from .retention import prune_job

ROUTES: list[Any] = [metrics_endpoint]


async def start(ctx: Any) -> None:
    ctx.scheduler.add_job(
        prune_job,
        "interval",
        args=[ctx],
        minutes=ctx.settings.retention.prune_interval_minutes,
        id="ops-retention",
        coalesce=True,
        max_instances=1,
    )
