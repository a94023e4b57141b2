"""Retention: how long scans, the webhook delivery log and events are kept ([retention]).

`prune_plan` is the rule (pure: settings and now in, cutoffs out); `prune_all` carries it
out in short write transactions. `start(ctx)` in ops/domain.py runs `prune_all` on the
scheduler every `[retention] prune_interval_minutes`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..clock import iso_s, unix_ms
from ..config import RetentionSettings
from . import store

log = logging.getLogger("qrstudio_box.ops.retention")

# Rows deleted per write transaction: small enough that a batch of scans waiting on the
# writer is delayed by milliseconds, large enough that a big backlog goes in few rounds.
BATCH_SIZE = 2000


@dataclass(frozen=True)
class PruneStep:
    name: str  # what the log and the result call it
    prune: Callable[..., int]  # store function (tx, cutoff, limit) -> rows deleted
    cutoff: Any  # unix ms or ISO text, as that table stores time


def prune_plan(retention: RetentionSettings, now: datetime) -> list[PruneStep]:
    """The steps to run now, in order. A kind kept forever (0 days) has no step.

    Order matters: the delivery log goes before events, because an event is kept as long
    as a delivery still refers to it."""
    steps = []
    if retention.scans_days:
        steps.append(
            PruneStep(
                "scans", store.prune_scans, unix_ms(now - timedelta(days=retention.scans_days))
            )
        )
    if retention.deliveries_days:
        cutoff = unix_ms(now - timedelta(days=retention.deliveries_days))
        steps.append(PruneStep("delivery_attempts", store.prune_delivery_attempts, cutoff))
        steps.append(PruneStep("deliveries", store.prune_finished_deliveries, cutoff))
    if retention.events_days:
        steps.append(
            PruneStep(
                "events", store.prune_events, iso_s(now - timedelta(days=retention.events_days))
            )
        )
    return steps


async def prune_all(ctx: Any, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Run every step of the plan to the end; returns rows deleted per step."""
    deleted: dict[str, int] = {}
    for step in prune_plan(ctx.settings.retention, ctx.clock.now()):
        total = 0
        while True:
            # One short transaction per batch: other writers get the lock in between.
            count = await ctx.db.write(step.prune, step.cutoff, batch_size)
            total += count
            if count < batch_size:
                break
        deleted[step.name] = total
    if any(deleted.values()):
        log.info(
            "retention: pruned %s",
            ", ".join(f"{n} {name}" for name, n in deleted.items() if n),
            extra={"pruned": deleted},
        )
    return deleted


async def prune_job(ctx: Any) -> None:
    """The scheduled job: a failure is logged and retried at the next run, never fatal."""
    try:
        await prune_all(ctx)
    except Exception:
        log.exception("retention pruning failed; it will run again at the next interval")
