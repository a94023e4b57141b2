"""Quotas: usage and credit routes, and ctx.quotas (rate limiters) for the whole app."""

from __future__ import annotations

from ..context import AppContext
from .quota_api import AdminQuotaController, my_usage
from .quota_service import QuotaService

ROUTES = [my_usage, AdminQuotaController]


async def start(ctx: AppContext) -> None:
    ctx.quotas = QuotaService(ctx)
