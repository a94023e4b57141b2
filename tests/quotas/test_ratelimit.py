from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.quotas.ratelimit import ApiRateLimiter, BucketLimiter, LoginThrottle


class SteppedClock:
    """Stand-in until the spine's FakeClock lands (same now()/advance() shape)."""

    def __init__(self, start):
        self._now = start

    def now(self):
        return self._now

    def advance(self, **kwargs):
        self._now += timedelta(**kwargs)


@pytest.fixture
def clock():
    return SteppedClock(datetime(2026, 5, 9, 14, 0, 0, tzinfo=UTC))


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


def make_throttle(clock):
    return LoginThrottle(clock, max_failures_per_email=3, max_failures_per_ip=5, window_seconds=900)


def test_login_throttle_per_email(clock):
    throttle = make_throttle(clock)
    for _ in range(3):
        assert throttle.check("a@x.test", "10.0.0.1") == 0
        throttle.failed("a@x.test", "10.0.0.1")
    # the same email from another address, spelled differently: still throttled
    assert throttle.check(" A@X.test", "10.0.0.2") == 300  # 900 s / 3
    assert throttle.check("b@x.test", "10.0.0.2") == 0
    clock.advance(seconds=300)
    assert throttle.check("a@x.test", "10.0.0.2") == 0


def test_login_throttle_per_ip(clock):
    throttle = make_throttle(clock)
    for i in range(5):
        assert throttle.check(f"u{i}@x.test", "10.0.0.1") == 0
        throttle.failed(f"u{i}@x.test", "10.0.0.1")
    assert throttle.check("fresh@x.test", "10.0.0.1") == 180  # 900 s / 5
    assert throttle.check("fresh@x.test", "10.0.0.9") == 0


def test_login_success_clears_the_email_not_the_ip(clock):
    throttle = make_throttle(clock)
    for _ in range(2):
        throttle.failed("a@x.test", "10.0.0.1")
    throttle.succeeded("a@x.test")
    for _ in range(3):
        assert throttle.check("a@x.test", "10.0.0.1") == 0
        throttle.failed("a@x.test", "10.0.0.1")
    # ip has seen 5 failures now
    assert throttle.check("other@x.test", "10.0.0.1") > 0
