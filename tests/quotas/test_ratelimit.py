from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.clock import FakeClock
from qrstudio_box.quotas.ratelimit import ApiRateLimiter, BucketLimiter, LoginThrottle


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 5, 9, 14, 0, 0, tzinfo=UTC))


def test_api_limit_allows_a_burst_of_the_plan_rate_then_refuses(clock):
    limiter = ApiRateLimiter(clock)
    decisions = [limiter.hit(1, 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused.retry_after == 20  # 60 s / 3 requests
    assert refused.headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
        "Retry-After": "20",
    }
    assert "Retry-After" not in decisions[0].headers()


def test_api_limit_refills_with_time_and_refusals_cost_nothing(clock):
    limiter = ApiRateLimiter(clock)
    for _ in range(3):
        assert limiter.hit(1, 3).allowed
    for _ in range(10):
        assert not limiter.hit(1, 3).allowed
    clock.advance(seconds=19)
    assert limiter.hit(1, 3).retry_after == 1
    clock.advance(seconds=1)
    assert limiter.hit(1, 3).allowed
    assert not limiter.hit(1, 3).allowed
    clock.advance(seconds=60)
    assert [limiter.hit(1, 3).allowed for _ in range(4)] == [True, True, True, False]


def test_api_limit_is_per_user(clock):
    limiter = ApiRateLimiter(clock)
    assert limiter.hit(1, 1).allowed
    assert not limiter.hit(1, 1).allowed
    assert limiter.hit(2, 1).allowed


def test_api_limit_follows_a_plan_change_at_once(clock):
    limiter = ApiRateLimiter(clock)
    for _ in range(2):
        assert limiter.hit(1, 2).allowed
    assert not limiter.hit(1, 2).allowed
    # upgraded: 2 used of 120/min leaves 117 after this request
    assert limiter.hit(1, 120).remaining == 117
    # downgraded to 1/min: refused, and the wait is bounded by the new period
    refused = limiter.hit(1, 1)
    assert not refused.allowed and refused.retry_after == 60


def test_zero_limit_refuses(clock):
    decision = ApiRateLimiter(clock).hit(1, 0)
    assert not decision.allowed and decision.retry_after == 60


def test_full_buckets_are_swept(clock):
    limiter = BucketLimiter(clock, 60)
    for key in range(10):
        limiter.hit(key, 5)
    assert len(limiter) == 10
    clock.advance(seconds=61)
    for _ in range(BucketLimiter._SWEEP_EVERY):
        limiter.hit("busy", 10**9)
    assert len(limiter) == 1


@pytest.mark.parametrize("step", [timedelta(hours=-1), timedelta(hours=1), timedelta(days=-400)])
def test_a_wall_clock_step_changes_no_limit(clock, step):
    # Elapsed time is monotonic: a step of the wall clock is no time passing, either way.
    limiter = ApiRateLimiter(clock)
    assert [limiter.hit(1, 3).allowed for _ in range(2)] == [True, True]
    clock.set(clock.now() + step)
    assert [limiter.hit(1, 3).allowed for _ in range(2)] == [True, False]
    clock.advance(seconds=20)  # real time passing still refills
    assert limiter.hit(1, 3).allowed


def make_throttle(clock):
    return LoginThrottle(
        clock,
        max_failures_per_email_and_ip=3,
        max_failures_per_email=6,
        max_failures_per_ip=5,
        window_seconds=900,
    )


def test_login_throttle_per_email_and_address(clock):
    throttle = make_throttle(clock)
    assert [throttle.reserve("a@x.test", "10.0.0.1") for _ in range(4)] == [0, 0, 0, 300]
    # the same email spelled differently from the same address: the same pair
    assert throttle.reserve(" A@X.test", "10.0.0.1") == 300  # 900 s / 3
    # the owner from another address, and another email from this one, go on
    assert throttle.reserve("a@x.test", "10.0.0.2") == 0
    assert throttle.reserve("b@x.test", "10.0.0.1") == 0
    clock.advance(seconds=300)
    assert throttle.reserve("a@x.test", "10.0.0.1") == 0


def test_the_per_email_backstop_needs_many_addresses(clock):
    throttle = make_throttle(clock)
    for address in ("10.0.0.1", "10.0.0.2"):
        assert [throttle.reserve("a@x.test", address) for _ in range(3)] == [0, 0, 0]
    # 6 failures from two addresses: the backstop (6) refuses a third address too
    assert throttle.reserve("a@x.test", "10.0.0.3") == 150  # 900 s / 6
    assert throttle.reserve("b@x.test", "10.0.0.3") == 0


def test_login_throttle_per_ip(clock):
    throttle = make_throttle(clock)
    assert [throttle.reserve(f"u{i}@x.test", "10.0.0.1") for i in range(5)] == [0] * 5
    assert throttle.reserve("fresh@x.test", "10.0.0.1") == 180  # 900 s / 5
    assert throttle.reserve("fresh@x.test", "10.0.0.9") == 0


def test_a_refused_attempt_counts_nothing(clock):
    throttle = make_throttle(clock)
    for _ in range(3):
        throttle.reserve("a@x.test", "10.0.0.1")
    for _ in range(50):
        assert throttle.reserve("a@x.test", "10.0.0.1") == 300
    # neither the backstop nor the address's budget moved past the 3 counted attempts
    assert [throttle.reserve("a@x.test", "10.0.0.2") for _ in range(3)] == [0, 0, 0]
    assert [throttle.reserve(f"u{i}@x.test", "10.0.0.1") for i in range(2)] == [0, 0]
    assert throttle.reserve("u9@x.test", "10.0.0.1") > 0


def test_success_gives_back_its_reservation_and_forgives_only_its_pair(clock):
    throttle = make_throttle(clock)
    for _ in range(2):
        throttle.reserve("a@x.test", "10.0.0.1")  # two wrong passwords
    throttle.reserve("a@x.test", "10.0.0.1")
    throttle.succeeded("a@x.test", "10.0.0.1")
    # the pair starts over: 3 more attempts
    assert [throttle.reserve("a@x.test", "10.0.0.1") for _ in range(4)] == [0, 0, 0, 300]
    # the address has 5 failures now (2 + 3), the success was given back: it is at its limit
    assert throttle.reserve("other@x.test", "10.0.0.1") == 180
