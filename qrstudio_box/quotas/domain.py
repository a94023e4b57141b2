"""Quotas: usage and credit routes, and ctx.quotas (usage, rate limiters) for the whole app.

The per-user API rate limit is `ratelimit.ApiRateLimitMiddleware`, which `create_app` puts on
the app (it must run after the JWT middleware, for every domain's routes).
"""

from __future__ import annotations

from ..context import AppContext
from .api import AdminQuotaController, AdminWorkspaceQuotaController, my_usage
from .service import QuotaService

ROUTES = [my_usage, AdminQuotaController, AdminWorkspaceQuotaController]


async def start(ctx: AppContext) -> None:
    ctx.quotas = QuotaService(ctx)
