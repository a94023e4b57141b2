"""The dashboard: scans, top QRs, the usage meter, webhook health."""

from __future__ import annotations

from litestar import Request, get

from . import sources
from .ui import app_ctx, current_user, page


@get("/")
async def dashboard(request: Request) -> object:
    ctx = app_ctx(request)
    user = current_user(request)
    data = await sources.dashboard(ctx, user)
    return page(request, "dashboard.html", nav="dashboard", **data)


ROUTES = [dashboard]
