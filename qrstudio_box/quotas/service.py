"""Monthly generation quotas: the hard 429, credit packs, threshold events, usage reads, and
`QuotaService` (ctx.quotas): usage for handlers and the login throttle's entry points.

`charge_generation` and `check_dynamic_qr_limit` run inside the caller's write transaction,
so a refused generation creates nothing and a threshold event commits together with the
generation that crossed it. The single writer serializes them; the fired-threshold row's
primary key makes "once per owner and month" exact on top of that.

Quotas import nothing from the domains they count: the links domain passes its counts in
(the live QRs to `check_dynamic_qr_limit`, a scan counter to `QuotaService.count_scans_with`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from litestar import Request

from .. import events
from ..clientip import client_ip
from ..clock import iso_s
from ..config import Settings
from ..context import AppContext
from ..db import Tx
from ..errors import ApiError
from ..workspaces.schemas import Caller
from . import rules, store
from .ratelimit import ApiRateLimiter, LoginThrottle

# (conn, owner_id, period "2026-05") -> scans of the owner's QRs that month; the links domain
# registers its own (`links.store.scans_in_period`) when it starts.
ScanCounter = Callable[[sqlite3.Connection, int, str], int]


@dataclass(frozen=True)
class GenerationCharge:
    """What a counted answer needs: its RateLimit-* headers (and the numbers behind them)."""

    headers: dict[str, str] = field(default_factory=dict)
    period: str = ""
    used: int = 0
    limit: int = 0
    fired: tuple[str, ...] = ()  # event ids of thresholds this generation fired


class Usage(msgspec.Struct, frozen=True):
    """A workspace's month as GET /api/v1/usage/ and the admin UI show it."""

    owner_id: int
    plan: str
    period: str
    used: int
    monthly_quota: int
    credits: int
    limit: int
    remaining: int
    percent: int
    thresholds_fired: list[int]
    scans_this_month: int
    resets_at: str
    reset_seconds: int


def check_generation(
    conn: sqlite3.Connection, caller: Caller, settings: Settings, now: datetime
) -> None:
    """Raise the 429 `charge_generation` would raise, from a plain read: the cheap check before
    expensive work (a render). `charge_generation`, in the write transaction, stays the
    authority: a generation that races past this check is still refused there."""
    _allowance(conn, caller, settings, now)


def _allowance(
    conn: sqlite3.Connection, caller: Caller, settings: Settings, now: datetime
) -> tuple[str, int, int]:
    """(period, used so far, allowance) of the workspace this month, or 429 when one more generation
    would go past the allowance."""
    plan = settings.plan(caller.plan)
    period = rules.period_of(now)
    used_before, credits = store.usage_row(conn, caller.owner_id, period)
    limit = rules.allowance(plan.monthly_quota, credits)
    if rules.is_over_allowance(used_before, limit):
        reset = rules.seconds_to_next_month(now)
        headers = rules.ratelimit_headers(limit, 0, reset)
        headers["Retry-After"] = str(reset)
        raise ApiError(
            429,
            f"Monthly quota reached: {used_before} of {limit} generations used in {period} "
            f"(plan {caller.plan}: {plan.monthly_quota}, credits: {credits}). "
            f"It resets at {iso_s(rules.next_month_start(now))}; an admin of this box adds a "
            "credit pack or moves the workspace to a bigger plan.",
            headers=headers,
            error="quota_exceeded",
        )
    return period, used_before, limit


def charge_generation(
    tx: Tx, caller: Caller, settings: Settings, now: datetime
) -> GenerationCharge:
    """Count one generation for the workspace this UTC month, or 429 when over the allowance."""
    period, _, limit = _allowance(tx.conn, caller, settings, now)
    reset = rules.seconds_to_next_month(now)
    used = store.add_generation(tx, caller.owner_id, period)
    fired = _fire_thresholds(tx, caller, period, used, limit, now)
    return GenerationCharge(
        headers=rules.ratelimit_headers(limit, rules.remaining(used, limit), reset),
        period=period,
        used=used,
        limit=limit,
        fired=fired,
    )


