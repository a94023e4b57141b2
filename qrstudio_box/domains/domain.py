"""Branded short domains (issue 17): a workspace's own host names for its codes."""

from __future__ import annotations

from ..context import AppContext
from .api import AdminDomainsController, DomainsController, tls_ask
from .service import DomainMap, refresh_job

ROUTES = [DomainsController, AdminDomainsController, tls_ask]
REFRESH_JOB = "domains-refresh"


async def start(ctx: AppContext) -> None:
    ctx.domains = DomainMap(ctx.settings.public_url, ctx.settings.domains.scheme)
    await ctx.domains.load(ctx.db)
    if ctx.scheduler is not None:
        # The CLI (another process) approves domains: the server sees it within this period.
        ctx.scheduler.add_job(
            refresh_job,
            "interval",
            args=[ctx],
            seconds=DomainMap.REFRESH_SECONDS,
            id=REFRESH_JOB,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
