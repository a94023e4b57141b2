from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.webhooks import policy
from qrstudio_box.webhooks.policy import Health

T0 = datetime(2026, 5, 9, 14, 0, 0, tzinfo=UTC)
MIN, H = timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize(
    "failed_attempt, expected_delay",
    [(1, 1 * MIN), (2, 5 * MIN), (3, 30 * MIN), (4, 2 * H), (5, None), (6, None)],
)
def test_retry_table(failed_attempt, expected_delay):
    got = policy.next_attempt_at(failed_attempt, T0)
    assert got == (None if expected_delay is None else T0 + expected_delay)


def test_whole_schedule_counts_from_each_failure():
    # a failure at due time + request duration: the next is counted from the failure, not due
    due, times = T0, []
    for attempt in range(1, 6):
        failed_at = due + timedelta(seconds=3)
        times.append(due)
        nxt = policy.next_attempt_at(attempt, failed_at)
        if nxt is None:
            break
        due = nxt
    s = timedelta(seconds=3)
    assert times == [
        T0,
        T0 + s + MIN,
        T0 + 2 * s + 6 * MIN,
        T0 + 3 * s + 36 * MIN,
        T0 + 4 * s + 36 * MIN + 2 * H,
    ]


@pytest.mark.parametrize(
    "attempt, status, retry_after, expected",
    [
        (1, 429, timedelta(seconds=10), 1 * MIN),  # table delay is longer: keep it
        (1, 429, timedelta(minutes=10), 10 * MIN),  # at least Retry-After
        (2, 429, timedelta(hours=5), 2 * H),  # capped at 2 h
        (4, 429, timedelta(hours=5), 2 * H),
        (1, 503, timedelta(minutes=10), 1 * MIN),  # only a 429's Retry-After counts
        (1, 429, None, 1 * MIN),
        (5, 429, timedelta(seconds=1), None),  # the fifth failure ends it anyway
    ],
)
def test_retry_after(attempt, status, retry_after, expected):
    got = policy.next_attempt_at(attempt, T0, status_code=status, retry_after=retry_after)
    assert got == (None if expected is None else T0 + expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("120", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("Sat, 09 May 2026 14:10:00 GMT", timedelta(minutes=10)),
        ("Sat, 09 May 2026 13:00:00 GMT", timedelta(0)),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert policy.parse_retry_after(value, T0) == expected


@pytest.mark.parametrize(
    "code, ok",
    [
        (200, True),
        (204, True),
        (299, True),
        (301, False),
        (302, False),
        (199, False),
        (400, False),
        (429, False),
        (500, False),
        (None, False),
    ],
)
def test_is_success(code, ok):
    assert policy.is_success(code) is ok


def test_degraded_at_five_consecutive_failures():
    h = Health()
    for n in range(1, 5):
        h = policy.after_failure(h, T0 + n * MIN)
        assert (h.status, h.consecutive_failures) == ("active", n)
    assert h.failing_since == T0 + MIN
    h = policy.after_failure(h, T0 + 5 * MIN)
    assert (h.status, h.consecutive_failures, h.failing_since) == ("degraded", 5, T0 + MIN)


def test_disabled_after_24h_of_continuous_failure():
    h = policy.after_failure(Health(), T0)
    h = policy.after_failure(h, T0 + 23 * H + 59 * MIN)
    assert h.status == "active" and h.consecutive_failures == 2
    h = policy.after_failure(h, T0 + 24 * H)
    assert (h.status, h.consecutive_failures) == ("disabled", 3)
    # stays disabled whatever happens next, until re-enabled
    assert policy.after_failure(h, T0 + 25 * H).status == "disabled"
    assert policy.after_success(h).status == "disabled"
    assert policy.reenabled() == Health("active", 0, None)


def test_success_resets_the_streak_and_degraded():
    h = Health("degraded", 7, T0)
    assert policy.after_success(h) == Health("active", 0, None)
    # a new streak counts from its own first failure
    h = policy.after_failure(policy.after_success(h), T0 + 30 * H)
    assert h.failing_since == T0 + 30 * H and h.consecutive_failures == 1


@pytest.mark.parametrize(
    "health, now, expected_status",
    [
        (Health("active", 1, T0), T0 + 24 * H, "disabled"),
        (Health("degraded", 9, T0), T0 + 24 * H - timedelta(seconds=1), "degraded"),
        (Health("degraded", 9, T0), T0 + 30 * H, "disabled"),
        (Health("active", 0, None), T0 + 99 * H, "active"),
        (Health("disabled", 3, T0), T0 + 99 * H, "disabled"),
    ],
)
def test_time_alone_disables(health, now, expected_status):
    assert policy.with_time_passed(health, now).status == expected_status
