from datetime import UTC, datetime, timedelta, timezone

import pytest

from qrstudio_box.quotas import rules


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "now, period, next_start",
    [
        (utc(2026, 5, 9, 14, 1, 23), "2026-05", utc(2026, 6, 1)),
        (utc(2026, 5, 1, 0, 0, 0), "2026-05", utc(2026, 6, 1)),
        (utc(2026, 5, 31, 23, 59, 59), "2026-05", utc(2026, 6, 1)),
        (utc(2026, 12, 31, 23, 59, 59), "2026-12", utc(2027, 1, 1)),
        (utc(2028, 2, 29, 12), "2028-02", utc(2028, 3, 1)),
        # 2026-06-01 01:30 at +02:00 is still May in UTC
        (
            datetime(2026, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),
            "2026-05",
            utc(2026, 6, 1),
        ),
    ],
)
def test_period_and_next_month(now, period, next_start):
    assert rules.period_of(now) == period
    assert rules.next_month_start(now) == next_start


@pytest.mark.parametrize(
    "now, seconds",
    [
        (utc(2026, 5, 31, 23, 59, 59), 1),
        (utc(2026, 5, 31, 23, 59, 59, 500_000), 1),  # rounded up, never 0
        (utc(2026, 5, 31, 23, 0, 0), 3600),
        (utc(2026, 5, 1, 0, 0, 0), 31 * 86400),
        (utc(2026, 2, 1, 0, 0, 0), 28 * 86400),
        (utc(2026, 12, 31, 0, 0, 0, 1), 86400),
    ],
)
def test_seconds_to_next_month(now, seconds):
    assert rules.seconds_to_next_month(now) == seconds


@pytest.mark.parametrize(
    "quota, credits, limit",
    [(100, 0, 100), (100, 50, 150), (0, 10, 10), (0, 0, 0), (100, -5, 100)],
)
def test_allowance(quota, credits, limit):
    assert rules.allowance(quota, credits) == limit


@pytest.mark.parametrize(
    "used_before, limit, over",
    [(0, 1, False), (9, 10, False), (10, 10, True), (11, 10, True), (0, 0, True)],
)
def test_is_over_allowance(used_before, limit, over):
    assert rules.is_over_allowance(used_before, limit) is over


@pytest.mark.parametrize(
    "used, limit, pct",
    [
        (0, 10, 0),
        (7, 10, 70),
        (2, 3, 66),
        (3, 4, 75),
        (99, 100, 99),
        (100, 100, 100),
        (12, 10, 120),
        (0, 0, 100),
    ],
)
def test_percent(used, limit, pct):
    assert rules.percent(used, limit) == pct


@pytest.mark.parametrize(
    "used, limit, reached",
    [
        (0, 10, []),
        (7, 10, []),
        (8, 10, [75]),
        (3, 4, [75]),  # exactly 75%
        (2, 3, []),  # 66.7%
        (299, 400, []),  # 74.75%: no rounding up
        (300, 400, [75]),
        (9, 10, [75]),
        (10, 10, [75, 100]),
        (11, 10, [75, 100]),
        (1, 1, [75, 100]),
        (0, 0, []),
    ],
)
def test_thresholds_reached(used, limit, reached):
    assert rules.thresholds_reached(used, limit) == reached


def test_ratelimit_headers():
    assert rules.ratelimit_headers(150, 42, 3600) == {
        "RateLimit-Limit": "150",
        "RateLimit-Remaining": "42",
        "RateLimit-Reset": "3600",
    }
    assert rules.ratelimit_headers(10, -3, 5)["RateLimit-Remaining"] == "0"
