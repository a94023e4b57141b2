"""The current workspace's usage this month: the meter, the numbers, the credit packs received."""

from __future__ import annotations

from litestar import Request, get

from ..quotas import store as quotas_store
from . import sources
from .ui import app_ctx, current_user, current_workspace, page


@get("/usage/", opt={"role": "owner"})
async def my_usage(request: Request) -> object:
    ctx = app_ctx(request)
    user = current_user(request)
    workspace = current_workspace(request)
    usage = await sources.usage_for(ctx, workspace)
    grants = (
        await ctx.db.read(quotas_store.credit_grants, workspace.owner_id, usage["period"])
        if usage
        else []
    )
    plan = ctx.settings.plan(workspace.plan)
    return page(
        request,
        "usage.html",
        nav="usage",
        usage=usage,
        grants=grants,
        plan=plan,
        user=user,
        plan_contact=await sources.plan_contact(ctx, workspace),
    )


ROUTES = [my_usage]