def _fire_thresholds(
    tx: Tx, caller: Caller, period: str, used: int, limit: int, now: datetime
) -> tuple[str, ...]:
    reached = rules.thresholds_reached(used, limit)
    if not reached:
        return ()  # the hot path: below 75% costs no extra query
    already = set(store.fired_thresholds(tx.conn, caller.owner_id, period))
    fired = []
    for threshold in reached:
        if threshold in already:
            continue
        data = {
            "owner_id": caller.owner_id,
            "plan": caller.plan,
            "period": period,
            "used": used,
            "limit": limit,
            "percent": rules.percent(used, limit),
        }
        event = events.emit(
            tx, caller.owner_id, f"quota.threshold_{threshold}", data, created_at=now
        )
        store.record_fired_threshold(
            tx, caller.owner_id, period, threshold, event.id, used, limit, iso_s(now)
        )
        fired.append(event.id)
    return tuple(fired)


def check_dynamic_qr_limit(caller: Caller, settings: Settings, owned: int) -> None:
    """Raise 403 when the workspace already owns (`owned`, counted by the caller inside its
    transaction) the plan's max_dynamic_qrs dynamic QRs."""
    plan = settings.plan(caller.plan)
    if owned >= plan.max_dynamic_qrs:
        raise ApiError(
            403,
            f"Your plan ({caller.plan}) allows {plan.max_dynamic_qrs} dynamic QRs and you have "
            f"{owned}; delete one, or an admin of this box moves the workspace to a bigger plan.",
            error="plan_limit",
        )


def grant_credits(
    tx: Tx, owner_id: int, amount: int, note: str, granted_by: int | None, now: datetime
) -> tuple[int, str, int]:
    """Add `amount` generations to the owner's current month: (grant id, period, month credits).

    Credits never re-fire a threshold already fired this month (its row stays); they only
    lower the percentage until usage climbs again.
    """
    period = rules.period_of(now)
    grant_id, credits = store.add_credits(
        tx, owner_id, period, amount, note, granted_by, iso_s(now)
    )
    return grant_id, period, credits


def read_usage(
    conn: sqlite3.Connection,
    caller: Caller,
    settings: Settings,
    now: datetime,
    count_scans: ScanCounter,
) -> Usage:
    """The workspace's current month. Plain sync read: `await ctx.quotas.usage(caller)` from a
    handler, or over a CLI connection with the links domain's scan counter."""
    plan = settings.plan(caller.plan)
    period = rules.period_of(now)
    used, credits = store.usage_row(conn, caller.owner_id, period)
    limit = rules.allowance(plan.monthly_quota, credits)
    return Usage(
        owner_id=caller.owner_id,
        plan=caller.plan,
        period=period,
        used=used,
        monthly_quota=plan.monthly_quota,
        credits=credits,
        limit=limit,
        remaining=rules.remaining(used, limit),
        percent=rules.percent(used, limit),
        thresholds_fired=store.fired_thresholds(conn, caller.owner_id, period),
        scans_this_month=count_scans(conn, caller.owner_id, period),
        resets_at=iso_s(rules.next_month_start(now)),
        reset_seconds=rules.seconds_to_next_month(now),
    )


def _no_scan_counter(conn: sqlite3.Connection, owner_id: int, period: str) -> int:
    raise RuntimeError("no scan counter: the links domain registers one when it starts")


RESET_REQUESTS_PER_EMAIL_AND_IP = 3
RESET_REQUESTS_PER_EMAIL = 10
RESET_REQUESTS_PER_IP = 10
RESET_WINDOW_SECONDS = 3600


