"""Dynamic QRs, variants, the redirect and scan tracking."""

from __future__ import annotations

from litestar import Litestar

from ..context import AppContext
from . import fastpath
from .api import DynamicQrController, redirect, redirect_head
from .service import LinksService

ROUTES = [DynamicQrController, redirect, redirect_head]


def wrap_app(app: Litestar, ctx: AppContext, on_crash) -> None:
    """GET /r/{short_id} of a live QR is answered in front of Litestar's middleware and router
    (fastpath.py); ``redirect`` above stays the documented route and answers everything else."""
    fastpath.install(app, ctx, on_crash)


async def start(ctx: AppContext) -> None:
    ctx.links = LinksService(ctx)
    await ctx.links.load()  # every QR into the redirect cache: no query per scan


async def stop(ctx: AppContext) -> None:
    if ctx.links is not None:
        ctx.links.close()
