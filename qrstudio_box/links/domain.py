"""Dynamic QRs, variants, the redirect and scan tracking."""

from __future__ import annotations

import logging

from litestar import Litestar

from ..context import AppContext
from . import fastpath, store
from .api import DynamicQrController, UtmSettingsController, redirect, redirect_head
from .rules import short_link_warning
from .service import LinksService

ROUTES = [DynamicQrController, UtmSettingsController, redirect, redirect_head]
LIFECYCLE_JOB_SECONDS = 60
log = logging.getLogger(__name__)


def wrap_app(app: Litestar, ctx: AppContext, on_crash) -> None:
    """GET /r/{short_id} of a live QR is answered in front of Litestar's middleware and router
    (fastpath.py); ``redirect`` above stays the documented route and answers everything else."""
    fastpath.install(app, ctx, on_crash)


async def start(ctx: AppContext) -> None:
    ctx.links = LinksService(ctx)
    await ctx.links.load()  # every QR into the redirect cache: no query per scan
    # The quotas domain shows each owner's scans this month; links passes its count in.
    ctx.quotas.count_scans_with(store.scans_in_period)
    # Printed codes that point at localhost fail silently in the field: say so once, loudly.
    warning = short_link_warning(ctx.settings.public_url, bool(ctx.settings.server.public_url))
    if warning:
        log.warning(warning)
    # A code that ends by time says so (dynamic_qr.updated, once) within a minute; one that
    # ends by cap says so in the commit of the scan that reached it, and this job catches
    # any cap reached otherwise (a lowered max_scans). It also runs once now, so an end
    # passed while the box was down is said at once.
    await lifecycle_job(ctx)
    ctx.scheduler.add_job(
        lifecycle_job,
        "interval",
        args=[ctx],
        seconds=LIFECYCLE_JOB_SECONDS,
        id="links-lifecycle",
        coalesce=True,
        max_instances=1,
    )


async def lifecycle_job(ctx: AppContext) -> None:
    """The scheduled job: a failure is logged and retried at the next run, never fatal."""
    try:
        await ctx.links.end_due()
    except Exception:
        log.exception("the links lifecycle job failed; it will run again in a minute")


async def stop(ctx: AppContext) -> None:
    ctx.links.close()
