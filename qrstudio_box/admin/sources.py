"""Read models for the pages, built ONLY from the domains' own service functions.

The links, webhooks and quotas domains own their rules and SQL; this module calls them and
shapes plain dicts for templates. Every domain is running while the app serves pages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from ..accounts import store as accounts_store
from ..errors import ApiError, plain_words
from ..links import service as links
from ..links import store as links_store
from ..quotas import service as quotas
from ..quotas.api import CreditGrantIn, workspace_or_404
from ..webhooks import service as webhooks
from ..webhooks.policy import plan_has_webhooks
from ..workspaces import service as workspaces
from . import charts


async def dashboard(ctx: Any, caller: Any) -> dict[str, Any]:
    """The current workspace's dashboard (`caller`: workspaces.schemas.Caller)."""
    days = await links.owner_scans_per_day(ctx, caller.owner_id, 30)
    points = [(d.date, float(d.scans)) for d in days]
    top = await links.top_qrs(ctx, caller.owner_id, 5)
    top_qrs = [
        {"short_id": q.short_id, "name": q.name, "scans": q.scan_count} for q in top if q.scan_count
    ]
    qr_count = await ctx.db.read(links_store.count_live_qrs, caller.owner_id)
    values = [v for _, v in points]
    scans = {"today": int(values[-1]), "d7": int(sum(values[-7:])), "d30": int(sum(values))}
    return {
        "scans": scans,
        "chart": charts.responsive_chart(points, title="Scans per day, last 30 days"),
        "has_scans": scans["d30"] > 0,
        "top_qrs": top_qrs,
        "qr_count": qr_count,
        "usage": await usage_for(ctx, caller),
        "webhook_health": await webhook_health(ctx, caller),
    }


async def webhook_health(
    ctx: Any, caller: Any, with_failures: bool = True
) -> dict[str, Any] | None:
    """Counts by status and (`with_failures`) the latest failed attempts across the
    workspace's webhooks; None when its plan has no webhooks."""
    if not plan_has_webhooks(ctx.settings, caller.plan):
        return None
    hooks = await webhooks.list_webhooks(ctx, caller)
    counts = {"active": 0, "degraded": 0, "disabled": 0}
    for hook in hooks:
        counts[hook.status] = counts.get(hook.status, 0) + 1
    failures: list[dict[str, Any]] = []
    for hook in hooks if with_failures else []:
        if hook.last_failure_at is None:
            continue
        page = await webhooks.list_deliveries(ctx, caller, hook.id, outcome="failed", limit=5)
        failures += [
            {
                "webhook_id": hook.id,
                "url": hook.url,
                "event": a.event,
                "response_status": a.response_status,
                "error": a.error,
                "created_at": a.created_at,
            }
            for a in page.results
        ]
    failures.sort(key=lambda f: f["created_at"], reverse=True)
    return {**counts, "total": len(hooks), "recent_failures": failures[:5]}


async def usage_for(ctx: Any, workspace: Any) -> dict[str, Any]:
    """The workspace's month for the meter, from the quotas service (`workspace`: a Caller)."""
    usage = await ctx.quotas.usage(workspace)
    year, month = usage.period.split("-")
    return {
        "period": usage.period,
        "period_label": f"{date(int(year), int(month), 1):%B %Y}",
        "used": usage.used,
        "limit": usage.limit,
        "monthly_quota": usage.monthly_quota,
        "credits": usage.credits,
        "remaining": usage.remaining,
        "percent": usage.percent,
        "thresholds_fired": usage.thresholds_fired,
        "scans": usage.scans_this_month,
        "resets_at": usage.resets_at,
        "plan": usage.plan,
    }


async def workspace_summary(ctx: Any, workspace_id: int) -> dict[str, Any]:
    """One row of the admins' Workspaces page: the month's usage (generations and scans), the
    live QRs, and webhook health when the plan has webhooks."""
    workspace = await ctx.db.read(workspaces.workspace_as_caller, workspace_id)
    health = await webhook_health(ctx, workspace, with_failures=False)
    return {
        "usage": await usage_for(ctx, workspace),
        "qr_count": await ctx.db.read(links_store.count_live_qrs, workspace_id),
        "webhooks": health,
    }


async def plan_contact(ctx: Any, caller: Any) -> dict[str, Any]:
    """Who changes this workspace's plan, for the pages that say a plan falls short (issue 16
    point 7): the signed-in admin themself (on the Workspaces page), else the first admin."""
    if caller.is_admin:
        return {"admin": True, "email": None, "workspace_id": caller.workspace_id}
    row = await ctx.db.read(accounts_store.first_admin_id)
    admin = await ctx.db.read(accounts_store.get_user, row) if row is not None else None
    return {"admin": False, "email": admin["email"] if admin else None, "workspace_id": None}


async def personal_usage(ctx: Any, user_id: int) -> dict[str, Any] | None:
    """The month of a user's personal workspace (None: they have none), for the users pages."""
    workspace = await ctx.db.read(workspaces.personal_workspace_as_caller, user_id)
    return None if workspace is None else await usage_for(ctx, workspace)


async def grant_credits(ctx: Any, workspace_id: int, amount: int, note: str, admin: Any) -> None:
    """A credit pack for the workspace's current month, validated by the quotas API's own
    shape (`admin`: the signed-in accounts.schemas.User granting it)."""
    await workspace_or_404(ctx, workspace_id)  # else the foreign key would fail: a 500
    try:
        grant = msgspec.convert({"amount": amount, "note": note}, CreditGrantIn)
    except msgspec.ValidationError as error:
        field = "note" if "note" in str(error) else "amount"
        raise ApiError(400, f"{field}: {plain_words(str(error))}", field=field) from None
    await ctx.db.write(
        lambda tx: quotas.grant_credits(
            tx, workspace_id, grant.amount, grant.note, admin.id, tx.clock.now()
        )
    )
