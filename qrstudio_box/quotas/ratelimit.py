"""In-memory rate limits driven by the injected Clock: per-user API limit and login throttle,
and `ApiRateLimitMiddleware`, which applies the API limit to every authenticated /api/v1/ call.

One process serves the whole appliance, so an in-process table is the whole truth; it
resets on restart, which is acceptable for limits measured in minutes.

The algorithm is a leaky bucket per key (level + timestamp): O(1) memory per key, no timers,
and it yields the values the RateLimit-* headers need (remaining, seconds until empty,
seconds until the next request is allowed). pyrate_limiter
(in the venv via schemathesis) reads wall/monotonic clocks and does not report
remaining/reset, so it cannot be stepped by FakeClock nor fill the headers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ..context import AppContext
from ..errors import ApiError


class _Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until the next request would be allowed; 0 when allowed

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _ceil_seconds(value: float) -> int:
    # A tiny epsilon keeps float noise (20.000000001) from adding a whole second.
    return max(0, math.ceil(value - 1e-9))


class BucketLimiter:
    """`limit` events per `period_seconds` per key, with bursts up to `limit`.

    A leaky bucket counted in requests: its level drains at limit/period per second. The
    limit is passed per call and the level is kept in requests (not in time), so a plan
    change applies to the very next request: 2 used of a new 120/min leaves 118.
    """

    # Sweep drained buckets out of the table every this many calls, so it stays small.
    _SWEEP_EVERY = 4096
    _EPSILON = 1e-9

    def __init__(self, clock: _Clock, period_seconds: float = 60.0) -> None:
        self._clock = clock
        self._period = float(period_seconds)
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (level, at)
        self._calls = 0

    def _level(self, key: Hashable, limit: int, now: float) -> float:
        level, at = self._buckets.get(key, (0.0, now))
        drained = level - (now - at) * limit / self._period
        return min(float(limit), max(0.0, drained))

    def _decide(self, key: Hashable, limit: int, now: float) -> tuple[RateDecision, float]:
        if limit <= 0:
            wait = max(1, _ceil_seconds(self._period))
            return RateDecision(False, 0, 0, wait, wait), 0.0
        seconds_per_request = self._period / limit
        level = self._level(key, limit, now)
        if level + 1 > limit + self._EPSILON:
            retry = max(1, _ceil_seconds((level + 1 - limit) * seconds_per_request))
            reset = _ceil_seconds(level * seconds_per_request)
            return RateDecision(False, limit, 0, reset, retry), level
        level += 1
        remaining = int(limit - level + self._EPSILON)
        reset = _ceil_seconds(level * seconds_per_request)
        return RateDecision(True, limit, remaining, reset, 0), level

    def hit(self, key: Hashable, limit: int) -> RateDecision:
        """Count one request for `key` if allowed; a refused request costs nothing."""
        now = self._now()
        decision, level = self._decide(key, limit, now)
        if decision.allowed:
            self._buckets[key] = (level, now)
        self._maybe_sweep(now)
        return decision

    def peek(self, key: Hashable, limit: int) -> RateDecision:
        """Would a request for `key` be allowed now? Counts nothing."""
        return self._decide(key, limit, self._now())[0]

    def reset(self, key: Hashable) -> None:
        self._buckets.pop(key, None)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _maybe_sweep(self, now: float) -> None:
        self._calls += 1
        if self._calls % self._SWEEP_EVERY:
            return
        # Any bucket drains completely within one period (its level never exceeds its limit).
        stale = [k for k, (_, at) in self._buckets.items() if now - at >= self._period]
        for key in stale:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class ApiRateLimiter:
    """Per-user API limit: `requests_per_minute` from the user's plan, keyed by user id."""

    def __init__(self, clock: _Clock) -> None:
        self._gcra = BucketLimiter(clock, 60.0)

    def hit(self, user_id: int, requests_per_minute: int) -> RateDecision:
        return self._gcra.hit(user_id, requests_per_minute)


class LoginThrottle:
    """Against password guessing: failed logins per email and per client IP.

    `check` before verifying the password (a throttled attempt is refused without even
    looking at the password, so it cannot be used as an oracle); `failed` after a wrong
    password; `succeeded` clears the email's count (not the IP's: one known account must not
    reset the budget of an address guessing others).
    """

    def __init__(
        self,
        clock: _Clock,
        *,
        max_failures_per_email: int,
        max_failures_per_ip: int,
        window_seconds: float,
    ) -> None:
        self._per_email = BucketLimiter(clock, window_seconds)
        self._per_ip = BucketLimiter(clock, window_seconds)
        self._email_limit = max_failures_per_email
        self._ip_limit = max_failures_per_ip

    @staticmethod
    def _email_key(email: str) -> str:
        return email.strip().casefold()

    def check(self, email: str, ip: str) -> int:
        """0 when the attempt may proceed, else the seconds to wait (Retry-After)."""
        by_email = self._per_email.peek(self._email_key(email), self._email_limit)
        by_ip = self._per_ip.peek(ip, self._ip_limit)
        return max(by_email.retry_after, by_ip.retry_after)

    def failed(self, email: str, ip: str) -> None:
        self._per_email.hit(self._email_key(email), self._email_limit)
        self._per_ip.hit(ip, self._ip_limit)

    def succeeded(self, email: str) -> None:
        self._per_email.reset(self._email_key(email))


class ApiRateLimitMiddleware(ASGIMiddleware):
    """Per-user requests per minute from the plan, on every authenticated /api/v1/ route.

    Runs after the JWT middleware (JWTAuth puts its middleware first), so the user and the
    plan are read fresh from the user row on each request: a plan change applies at once.
    Only a refusal carries RateLimit-* headers here; counted generations carry the monthly
    quota's RateLimit-* headers, and one set of those per answer keeps them unambiguous.
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user: Any = scope.get("user")
        # Admins are the operators: their tooling (UI, scripts, benches) is not throttled.
        if user is not None and not user.is_admin and scope["path"].startswith("/api/v1/"):
            ctx: AppContext = scope["litestar_app"].state.ctx
            if ctx.quotas is not None:
                limit = ctx.settings.plan(user.plan).api_rate_limit
                decision = ctx.quotas.api_limiter.hit(user.id, limit)
                if not decision.allowed:
                    raise ApiError(
                        429,
                        f"Rate limit: your plan ({user.plan}) allows {limit} API requests per "
                        f"minute; retry in {decision.retry_after} seconds",
                        headers=decision.headers(),
                        error="rate_limited",
                    )
        await next_app(scope, receive, send)
