"""The dashboard: scans, top QRs, the usage meter, webhook health."""

from __future__ import annotations

from litestar import Request, get

from . import sources
from .ui import app_ctx, current_workspace, page


@get("/")
async def dashboard(request: Request) -> object:
    ctx = app_ctx(request)
    data = await sources.dashboard(ctx, current_workspace(request))
    return page(request, "dashboard.html", nav="dashboard", **data)


ROUTES = [dashboard]
