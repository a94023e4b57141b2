"""In-memory rate limits driven by the injected Clock: per-workspace API limit and login throttle,
and `ApiRateLimitMiddleware`, which applies the API limit to every authenticated /api/v1/ call.

One process serves the whole appliance, so an in-process table is the whole truth; it
resets on restart, which is acceptable for limits measured in minutes. Elapsed time is read
from the clock's monotonic reading, never from the wall clock: a wall-clock step back (NTP, an
operator) must not turn one request into an hour of 429s, nor a step forward empty a bucket.

The algorithm is a leaky bucket per key (level + timestamp): O(1) memory per key, no timers,
and it yields the values the RateLimit-* headers need (remaining, seconds until empty,
seconds until the next request is allowed). pyrate_limiter
(in the venv via schemathesis) reads wall/monotonic clocks and does not report
remaining/reset, so it cannot be stepped by FakeClock nor fill the headers.

The login throttle reserves an attempt before the password is verified (the slow part), so
parallel guesses cannot all pass a check made before any of them was recorded.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ..clock import Clock
from ..context import AppContext


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

    def __init__(self, clock: Clock, period_seconds: float = 60.0) -> None:
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

    def refund(self, key: Hashable, limit: int) -> None:
        """Give back one counted request (one that turned out not to count, e.g. a login that
        was reserved and then succeeded)."""
        now = self._now()
        level = self._level(key, limit, now) - 1
        if level > self._EPSILON:
            self._buckets[key] = (level, now)
        else:
            self._buckets.pop(key, None)

    def _now(self) -> float:
        return self._clock.monotonic()

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
    """Per-workspace API limit: `requests_per_minute` from the workspace's plan, keyed by
    workspace id (members and API keys share it)."""

    def __init__(self, clock: Clock) -> None:
        self._gcra = BucketLimiter(clock, 60.0)

    def hit(self, key: Hashable, requests_per_minute: int) -> RateDecision:
        return self._gcra.hit(key, requests_per_minute)


class LoginThrottle:
    """Against password guessing, counted in failed logins per window, three ways:

    * per (email, client address), strict: the one that stops a guesser;
    * per email from any address, much looser: the backstop against guesses spread over many
      addresses, loose enough that a stranger's guesses from one address (which the strict
      limit stops) cannot lock the owner out;
    * per client address over any emails: one address guessing many accounts.

    `reserve` counts the attempt before the password is verified, in one step on the event
    loop, so of N parallel attempts at most the limit reach verification; a refused attempt
    is answered without looking at the password (no oracle). The reservation stays counted
    when the password was wrong; `succeeded` gives it back and also forgives the failures of
    that (email, address) pair (most likely the owner's own typos), but not those of other
    addresses against the email, nor the address's failures against other emails.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        max_failures_per_email_and_ip: int,
        max_failures_per_email: int,
        max_failures_per_ip: int,
        window_seconds: float,
    ) -> None:
        self._limits = (max_failures_per_email_and_ip, max_failures_per_email, max_failures_per_ip)
        self._buckets = tuple(BucketLimiter(clock, window_seconds) for _ in self._limits)

    @staticmethod
    def _keys(email: str, ip: str) -> tuple[Hashable, Hashable, Hashable]:
        email_key = email.strip().casefold()
        return (email_key, ip), email_key, ip

    def reserve(self, email: str, ip: str) -> int:
        """Count this attempt and return 0, or count nothing and return the seconds to wait
        (Retry-After) when any of the three limits is reached."""
        keys = self._keys(email, ip)
        parts = zip(self._buckets, keys, self._limits, strict=True)
        waits = [bucket.peek(key, limit).retry_after for bucket, key, limit in parts]
        if any(waits):
            return max(waits)
        for bucket, key, limit in zip(self._buckets, keys, self._limits, strict=True):
            bucket.hit(key, limit)
        return 0

    def succeeded(self, email: str, ip: str) -> None:
        """The reserved attempt had the right password: it is no failure."""
        pair, email_key, ip_key = self._keys(email, ip)
        pair_bucket, email_bucket, ip_bucket = self._buckets
        pair_bucket.reset(pair)
        email_bucket.refund(email_key, self._limits[1])
        ip_bucket.refund(ip_key, self._limits[2])


class ApiRateLimitMiddleware(ASGIMiddleware):
    """Per-workspace requests per minute from its plan, on every authenticated /api/v1/ route.

    Runs after the JWT middleware (JWTAuth puts its middleware first), so the caller and
    the workspace's plan are read fresh on each request: a plan change applies at once.
    Only a refusal carries RateLimit-* headers here; counted generations carry the monthly
    quota's RateLimit-* headers, and one set of those per answer keeps them unambiguous.
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user: Any = scope.get("user")
        if user is not None and scope["path"].startswith("/api/v1/"):
            ctx: AppContext = scope["litestar_app"].state.ctx
            ctx.quotas.check_rate_limit(user)  # 429 rate_limited; admins pass
        await next_app(scope, receive, send)
