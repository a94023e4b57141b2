"""The quota domain's runtime: ctx.quotas holds the in-memory rate limiters.

`ApiRateLimitMiddleware` applies each user's plan `api_rate_limit` to every authenticated
/api/v1/ request; `QuotaService.check_login` / `record_login` throttle the token endpoint.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ..context import AppContext
from ..errors import ApiError
from ..links.clientip import client_ip, parse_networks
from . import quota
from .ratelimit import ApiRateLimiter, LoginThrottle
from .schemas import User


def _client_ip(request: Request) -> str:
    """The client address for the login throttle: the socket peer, or behind a trusted
    reverse proxy ([server] trusted_proxies) the address it reports (the links domain's walk)."""
    peer = request.client.host if request.client else ""
    trusted = request.app.state.ctx.quotas.trusted_proxies
    return client_ip(peer, request.headers.getall("x-forwarded-for", []), trusted) or peer


class QuotaService:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.api_limiter = ApiRateLimiter(ctx.clock)
        self.trusted_proxies = parse_networks(ctx.settings.server.trusted_proxies)
        limits = ctx.settings.ratelimit
        self.login_throttle = LoginThrottle(
            ctx.clock,
            max_failures_per_email=limits.login_failures_per_email,
            max_failures_per_ip=limits.login_failures_per_ip,
            window_seconds=limits.login_window_seconds,
        )

    async def usage(self, user: User) -> quota.Usage:
        """The user's month for the UI: `await ctx.quotas.usage(user)`."""
        ctx = self._ctx
        return await ctx.db.read(quota.read_usage, user, ctx.settings, ctx.clock.now())

    def check_login(self, email: str, request: Request) -> None:
        """Raise 429 + Retry-After when this email or client IP failed too often lately."""
        wait = self.login_throttle.check(email, _client_ip(request))
        if wait:
            raise ApiError(
                429,
                f"Too many failed logins; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )

    def record_login(self, email: str, request: Request, *, ok: bool) -> None:
        if ok:
            self.login_throttle.succeeded(email)
        else:
            self.login_throttle.failed(email, _client_ip(request))


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