class QuotaService:
    """`ctx.quotas`: usage for the API and the UI, and the in-memory rate limiters (the
    per-user API limit applied by `ratelimit.ApiRateLimitMiddleware`, the login throttle)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._count_scans: ScanCounter = _no_scan_counter
        self.api_limiter = ApiRateLimiter(ctx.clock)
        limits = ctx.settings.ratelimit
        self.login_throttle = LoginThrottle(
            ctx.clock,
            max_failures_per_email_and_ip=limits.login_failures_per_email_and_ip,
            max_failures_per_email=limits.login_failures_per_email,
            max_failures_per_ip=limits.login_failures_per_ip,
            window_seconds=limits.login_window_seconds,
        )
        # Password-reset requests (issue 16.5): each may mail someone, so few are allowed:
        # 3 an hour per (email, client address), 10 an hour per email from anywhere and per
        # address over any emails. The login throttle's three-way count, never refunded:
        # every request counts, whether the email has an account or not, so a refusal says
        # nothing about who has one.
        self.reset_throttle = LoginThrottle(
            ctx.clock,
            max_failures_per_email_and_ip=RESET_REQUESTS_PER_EMAIL_AND_IP,
            max_failures_per_email=RESET_REQUESTS_PER_EMAIL,
            max_failures_per_ip=RESET_REQUESTS_PER_IP,
            window_seconds=RESET_WINDOW_SECONDS,
        )

    def count_scans_with(self, counter: ScanCounter) -> None:
        """The links domain's monthly scan count, shown in usage (registered at its start)."""
        self._count_scans = counter

    async def usage(self, caller: Caller) -> Usage:
        """The workspace's month for the UI: `await ctx.quotas.usage(caller)`."""
        ctx = self._ctx
        return await ctx.db.read(
            read_usage, caller, ctx.settings, ctx.clock.now(), self._count_scans
        )

    async def check_generation(self, caller: Caller) -> None:
        """429 when one more generation would be over the workspace's monthly quota (one read)."""
        ctx = self._ctx
        await ctx.db.read(check_generation, caller, ctx.settings, ctx.clock.now())

    def check_rate_limit(self, caller: Caller) -> None:
        """Count one request against the workspace's plan `api_rate_limit` per minute, or raise
        429 `rate_limited` with Retry-After and RateLimit-*. The API (ApiRateLimitMiddleware)
        and the admin UI's writing and rendering routes share this one budget per workspace:
        its members and its API keys together. Admins are the operators: their tooling (UI,
        scripts, benches) is not throttled. A person in no workspace (they can only read their
        own account) is counted alone, on the default plan."""
        if caller.is_admin:
            return
        # A person in no workspace has no plan: the default plan's limit, named as such.
        plan = caller.plan or self._ctx.settings.accounts.default_plan
        limit = self._ctx.settings.plan(plan).api_rate_limit
        key = caller.workspace_id if caller.workspace_id is not None else ("user", caller.user_id)
        decision = self.api_limiter.hit(key, limit)
        if not decision.allowed:
            raise ApiError(
                429,
                f"Rate limit: your plan ({plan}) allows {limit} requests per minute; "
                f"retry in {decision.retry_after} seconds",
                headers=decision.headers(),
                error="rate_limited",
            )

    def _client_ip(self, request: Request) -> str:
        """The client address for the login throttle: the socket peer, or behind a trusted
        reverse proxy ([server] trusted_proxies) the address it reports."""
        peer = request.client.host if request.client else ""
        forwarded = request.headers.getall("x-forwarded-for", [])
        return client_ip(peer, forwarded, self._ctx.trusted_proxies) or peer

    def reserve_login(self, email: str, request: Request) -> None:
        """Count a login attempt BEFORE its password is verified, or raise 429 + Retry-After
        when this email from this address (or the email, or the address) failed too often
        lately. Every reserve_login is followed by record_login once the password is known."""
        wait = self.login_throttle.reserve(email, self._client_ip(request))
        if wait:
            raise ApiError(
                429,
                f"Too many failed logins; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )

    def reserve_password_reset(self, email: str, request: Request) -> None:
        """Count a password-reset request, or raise 429 + Retry-After past reset_throttle's
        limits (the same answer whether the email has an account or not)."""
        wait = self.reset_throttle.reserve(email, self._client_ip(request))
        if wait:
            raise ApiError(
                429,
                f"Too many password-reset requests; try again in {-(-wait // 60)} minutes",
                headers={"Retry-After": str(wait)},
            )

    def record_login(self, email: str, request: Request, *, ok: bool) -> None:
        """The verified outcome: a wrong password stays counted as the failure it was
        reserved as; the right one gives its reservation back."""
        if ok:
            self.login_throttle.succeeded(email, self._client_ip(request))
