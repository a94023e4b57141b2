"""The dashboard: scans, top QRs, the usage meter, webhook health."""

from __future__ import annotations

from litestar import Request, get

from . import sources
from .ui import app_ctx, current_workspace, page


@get("/")
async def dashboard(request: Request) -> object:
    ctx = app_ctx(request)
    caller = current_workspace(request)
    data = await sources.dashboard(ctx, caller)
    contact = await sources.plan_contact(ctx, caller)
    return page(request, "dashboard.html", nav="dashboard", plan_contact=contact, **data)


ROUTES = [dashboard]
