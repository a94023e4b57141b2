"""Dynamic QRs, variants, the redirect and scan tracking."""

from __future__ import annotations

from ..context import AppContext
from .api import DynamicQrController, redirect, redirect_head
from .service import LinksService

ROUTES = [DynamicQrController, redirect, redirect_head]


async def start(ctx: AppContext) -> None:
    ctx.links = LinksService(ctx)
    await ctx.links.load()  # every QR into the redirect cache: no query per scan


async def stop(ctx: AppContext) -> None:
    if ctx.links is not None:
        ctx.links.close()
