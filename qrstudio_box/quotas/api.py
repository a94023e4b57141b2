"""Usage and credit packs over HTTP: GET /api/v1/usage/, the admin usage and credits routes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from ..accounts import service as accounts
from ..accounts.guards import admin_only
from ..accounts.schemas import User
from ..clock import iso_s
from ..context import AppContext
from ..db import Tx
from ..errors import ApiError
from ..params import RowId
from . import rules, service, store

UserRequest = Request[User, object, object]
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
    summary="The caller's generations, credits and scans this month",
)
async def my_usage(request: UserRequest, ctx: AppContext) -> service.Usage:
    return await ctx.quotas.usage(request.user)


class AdminQuotaController(Controller):
    path = "/api/v1/admin/users"
    guards = [admin_only]
    tags = ["admin", "quotas"]

    @get("/{user_id:int}/usage/", summary="A user's generations, credits and scans this month")
    async def usage(self, user_id: RowId, ctx: AppContext) -> service.Usage:
        return await ctx.quotas.usage(await user_or_404(ctx, user_id))

    @get(
        "/{user_id:int}/credits/",
        summary="A user's credit packs of one month (default: this month)",
    )
    async def grants(
        self,
        user_id: RowId,
        ctx: AppContext,
        period: Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] = None,
    ) -> CreditGrantList:
        user = await user_or_404(ctx, user_id)
        period = period or rules.period_of(ctx.clock.now())
        rows = await ctx.db.read(store.credit_grants, user.id, period)
        return CreditGrantList(
            owner_id=user.id, period=period, results=[CreditGrant(**row) for row in rows]
        )

    @post(
        "/{user_id:int}/credits/",
        status_code=201,
        summary="Grant a credit pack for the current month",
    )
    async def grant(
        self, user_id: RowId, data: CreditGrantIn, request: UserRequest, ctx: AppContext
    ) -> CreditGrantOut:
        user = await user_or_404(ctx, user_id)
        now = ctx.clock.now()

        def write(tx: Tx) -> tuple[int, str]:
            grant_id, period, _ = service.grant_credits(
                tx, user.id, data.amount, data.note, request.user.id, now
            )
            return grant_id, period

        grant_id, period = await ctx.db.write(write)
        return CreditGrantOut(
            id=grant_id,
            owner_id=user.id,
            period=period,
            amount=data.amount,
            note=data.note,
            granted_by=request.user.id,
            created_at=iso_s(now),
            usage=await ctx.quotas.usage(user),
        )


async def user_or_404(ctx: AppContext, user_id: int) -> User:
    user = await ctx.db.read(accounts.get_user, user_id)
    if user is None:
        raise ApiError(404, "No user with that id")
    return user
