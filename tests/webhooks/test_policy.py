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


# -- plans: one rule for the API, the pages and the fan-out's SQL --------------------------------


def plans_settings(default_plan: str, with_webhooks: set[str]):
    from qrstudio_box.config import settings_from_mapping

    plans = {name: {"webhooks": name in with_webhooks} for name in ("free", "pro", "business")}
    return settings_from_mapping({"accounts": {"default_plan": default_plan}, "plans": plans})


@pytest.mark.parametrize(
    "default_plan, with_webhooks, plan, has_webhooks, unlisted, exceptions",
    [
        ("free", {"pro", "business"}, "free", False, False, ("pro", "business")),
        ("free", {"pro", "business"}, "pro", True, False, ("pro", "business")),
        ("free", {"pro", "business"}, "gone", False, False, ("pro", "business")),
        ("pro", {"pro", "business"}, "gone", True, True, ("free",)),
        ("pro", {"pro", "business"}, "free", False, True, ("free",)),
        ("pro", {"pro", "business"}, None, True, True, ("free",)),
        ("free", set(), "business", False, False, ()),
        ("pro", {"free", "pro", "business"}, "gone", True, True, ()),
    ],
)
def test_plan_has_webhooks_and_its_sql_filter(
    default_plan, with_webhooks, plan, has_webhooks, unlisted, exceptions
):
    settings = plans_settings(default_plan, with_webhooks)
    assert policy.plan_has_webhooks(settings, plan) is has_webhooks
    assert policy.webhook_plan_filter(settings) == policy.PlanFilter(unlisted, exceptions)


# -- the claim's fair share ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "per_endpoint, in_flight, failing, budget, free",
    [
        (3, 0, False, None, 3),  # healthy: up to its cap
        (3, 2, False, 5, 1),  # healthy: the failing budget is not its concern
        (3, 3, False, 5, 0),
        (3, 0, True, None, 3),  # no shared cap configured: failing is claimed like healthy
        (3, 0, True, 4, 1),  # failing: one at a time...
        (3, 1, True, 4, 0),  # ...and that one is out
        (3, 0, True, 0, 0),  # ...while the shared budget lasts
        (3, 0, True, -1, -1),  # over budget (sends outlived a shrink): nothing
    ],
)
def test_free_slots_table(per_endpoint, in_flight, failing, budget, free):
    assert policy.free_slots(per_endpoint, in_flight, failing, budget) == free


@pytest.mark.parametrize(
    "failing_total, failing_in_flight, budget",
    [(None, 0, None), (None, 7, None), (4, 0, 4), (4, 3, 1), (4, 5, -1)],
)
def test_failing_budget_table(failing_total, failing_in_flight, budget):
    assert policy.failing_budget(failing_total, failing_in_flight) == budget
