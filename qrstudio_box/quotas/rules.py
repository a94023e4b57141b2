"""Pure quota rules: the UTC month, the allowance, percentages, thresholds, header values.

No I/O here, so every rule is tested table-driven without a database or a clock.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# The percentages that fire `quota.threshold_<n>` events, lowest first.
THRESHOLDS: tuple[int, ...] = (75, 100)


def month_start(now: datetime) -> datetime:
    """First instant of `now`'s calendar month in UTC."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    if start.month == 12:
        return datetime(start.year + 1, 1, 1, tzinfo=UTC)
    return datetime(start.year, start.month + 1, 1, tzinfo=UTC)


def period_of(now: datetime) -> str:
    """The quota period key of `now`: its UTC month as "2026-05"."""
    start = month_start(now)
    return f"{start.year:04d}-{start.month:02d}"


def seconds_to_next_month(now: datetime) -> int:
    """Whole seconds until the next UTC month, rounded up and never 0.

    Rounded up so a client that waits exactly Retry-After seconds lands in the new month.
    """
    remaining = (next_month_start(now) - now.astimezone(UTC)).total_seconds()
    return max(1, math.ceil(remaining))


def allowance(monthly_quota: int, credits: int) -> int:
    """Generations allowed this month: the plan's quota plus credits granted for the month."""
    return max(0, monthly_quota) + max(0, credits)


def is_over_allowance(used_before: int, limit: int) -> bool:
    """Would one more generation go past the allowance?"""
    return used_before + 1 > limit


def remaining(used: int, limit: int) -> int:
    return max(0, limit - used)


def percent(used: int, limit: int) -> int:
    """Used share of the allowance in whole percent, rounded down (so 100 means truly all used).

    A zero allowance counts as 100% used: nothing more may be generated.
    """
    if limit <= 0:
        return 100
    return used * 100 // limit


def thresholds_reached(used: int, limit: int) -> list[int]:
    """Every threshold that `used` has reached, in exact integer math (no rounding).

    Level-based on purpose: the caller fires each reached threshold that has no fired row
    for the month yet, so a generation can never skip one (e.g. a jump from 70% to 100% after
    a plan change fires both) and a row per (owner, period, threshold) keeps it to once.
    """
    if limit <= 0:
        return []
    return [t for t in THRESHOLDS if used * 100 >= t * limit]


def ratelimit_headers(limit: int, remaining_count: int, reset_seconds: int) -> dict[str, str]:
    """The RateLimit-* headers (IETF draft, header-per-field form) carried by counted answers."""
    return {
        "RateLimit-Limit": str(max(0, limit)),
        "RateLimit-Remaining": str(max(0, remaining_count)),
        "RateLimit-Reset": str(max(0, reset_seconds)),
    }
