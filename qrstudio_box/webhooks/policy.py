"""Retry and endpoint-health rules, as pure functions (docs/webhooks.md's table, to the letter).

Retries: attempt 1 at once; after a failed attempt n the next one is due
``RETRY_DELAYS[n-1]`` after that FAILURE (1 min, 5 min, 30 min, 2 h); after the 5th failure the
delivery ends as failed. A 429 with Retry-After waits at least that long, capped at 2 hours.

Health: ``consecutive_failures`` counts failed attempts across deliveries; any success resets it.
At 5 the endpoint is ``degraded`` (deliveries go on). After 24 hours of continuous failure, counted
from the streak's first failure with no success since, it is ``disabled``: nothing more is sent
until someone re-enables it.

Slow sends: a send still unanswered after ``slow_after`` seconds is slow (the dispatcher hands
its slot on and claims for its endpoint one at a time until it answers). The threshold is the
configured floor, or SLOW_FACTOR times the endpoint's usual answer time when that is longer (but
at most half the deadline), so a receiver that always takes 300 ms is not taken for one that
hangs.

Plans: whether a plan includes webhooks (``plan_has_webhooks``), and the same rule in the form
the fan-out's SQL needs (``webhook_plan_filter``). Claims: how many deliveries one endpoint may
be leased (``free_slots``, ``failing_budget``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # 5
RETRY_AFTER_CAP = timedelta(hours=2)
DEGRADED_AT = 5
DISABLE_AFTER = timedelta(hours=24)

ACTIVE, DEGRADED, DISABLED = "active", "degraded", "disabled"
STATUSES = (ACTIVE, DEGRADED, DISABLED)

SLOW_FACTOR = 4
USUAL_WEIGHT = 0.2  # the newest answer's weight in an endpoint's usual answer time


def is_success(status_code: int | None) -> bool:
    """Only a 2xx counts: a 3xx is not followed and fails like any other non-2xx."""
    return status_code is not None and 200 <= status_code < 300


# -- plans ------------------------------------------------------------------------------------


def plan_has_webhooks(settings: Settings, plan_name: str | None) -> bool:
    """Whether owners on that plan get webhooks (the API, the pages and the deliveries).

    A plan name the config does not list (None: any such name) means the default plan, as
    ``Settings.plan`` decides: a user whose plan was removed from the config keeps working.
    """
    return settings.plan(plan_name).webhooks


@dataclass(frozen=True)
class PlanFilter:
    """``plan_has_webhooks`` over every stored plan name, as one SQL test can apply it:
    a name has webhooks when it is among ``exceptions`` XOR ``unlisted`` holds."""

    unlisted: bool  # what any name outside the config gets (the default plan's answer)
    exceptions: tuple[str, ...]  # the configured names whose answer differs from that


def webhook_plan_filter(settings: Settings) -> PlanFilter:
    unlisted = plan_has_webhooks(settings, None)
    exceptions = tuple(
        name for name in settings.plans if plan_has_webhooks(settings, name) != unlisted
    )
    return PlanFilter(unlisted, exceptions)


# -- claims -----------------------------------------------------------------------------------


def failing_budget(failing_total: int | None, failing_in_flight: int) -> int | None:
    """Slots left for endpoints on a failure streak (or suspect), which share `failing_total`
    of them (None: no shared cap), so those that hang to the deadline cannot take them all."""
    return None if failing_total is None else failing_total - failing_in_flight


def free_slots(per_endpoint: int, in_flight: int, failing: bool, budget: int | None) -> int:
    """How many more deliveries a claim may lease for one endpoint (<= 0: none).

    A healthy endpoint: up to `per_endpoint` in flight. One on a failure streak (or suspect)
    may be one that hangs: one at a time, and only while the failing endpoints' shared budget
    (`failing_budget`) lasts.
    """
    if failing and budget is not None:
        return min(1 - in_flight, budget)
    return per_endpoint - in_flight


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def next_attempt_at(
    failed_attempt: int,
    failed_at: datetime,
    *,
    status_code: int | None = None,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When attempt `failed_attempt + 1` is due, or None: the delivery has failed for good."""
    if failed_attempt >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[failed_attempt - 1]
    if status_code == 429 and retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return failed_at + delay


@dataclass(frozen=True)
class Health:
    status: str = ACTIVE
    consecutive_failures: int = 0
    failing_since: datetime | None = None  # first failure of the current streak


def after_failure(health: Health, now: datetime) -> Health:
    streak_start = health.failing_since or now
    failures = health.consecutive_failures + 1
    status = health.status
    if status != DISABLED:
        if now - streak_start >= DISABLE_AFTER:
            status = DISABLED
        elif failures >= DEGRADED_AT:
            status = DEGRADED
    return Health(status=status, consecutive_failures=failures, failing_since=streak_start)


def after_success(health: Health) -> Health:
    # A disabled endpoint stays disabled until re-enabled by hand, even if a send that was
    # already in flight when it was disabled succeeds; the streak is over though.
    status = DISABLED if health.status == DISABLED else ACTIVE
    return Health(status=status, consecutive_failures=0, failing_since=None)


def with_time_passed(health: Health, now: datetime) -> Health:
    """The 24 h rule applied without a new attempt (the periodic job)."""
    if (
        health.status != DISABLED
        and health.failing_since is not None
        and now - health.failing_since >= DISABLE_AFTER
    ):
        return replace(health, status=DISABLED)
    return health


def disable_cutoff(now: datetime) -> datetime:
    """Streaks that started at or before this instant have lasted 24 h: their endpoint goes."""
    return now - DISABLE_AFTER


def reenabled() -> Health:
    return Health()


def slow_after(floor_seconds: float, usual_seconds: float | None, deadline_seconds: float) -> float:
    """Seconds after which a send still waiting for its answer is slow. At most half the
    deadline: an endpoint drifting towards the deadline must not learn its way out of the rule."""
    if usual_seconds is None:  # never answered (yet): the floor
        return floor_seconds
    return max(floor_seconds, min(SLOW_FACTOR * usual_seconds, deadline_seconds / 2))


def usual_answer_time(previous_seconds: float | None, answered_seconds: float) -> float:
    """An endpoint's usual answer time after one more answer (an exponential moving average)."""
    if previous_seconds is None:
        return answered_seconds
    return previous_seconds + USUAL_WEIGHT * (answered_seconds - previous_seconds)
