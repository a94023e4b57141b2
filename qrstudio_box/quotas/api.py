"""Usage and credit packs over HTTP: GET /api/v1/usage/, the admin usage and credits routes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from ..clock import iso_s
from ..context import AppContext
from ..db import Tx
from ..errors import ApiError
from ..params import RowId
from ..workspaces import service as workspaces
from ..workspaces.rules import ADMIN, needs
from ..workspaces.schemas import Caller
from . import rules, service, store

CallerRequest = Request[Caller, object, object]
# SQLite integers are 64-bit: a larger id is refused as bad input, not a 500 from the driver.


class CreditGrantIn(msgspec.Struct, forbid_unknown_fields=True):
    # Generations added to the user's current month (UTC).
    amount: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CreditGrantOut(msgspec.Struct):
    id: int
    owner_id: int
    period: str
    amount: int
    note: str
    granted_by: int | None
    created_at: str
    usage: service.Usage


class CreditGrant(msgspec.Struct):
    id: int
    amount: int
    note: str
    granted_by: int | None
    created_at: str


class CreditGrantList(msgspec.Struct):
    owner_id: int
    period: str
    results: list[CreditGrant]


@get(
    "/api/v1/usage/",
    tags=["quotas"],
    summary="The workspace's generations, credits and scans this month",
    opt=needs("owner", "read"),
)
async def my_usage(request: CallerRequest, ctx: AppContext) -> service.Usage:
    return await ctx.quotas.usage(request.user)


async def usage_of(ctx: AppContext, workspace: Caller) -> service.Usage:
    return await ctx.quotas.usage(workspace)


async def credit_grants_of(
    ctx: AppContext, workspace: Caller, period: str | None
) -> CreditGrantList:
    period = period or rules.period_of(ctx.clock.now())
    rows = await ctx.db.read(store.credit_grants, workspace.owner_id, period)
    return CreditGrantList(
        owner_id=workspace.owner_id, period=period, results=[CreditGrant(**row) for row in rows]
    )


async def grant_credits_to(
    ctx: AppContext, workspace: Caller, data: CreditGrantIn, granted_by: int | None
) -> CreditGrantOut:
    now = ctx.clock.now()

    def write(tx: Tx) -> tuple[int, str]:
        grant_id, period, _ = service.grant_credits(
            tx, workspace.owner_id, data.amount, data.note, granted_by, now
        )
        return grant_id, period

    grant_id, period = await ctx.db.write(write)
    return CreditGrantOut(
        id=grant_id,
        owner_id=workspace.owner_id,
        period=period,
        amount=data.amount,
        note=data.note,
        granted_by=granted_by,
        created_at=iso_s(now),
        usage=await ctx.quotas.usage(workspace),
    )


Period = Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class AdminQuotaController(Controller):
    """A user's usage and credits: those of their personal workspace (as before workspaces)."""

    path = "/api/v1/admin/users"
    opt = ADMIN
    tags = ["admin", "quotas"]

    @get("/{user_id:int}/usage/", summary="A user's personal workspace: usage this month")
    async def usage(self, user_id: RowId, ctx: AppContext) -> service.Usage:
        return await usage_of(ctx, await personal_workspace_or_404(ctx, user_id))

    @get(
        "/{user_id:int}/credits/",
        summary="A user's personal workspace: credit packs of one month (default: this month)",
    )
    async def grants(
        self, user_id: RowId, ctx: AppContext, period: Period = None
    ) -> CreditGrantList:
        return await credit_grants_of(ctx, await personal_workspace_or_404(ctx, user_id), period)

    @post(
        "/{user_id:int}/credits/",
        status_code=201,
        summary="Grant a user's personal workspace a credit pack for the current month",
    )
    async def grant(
        self, user_id: RowId, data: CreditGrantIn, request: CallerRequest, ctx: AppContext
    ) -> CreditGrantOut:
        workspace = await personal_workspace_or_404(ctx, user_id)
        return await grant_credits_to(ctx, workspace, data, request.user.user_id)


class AdminWorkspaceQuotaController(Controller):
    """A workspace's usage and credits, for the agency's admins."""

    path = "/api/v1/admin/workspaces"
    opt = ADMIN
    tags = ["admin", "quotas"]

    @get("/{workspace_id:int}/usage/", summary="A workspace's usage this month")
    async def usage(self, workspace_id: RowId, ctx: AppContext) -> service.Usage:
        return await usage_of(ctx, await workspace_or_404(ctx, workspace_id))

    @get("/{workspace_id:int}/credits/", summary="A workspace's credit packs of one month")
    async def grants(
        self, workspace_id: RowId, ctx: AppContext, period: Period = None
    ) -> CreditGrantList:
        return await credit_grants_of(ctx, await workspace_or_404(ctx, workspace_id), period)

    @post(
        "/{workspace_id:int}/credits/",
        status_code=201,
        summary="Grant a workspace a credit pack for the current month",
    )
    async def grant(
        self, workspace_id: RowId, data: CreditGrantIn, request: CallerRequest, ctx: AppContext
    ) -> CreditGrantOut:
        workspace = await workspace_or_404(ctx, workspace_id)
        return await grant_credits_to(ctx, workspace, data, request.user.user_id)


async def personal_workspace_or_404(ctx: AppContext, user_id: int) -> Caller:
    workspace = await ctx.db.read(workspaces.personal_workspace_as_caller, user_id)
    if workspace is None:  # no such user (one who joined through an invitation has none)
        raise ApiError(404, "No user with that id")
    return workspace


async def workspace_or_404(ctx: AppContext, workspace_id: int) -> Caller:
    workspace = await ctx.db.read(workspaces.workspace_as_caller, workspace_id)
    if workspace is None:
        raise ApiError(404, "No such workspace")
    return workspace
