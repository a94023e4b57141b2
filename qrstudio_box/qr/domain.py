"""QR codes: rendering (through ctx.renders, the render pool), POST /api/v1/generate/ and a
dynamic QR's image."""

from __future__ import annotations

from ..context import AppContext
from .api import dynamic_qr_image, generate
from .pool import RenderPool

ROUTES = [generate, dynamic_qr_image]


async def start(ctx: AppContext) -> None:
    # A test may have put its own pool (its own renderer) on ctx before the app started.
    if ctx.renders is None:
        ctx.renders = RenderPool(ctx.settings.qr.render_concurrency)


async def stop(ctx: AppContext) -> None:
    if ctx.renders is not None:
        ctx.renders.close()
